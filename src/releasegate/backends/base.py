"""The backend contract: one method, batch in, ordered batch out.

Retries, caching, batching policy, timing and the error budget live in
``releasegate.generate``; a backend only turns prompts into generations.
Backends never import scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from releasegate.benchmark.model import ChatMessage


@dataclass(frozen=True)
class Prompt:
    """What a backend receives for one example."""

    sample_id: str
    input: str | tuple[ChatMessage, ...]
    system_prompt: str | None = None
    """Optional system instruction from the config, prepended as a system turn."""


@dataclass(frozen=True)
class GenerationParams:
    """Decoding parameters shared by all backends."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    batch_size: int = 16
    seed: int = 0


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
