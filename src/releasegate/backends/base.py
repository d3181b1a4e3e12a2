"""The backend contract: one method, batch in, ordered batch out.

Retries, caching, batching policy, timing and the error budget live in
``releasegate.generate``; a backend only turns prompts into generations.
Backends never import scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from releasegate.benchmark.model import ChatMessage, ToolFunction


@dataclass(frozen=True)
class Prompt:
    """What a backend receives for one example."""

    sample_id: str
    input: str | tuple[ChatMessage, ...]
    system_prompt: str | None = None
    """Optional system instruction from the config, prepended as a system turn."""
    tools: tuple[ToolFunction, ...] = ()
    """The example's functions, sent natively when ``model.tool_calls`` is ``native``."""


@dataclass(frozen=True)
class GenerationParams:
    """Decoding parameters shared by all backends."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    batch_size: int = 16
    seed: int = 0
    draw: int = 0
    """Which of ``generation.repeats`` draws this is (0 = the first); ``seed`` already
    differs per draw, the index only keys the generation cache."""


@dataclass(frozen=True)
class Generation:
    """One backend output, joined downstream on ``sample_id``.

    Exactly one of ``text`` and ``error`` is set: a failed generation is a typed
    failure, never an empty string.
    """

    sample_id: str
    text: str | None
    error: str | None = None
    finish_reason: str | None = None
    latency_s: float | None = None
    """Wall time attributable to this example (batch time / batch size for batched backends)."""
    tokens_in: int | None = None
    tokens_out: int | None = None
    ttft_s: float | None = None
    """Time to first token, where the backend streams."""
    inter_token_s: tuple[float, ...] = ()
    """Gaps between consecutive streamed chunks (one token each on vLLM, llama.cpp,
    TGI), where the backend streams."""
    tokens_source: str | None = None
    """How ``tokens_in``/``tokens_out`` were obtained (``server usage``, ``tokenizer``);
    None when they were not counted."""
    cached: bool = False
    """Served from the generation cache instead of the model."""


@dataclass(frozen=True)
class ModelInfo:
    """Provenance of the model under test, recorded in reports and baselines."""

    backend: str
    ref: str
    """What the user passed (path, URL, replay file)."""
    fingerprint: str
    """Content hash of the weights / adapter / replay file, or the served model name."""
    details: dict[str, str] = field(default_factory=dict)
    cacheable: bool = False
    """True when outputs are a function of ``fingerprint`` (a content hash) and the
    prompt and params, so they may be served from the generation cache."""
    per_request_latency: bool = False
    """True when each ``Generation.latency_s`` is one request's own wall time (endpoints),
    so latency percentiles mean something; batched backends divide a batch's time."""
    concurrency: int | None = None
    """Requests in flight at once while ``latency_s`` was measured (stated beside every
    latency figure: a p95 at concurrency 64 is not a p95 at concurrency 1)."""


@runtime_checkable
class Backend(Protocol):
    """A model that turns prompts into generations."""

    name: str

    def info(self) -> ModelInfo:
        """Describe the loaded model (cheap; called once per run)."""
        ...

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """Return one generation per prompt, in the same order."""
        ...


@runtime_checkable
class WindowedBackend(Protocol):
    """A backend that keeps its own window of requests in flight (endpoints).

    ``releasegate.generate`` hands it every prompt at once instead of batches, so
    ``generation.batch_size`` never caps its concurrency and no request waits for
    the slowest one of a batch.
    """

    name: str

    def generate_windowed(
        self,
        prompts: Sequence[Prompt],
        params: GenerationParams,
        on_done: Callable[[Generation], None],
    ) -> list[Generation]:
        """Return one generation per prompt, in order; call ``on_done`` as each finishes."""
        ...


def recorded_config(config: dict[str, Any], backend: object) -> dict[str, Any]:
    """The effective config as recorded for a run of ``backend``.

    A backend that names the ``model:`` settings it reads (``settings_used``) gets only
    those recorded, so an endpoint run never shows HF-only settings (``dtype``,
    ``quantization``...) as if they applied.
    """
    used = getattr(backend, "settings_used", None)
    model = config.get("model")
    if not isinstance(used, frozenset) or not isinstance(model, dict):
        return config
    return {**config, "model": {k: v for k, v in model.items() if k in used}}


@runtime_checkable
class ReportsNotes(Protocol):
    """A backend with something to tell the report once the run is over."""

    def notes(self) -> list[str]:
        """Warnings for the report (e.g. replay rows that matched no example)."""
        ...
