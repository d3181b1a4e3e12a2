"""The async judge runner: concurrency, retries with backoff, budget, cache.

Written once for every provider (a provider makes one call). Each item ends as
a verdict or as a judge error with its reason; nothing becomes a silent score.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.judge.cache import CachedReply, JudgeCache, cache_key
from releasegate.judge.injection import detect_injection
from releasegate.judge.prompt import (
    CANONICAL,
    JudgePrompt,
    PromptLayout,
    VerdictParseError,
    build_prompt,
    parse_verdict,
    verdict_schema,
)
from releasegate.judge.providers.base import (
    JudgeProvider,
    JudgeReply,
    JudgeRequest,
    ProviderCallError,
)
from releasegate.records.judge import JudgeItem

CHARS_PER_TOKEN_ESTIMATE = 4.0
"""Typical characters per token, for tokens a provider did not report."""
CHARS_PER_TOKEN_UPPER = 3.0
"""Pessimistic characters per token, for the pre-flight bound and the budget reservation."""


@dataclass(frozen=True)
class WorkItem:
    """A sampled example ready to judge (``prompt`` is None when there is no output)."""

    example: Example
    prompt: JudgePrompt | None
    cache_key: str | None
    injection_reason: str | None

    @property
    def prompt_chars(self) -> int:
        """Characters sent to the judge for this item."""
        return len(self.prompt.system) + len(self.prompt.user) if self.prompt else 0


def make_work_item(
    ex: Example,
    output: str | None,
    *,
    config: JudgeConfig,
    token: str,
    layout: PromptLayout = CANONICAL,
) -> WorkItem:
    """The fenced prompt and cache key for one item (another layout is another cache key)."""
    if output is None:
        return WorkItem(example=ex, prompt=None, cache_key=None, injection_reason=None)
    prompt = build_prompt(
        input_text=ex.input_text,
        reference=ex.expected_output,
        output=output,
        config=config,
        token=token,
        layout=layout,
    )
    reason = detect_injection(output, fence_token=token)
    key = cache_key(
        provider=config.provider or "",
        model=config.model or "",
        base_url=config.base_url,
        config_hash=config.config_hash(),
        system=prompt.system,
        user=prompt.user,
    )
    return WorkItem(example=ex, prompt=prompt, cache_key=key, injection_reason=reason)


def upper_cost(prompt_chars: int, config: JudgeConfig, prices: tuple[float, float] | None) -> float:
    """Upper bound of one call's cost: prompt at 3 characters per token, a full-length reply.

    The pre-flight estimate and the budget reservation both use it, so a sample
    that passed the pre-flight is not cut short by the hard stop unless the
    provider counts more tokens than the bound.
    """
    if prices is None:
        return 0.0
    tokens_in = math.ceil(prompt_chars / CHARS_PER_TOKEN_UPPER)
    return (tokens_in * prices[0] + config.max_tokens * prices[1]) / 1e6


def estimate_cost(item: WorkItem, config: JudgeConfig, prices: tuple[float, float] | None) -> float:
    """Pre-flight cost bound of judging one item (0 for a missing output or a free judge)."""
    return upper_cost(item.prompt_chars, config, prices) if item.prompt is not None else 0.0


@dataclass
class Ledger:
    """Spend so far plus reservations for calls in flight; never above the budget."""

    budget_usd: float
    prices: tuple[float, float] | None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    usage_estimated: int = 0
    """Calls whose usage the provider did not report (tokens estimated from characters)."""

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """USD for a call's usage at the configured prices."""
        if self.prices is None:
            return 0.0
        return (tokens_in * self.prices[0] + tokens_out * self.prices[1]) / 1e6

    def reserve(self, prompt_chars: int, config: JudgeConfig) -> float | None:
        """Reserve the upper bound of one call; None when it would break the budget."""
        worst = upper_cost(prompt_chars, config, self.prices)
        if self.prices is not None and self.spent_usd + self.reserved_usd + worst > self.budget_usd:
            return None
        self.reserved_usd += worst
        return worst

    def settle(self, reservation: float, *, reply: JudgeReply | None, prompt_chars: int) -> float:
        """Release a reservation and book the actual usage (None: the call failed, $0)."""
        self.reserved_usd = max(0.0, self.reserved_usd - reservation)
        if reply is None:
            return 0.0
        tokens_in, tokens_out = reply.tokens_in, reply.tokens_out
        if tokens_in is None or tokens_out is None:
            self.usage_estimated += 1
            tokens_in = math.ceil(prompt_chars / CHARS_PER_TOKEN_ESTIMATE)
            tokens_out = math.ceil(len(reply.text) / CHARS_PER_TOKEN_ESTIMATE)
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        spent = self.cost(tokens_in, tokens_out)
        self.spent_usd += spent
        return spent


@dataclass
class RunState:
    """Shared state of one run of the runner."""

    config: JudgeConfig
    provider: JudgeProvider
    cache: JudgeCache | None
    ledger: Ledger
    rng: random.Random
    semaphore: asyncio.Semaphore
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    fatal: str | None = None
    budget_stops: int = 0
    scrub: Callable[[str], str] = field(default=lambda s: s)
    """Removes secrets from any text that goes into a record."""

    def backoff(self, retry: int, retry_after_s: float | None) -> float:
        """Exponential backoff with jitter; a server's Retry-After is a floor."""
        cfg = self.config
        delay: float = min(cfg.backoff_max_s, cfg.backoff_base_s * 2.0 ** (retry - 1))
        delay *= 0.5 + self.rng.random() / 2
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        return min(delay, cfg.backoff_max_s)


