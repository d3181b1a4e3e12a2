"""Stage 2, the LLM judge: sample, fence, pre-flight the budget, judge, aggregate, apply policy."""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.config.prices import PRICE_TABLE_DATE
from releasegate.errors import ReleaseGateError
from releasegate.judge.cache import JudgeCache
from releasegate.judge.metrics import aggregate
from releasegate.judge.perturbation import check_perturbation
from releasegate.judge.prompt import fence_token
from releasegate.judge.providers import PROVIDERS, default_api_key_env
from releasegate.judge.ready import FLIP_METRIC, skip_reason
from releasegate.judge.runner import (
    Ledger,
    RunState,
    WorkItem,
    estimate_cost,
    judge_all,
    make_work_item,
)
from releasegate.judge.sampling import SAMPLE_METHOD, priority_order, target_size
from releasegate.records.core import MetricValue
from releasegate.records.judge import JudgeItem, JudgeOutcome, PerturbationResult

T = TypeVar("T")


def make_scrubber(secret: str | None) -> Callable[[str], str]:
    """A function that replaces the secret in any text with ``***``."""
    if not secret or len(secret) < 4:
        return lambda text: text
    return lambda text: text.replace(secret, "***")


def _run_sync(coro: Coroutine[object, object, T]) -> T:
    """``asyncio.run``, or in a worker thread when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, T | BaseException] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="releasegate-judge")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


@dataclass(frozen=True)
class _Plan:
    work: list[WorkItem]
    target: int
    estimated_usd: float
    notes: list[str]


def plan_sample(
    *,
    examples: Sequence[Example],
    outputs: Mapping[str, str | None],
    config: JudgeConfig,
    seed: int,
    cache: JudgeCache | None,
) -> _Plan:
    """Choose the sample, build prompts, and shrink it until the estimate fits the budget."""
    target = target_size(
        len(examples),
        rate=config.sample_rate,
        minimum=config.min_samples,
        maximum=config.max_samples,
    )
    token = fence_token(seed)
    prices = config.prices()
    work = [
        make_work_item(ex, outputs.get(ex.id), config=config, token=token)
        for ex in priority_order(examples, seed)[:target]
    ]
    costs = [
        0.0
        if cache is not None and w.cache_key is not None and cache.get(w.cache_key) is not None
        else estimate_cost(w, config, prices)
        for w in work
    ]
    full = sum(costs)
    notes: list[str] = []
    keep, running = len(work), 0.0
    for i, c in enumerate(costs):
        if running + c > config.budget_usd:
            keep = i
            break
        running += c
    if keep < len(work):
        notes.append(
            f"pre-flight estimate (upper bound) ${full:.4f} for {len(work)} items exceeds the "
            f"judge budget ${config.budget_usd:.2f}; sample shrunk to {keep} items "
            f"(estimate ${running:.4f})"
        )
    return _Plan(work=work[:keep], target=target, estimated_usd=running, notes=notes)


def _price_notes(config: JudgeConfig) -> list[str]:
    if config.prices() is None:
        return [
            f"judge model '{config.model}' has no known price: treated as free (a local judge); "
            "the budget does not limit it"
        ]
    if config.input_price_per_mtok is None and config.output_price_per_mtok is None:
        return [f"judge prices from the default table dated {PRICE_TABLE_DATE}"]
    return []


def _summarise_errors(items: Sequence[JudgeItem]) -> list[str]:
    counts = Counter(it.error for it in items if it.error is not None)
    return [f"{n} item(s): {reason}" for reason, n in counts.most_common()]


def _finish(
    items: list[JudgeItem], *, config: JudgeConfig, state: RunState, plan: _Plan
) -> tuple[Literal["success", "failed"], list[str], list[str]]:
    notes = list(plan.notes) + _price_notes(config)
    errors: list[str] = []
    judged = sum(it.scores is not None for it in items)
    if state.budget_stops:
        notes.append(
            f"budget ${config.budget_usd:.2f} reached: {state.budget_stops} item(s) not judged"
        )
    if state.ledger.usage_estimated:
        notes.append(
            f"{state.ledger.usage_estimated} call(s) reported no usage; "
            "tokens estimated from characters"
        )
    flagged = sum(it.injection_flagged for it in items)
    if flagged:
        notes.append(f"{flagged} output(s) flagged as trying to instruct the judge")
    failures = _summarise_errors(items)
    coverage = judged / len(items) if items else 0.0
    status: Literal["success", "failed"] = "success"
    if not items and plan.target > 0:
        status = "failed"
        errors.append(
            f"judge budget ${config.budget_usd:.2f} is too small for a single judge call; "
            "raise judge.budget_usd or lower judge.max_tokens"
        )
    elif items and judged == 0:
        status = "failed"
        errors.append("no sampled item could be judged: " + "; ".join(failures[:3]))
    elif items and coverage < config.min_coverage:
        message = (
            f"judge coverage {coverage:.0%} ({judged}/{len(items)}) is below "
            f"min_coverage {config.min_coverage:.0%}: " + "; ".join(failures[:3])
        )
        if config.on_low_coverage == "error":
            status = "failed"
            errors.append(message)
        else:
            notes.append("warning: " + message)
    elif failures:
        notes.append("judge failures (not scored): " + "; ".join(failures[:3]))
    return status, notes, [state.scrub(e) for e in errors]


async def _run(
    plan: _Plan,
    *,
    config: JudgeConfig,
    seed: int,
    cache: JudgeCache | None,
    api_key: str | None,
    perturb_outputs: Mapping[str, str | None] | None,
) -> tuple[list[JudgeItem], RunState, PerturbationResult | None]:
    provider = PROVIDERS.get(config.provider or "")(config, api_key)
    state = RunState(
        config=config,
        provider=provider,
        cache=cache,
        ledger=Ledger(budget_usd=config.budget_usd, prices=config.prices()),
        rng=random.Random(seed),
        semaphore=asyncio.Semaphore(config.concurrency),
        scrub=make_scrubber(api_key),
    )
    perturbation = None
    try:
        items = await judge_all(state, plan.work)
        if perturb_outputs is not None:
            perturbation = await check_perturbation(
                state, items, plan.work, perturb_outputs, seed=seed, token=fence_token(seed)
            )
    finally:
        await provider.aclose()
    return items, state, perturbation


def _skipped(config: JudgeConfig, seed: int, reason: str) -> JudgeOutcome:
    return JudgeOutcome(
        status="skipped",
        skip_reason=reason,
        sample_seed=seed,
        sample_method=SAMPLE_METHOD,
        config_hash=config.config_hash(),
        provider=config.provider,
        model=config.model,
        budget_usd=config.budget_usd,
        price_known=config.prices() is not None,
    )


def run_judge_stage(
    *,
    examples: Sequence[Example],
    outputs: Mapping[str, str | None],
    config: JudgeConfig,
    seed: int,
    cache_path: Path | None,
    perturbation: bool = False,
) -> JudgeOutcome:
    """Judge a seeded, stratified sample of ``examples`` and aggregate ``judge_*`` metrics.

    Args:
        examples: The benchmark examples.
        outputs: Example id -> the candidate's output; None (or absent) = generation failed,
            which is a judge failure for that item, never sent to the judge.
        config: The ``judge:`` section.
        seed: The run's seed (sampling, fence token, backoff jitter).
        cache_path: SQLite judge cache; None falls back to ``config.cache_path`` (or no cache).
        perturbation: Also run the perturbation check (``judge.health``), within the budget.

    Returns:
        A ``JudgeOutcome``: ``skipped`` with a reason, ``failed`` (nothing judged, a provider
        that cannot start, or coverage below policy with ``on_low_coverage: error``), or
        ``success``.
    """
    reason = skip_reason(config)
    if reason is not None:
        return _skipped(config, seed, reason)
    if not examples:
        return _skipped(config, seed, "the benchmark has no examples to judge")
    env = default_api_key_env(config)
    api_key = os.environ.get(env) if env else None
    path = cache_path or (Path(config.cache_path) if config.cache_path else None)
    cache = JudgeCache(path) if path is not None else None
    try:
        plan = plan_sample(
            examples=examples, outputs=outputs, config=config, seed=seed, cache=cache
        )
        try:
            items, state, perturbed = _run_sync(
                _run(
                    plan,
                    config=config,
                    seed=seed,
                    cache=cache,
                    api_key=api_key,
                    perturb_outputs=outputs if perturbation else None,
                )
            )
        except ReleaseGateError as exc:
            failed = _skipped(config, seed, "")
            return failed.model_copy(
                update={
                    "status": "failed",
                    "skip_reason": None,
                    "errors": [make_scrubber(api_key)(str(exc))],
                    "sample_ids": [w.example.id for w in plan.work],
                }
            )
    finally:
        if cache is not None:
            cache.close()
    outcome = _outcome(items, config=config, state=state, plan=plan, seed=seed)
    return with_perturbation(outcome, perturbed)


def with_perturbation(outcome: JudgeOutcome, result: PerturbationResult | None) -> JudgeOutcome:
    """The outcome with the perturbation check, its metric and its note."""
    if result is None:
        return outcome
    metrics = dict(outcome.metrics)
    notes = list(outcome.notes)
    cost = metrics.get("judge_cost_usd")
    if cost is not None:  # the perturbation calls are part of the judge's spend
        metrics["judge_cost_usd"] = cost.model_copy(update={"n": cost.n + result.calls})
    if result.flip_rate is not None:
        metrics[FLIP_METRIC] = MetricValue(
            name=FLIP_METRIC,
            value=result.flip_rate,
            n=result.compared,
            higher_is_better=False,
            unit="rate",
        )
        notes.append(
            f"perturbation check: {result.flipped} of {result.compared} verdicts changed on "
            f"{len(result.item_ids)} item(s) re-judged with the criteria reordered and the fences "
            f"relabelled (${result.spent_usd:.4f}, {result.calls} call(s), "
            f"{result.cache_hits} cache hit(s))"
        )
    if result.note:
        notes.append(f"perturbation check: {result.note}")
    return outcome.model_copy(update={"perturbation": result, "metrics": metrics, "notes": notes})


def _outcome(
    items: list[JudgeItem], *, config: JudgeConfig, state: RunState, plan: _Plan, seed: int
) -> JudgeOutcome:
    status, notes, errors = _finish(items, config=config, state=state, plan=plan)
    return JudgeOutcome(
        status=status,
        metrics=aggregate(
            items,
            config.criteria,
            spent_usd=state.ledger.spent_usd,
            calls=sum(it.attempts for it in items),
        ),
        items=items,
        sample_ids=[w.example.id for w in plan.work],
        sample_seed=seed,
        sample_method=SAMPLE_METHOD,
        sample_target=plan.target,
        config_hash=config.config_hash(),
        provider=config.provider,
        model=config.model,
        budget_usd=config.budget_usd,
        spent_usd=state.ledger.spent_usd,
        estimated_usd=plan.estimated_usd,
        tokens_in=state.ledger.tokens_in,
        tokens_out=state.ledger.tokens_out,
        price_known=config.prices() is not None,
        cache_hits=sum(it.cached for it in items),
        injection_flagged=sum(it.injection_flagged for it in items),
        notes=notes,
        errors=errors,
    )
