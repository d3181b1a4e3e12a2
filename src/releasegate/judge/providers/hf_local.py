"""A local Hugging Face model as judge, through ``releasegate.backends.hf.HFBackend``.

The model (a local directory in ``judge.model``) is loaded on the first call, in
a worker thread; calls are serialised because one local model generates one
batch at a time. Greedy decoding (temperature 0); the verdict is parsed from the
text. A local judge has no price unless the config gives one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from releasegate.backends.base import Backend, GenerationParams, Prompt
from releasegate.benchmark.model import ChatMessage
from releasegate.config.judge import JudgeConfig
from releasegate.errors import ReleaseGateError
from releasegate.judge.providers.base import JudgeReply, JudgeRequest, ProviderCallError

BackendLoader = Callable[[str], Backend]


def _load_hf(ref: str) -> Backend:
    from releasegate.backends.hf import HFBackend

    return HFBackend.from_settings(ref)


class HFJudgeProvider:
    """Greedy generation with a local model; one call at a time."""

    name = "hf"

    def __init__(self, config: JudgeConfig, *, loader: BackendLoader = _load_hf) -> None:
        self._ref = config.model or ""
        self._loader = loader
        self._backend: Backend | None = None
        self._load_error: str | None = None
        self._lock = asyncio.Lock()
        self._calls = 0

    async def _ensure_backend(self) -> Backend:
        if self._load_error is not None:
            # Calls queued behind a failed load fail the same way instead of reloading.
            raise ProviderCallError(self._load_error, retryable=False, fatal=True)
        if self._backend is None:
            try:
                self._backend = await asyncio.to_thread(self._loader, self._ref)
            except ReleaseGateError as exc:
                self._load_error = f"cannot load the local judge model: {exc}"
                raise ProviderCallError(self._load_error, retryable=False, fatal=True) from exc
        return self._backend

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Generate one verdict (serialised with the other calls)."""
        async with self._lock:
            backend = await self._ensure_backend()
            self._calls += 1
            prompt = Prompt(
                sample_id=f"judge-{self._calls}",
                input=(
                    ChatMessage(role="system", content=request.system),
                    ChatMessage(role="user", content=request.user),
                ),
            )
            params = GenerationParams(max_new_tokens=request.max_tokens, temperature=0.0)
            generations = await asyncio.to_thread(backend.generate, [prompt], params)
        generation = generations[0]
        if generation.text is None:
            raise ProviderCallError(
                f"local judge generation failed: {generation.error}", retryable=False
            )
        return JudgeReply(
            text=generation.text,
            tokens_in=generation.tokens_in,
            tokens_out=generation.tokens_out,
        )

    async def aclose(self) -> None:
        """Drop the model reference (memory is freed by the garbage collector)."""
        self._backend = None


def create(config: JudgeConfig, api_key: str | None) -> HFJudgeProvider:
    """Registry factory (a local judge takes no key)."""
    del api_key
    return HFJudgeProvider(config)