@dataclass
class _Attempts:
    calls: int = 0
    transient: int = 0
    unparsed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0


def _base_item(w: WorkItem) -> dict[str, object]:
    return {
        "id": w.example.id,
        "category": w.example.category,
        "injection_flagged": w.injection_reason is not None,
        "injection_reason": w.injection_reason,
        "truncated": bool(w.prompt and w.prompt.truncated),
    }


def _cached_item(state: RunState, w: WorkItem) -> JudgeItem | None:
    if state.cache is None or w.cache_key is None:
        return None
    hit = state.cache.get(w.cache_key)
    if hit is None:
        return None
    try:
        scores, rationale = parse_verdict(hit.reply, state.config.criteria)
    except VerdictParseError:
        return None
    return JudgeItem(
        **_base_item(w),
        scores=scores,
        rationale=rationale,
        cached=True,
        tokens_in=hit.tokens_in or 0,
        tokens_out=hit.tokens_out or 0,
    )


def _failed(w: WorkItem, a: _Attempts, error: str) -> JudgeItem:
    return JudgeItem(
        **_base_item(w),
        error=error,
        attempts=a.calls,
        tokens_in=a.tokens_in,
        tokens_out=a.tokens_out,
        cost_usd=a.cost,
    )


async def _call(
    state: RunState, prompt: JudgePrompt, a: _Attempts
) -> JudgeReply | ProviderCallError:
    request = JudgeRequest(
        system=prompt.system,
        user=prompt.user,
        schema=verdict_schema(
            tuple(reversed(state.config.criteria))
            if prompt.reverse_criteria
            else state.config.criteria
        ),
        max_tokens=state.config.max_tokens,
        timeout_s=state.config.timeout_s,
    )
    a.calls += 1
    try:
        return await asyncio.wait_for(state.provider.complete(request), state.config.timeout_s)
    except asyncio.TimeoutError:
        return ProviderCallError("timeout", retryable=True)
    except ProviderCallError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - one item's surprise must not sink the others
        return ProviderCallError(
            f"unexpected {type(exc).__name__} from the provider", retryable=False
        )


async def _judge_called(state: RunState, w: WorkItem, prompt: JudgePrompt) -> JudgeItem:
    cfg, a = state.config, _Attempts()
    while True:
        if state.fatal is not None:
            return _failed(w, a, f"not judged: the judge stopped after an error ({state.fatal})")
        reservation = state.ledger.reserve(w.prompt_chars, cfg)
        if reservation is None:
            state.budget_stops += 1
            return _failed(w, a, f"not judged: budget of ${cfg.budget_usd:.2f} reached")
        result = await _call(state, prompt, a)
        if isinstance(result, ProviderCallError):
            state.ledger.settle(reservation, reply=None, prompt_chars=w.prompt_chars)
            message = state.scrub(str(result))
            if result.fatal:
                state.fatal = message
            if result.fatal or not result.retryable or a.transient >= cfg.max_retries:
                return _failed(w, a, f"judge call failed: {message} (after {a.calls} attempts)")
            a.transient += 1
            await state.sleep(state.backoff(a.transient, result.retry_after_s))
            continue
        reply = result
        a.cost += state.ledger.settle(reservation, reply=reply, prompt_chars=w.prompt_chars)
        a.tokens_in += reply.tokens_in or 0
        a.tokens_out += reply.tokens_out or 0
        try:
            scores, rationale = parse_verdict(reply.text, cfg.criteria)
        except VerdictParseError as exc:
            if a.unparsed >= cfg.max_parse_retries:
                return _failed(w, a, f"unparseable verdict after {a.calls} attempts: {exc}")
            a.unparsed += 1
            continue
        if state.cache is not None and w.cache_key is not None:
            state.cache.put(
                w.cache_key,
                model=cfg.model or "",
                reply=CachedReply(reply.text, reply.tokens_in, reply.tokens_out),
            )
        return JudgeItem(
            **_base_item(w),
            scores=scores,
            rationale=state.scrub(rationale),
            attempts=a.calls,
            tokens_in=a.tokens_in,
            tokens_out=a.tokens_out,
            cost_usd=a.cost,
        )


async def judge_one(state: RunState, w: WorkItem) -> JudgeItem:
    """Judge one item: missing output, cache hit, or calls under the semaphore."""
    if w.prompt is None:
        return _failed(w, _Attempts(), "no output to judge (generation missing or failed)")
    cached = _cached_item(state, w)
    if cached is not None:
        return cached
    async with state.semaphore:
        return await _judge_called(state, w, w.prompt)


async def judge_all(state: RunState, work: list[WorkItem]) -> list[JudgeItem]:
    """Judge every item concurrently (bounded by the semaphore); results in input order."""
    return list(await asyncio.gather(*(judge_one(state, w) for w in work)))
