"""Single-request latency of a local model: a timed pass on a seeded sample.

A batched backend divides a batch's wall time among its examples, which says how
fast a benchmark runs, not how long one user waits. With
``generation.latency_sample: N`` the generation stage also sends N examples (a
seeded sample, the same N on every run with the same seed) to the model one at a
time, after ``generation.latency_warmup`` untimed requests (first-call set-up is not
latency), and reports ``latency_p50_s``, ``latency_p95_s`` and ``latency_p99_s``
(request to last token) and, where the backend can time its first token, the same
percentiles of ``ttft_p*_s`` (time to first token). Every request runs at
concurrency 1; the stage's notes say so beside the figures.

The pass always runs the model (never the generation cache): on a fully cached
re-run it is the one thing that loads the model. Backends that already time each
request (endpoints: ``ModelInfo.per_request_latency``) and backends without a model
(replay) are left alone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

import numpy as np

from releasegate.backends.base import Backend, Generation, GenerationParams, ModelInfo, Prompt
from releasegate.benchmark.model import Benchmark
from releasegate.config.schema import PipelineConfig
from releasegate.records.core import MetricValue

__all__ = [
    "LATENCY_PERCENTILES",
    "TimesFirstToken",
    "latency_pass",
    "percentile_metrics",
    "run_latency_pass",
    "times_requests",
]

LATENCY_PERCENTILES = (50, 95, 99)


@runtime_checkable
class TimesFirstToken(Protocol):
    """A backend that can time one request, first token included."""

    def generate_timed(self, prompt: Prompt, params: GenerationParams) -> Generation:
        """Generate for one prompt; ``latency_s`` and ``ttft_s`` are that request's."""
        ...


def percentile_metrics(prefix: str, seconds: Sequence[float]) -> dict[str, MetricValue]:
    """``<prefix>_p50_s``, ``_p95_s`` and ``_p99_s`` over ``seconds`` (empty: none)."""
    if not seconds:
        return {}
    values = np.percentile(np.array(seconds, dtype=float), LATENCY_PERCENTILES)
    return {
        f"{prefix}_p{q}_s": MetricValue(
            name=f"{prefix}_p{q}_s",
            value=float(v),
            n=len(seconds),
            higher_is_better=False,
            unit="seconds",
        )
        for q, v in zip(LATENCY_PERCENTILES, values, strict=True)
    }


def _one(backend: Backend, prompt: Prompt, params: GenerationParams) -> Generation:
    if isinstance(backend, TimesFirstToken):
        return backend.generate_timed(prompt, params)
    t0 = time.perf_counter()
    (gen,) = backend.generate([prompt], params)
    return replace(gen, latency_s=time.perf_counter() - t0)


def times_requests(info: ModelInfo, config: PipelineConfig) -> bool:
    """Whether a run reports per-request latency: an endpoint, or this pass on a model."""
    return info.per_request_latency or (info.cacheable and config.generation.latency_sample > 0)


def run_latency_pass(
    backend: Backend, benchmark: Benchmark, config: PipelineConfig, notes: list[str]
) -> dict[str, MetricValue]:
    """The generation stage's hook: the pass with the run's settings; notes appended."""
    gen = config.generation
    params = GenerationParams(
        max_new_tokens=gen.max_new_tokens,
        temperature=gen.temperature,
        stop=tuple(gen.stop),
        batch_size=1,
        seed=config.seed,
    )
    prompts = [
        Prompt(sample_id=e.id, input=e.input, system_prompt=config.model.system_prompt)
        for e in benchmark.examples
    ]
    metrics, pass_notes = latency_pass(
        backend,
        prompts,
        params,
        sample=gen.latency_sample,
        warmup=gen.latency_warmup,
        seed=config.seed,
    )
    notes.extend(pass_notes)
    return metrics


def latency_pass(
    backend: Backend,
    prompts: Sequence[Prompt],
    params: GenerationParams,
    *,
    sample: int,
    warmup: int,
    seed: int,
) -> tuple[dict[str, MetricValue], list[str]]:
    """Time ``sample`` seeded single requests after ``warmup`` untimed ones.

    Args:
        backend: The model under test.
        prompts: The benchmark's prompts; the sample is drawn from them.
        params: Decoding settings (the batch size is ignored: one request at a time).
        sample: How many requests to time; 0 turns the pass off.
        warmup: Untimed requests first (drawn from the same sample order).
        seed: Seeds the sample.

    Returns:
        The latency metrics and notes for the generation stage; nothing when the
        pass is off or does not apply to this backend.
    """
    info = backend.info()
    if sample <= 0 or not prompts or info.per_request_latency:
        return {}, []
    if not info.cacheable:  # a replay has no model to time
        return {}, [f"latency pass skipped: the {info.backend} backend runs no model"]
    rng = random.Random(seed)
    chosen = rng.sample(list(prompts), min(len(prompts), sample))
    single = replace(params, batch_size=1)
    for prompt in chosen[: max(0, warmup)]:
        _one(backend, prompt, single)
    timed = [_one(backend, p, single) for p in chosen]
    done = [g for g in timed if g.text is not None and g.latency_s is not None]
    metrics = percentile_metrics("latency", [g.latency_s for g in done if g.latency_s])
    metrics.update(percentile_metrics("ttft", [g.ttft_s for g in done if g.ttft_s is not None]))
    failed = len(timed) - len(done)
    note = (
        f"latency: {len(done)} single requests at concurrency 1 (seeded sample of "
        f"{len(chosen)}, {min(warmup, len(chosen))} warm-up request(s) excluded)"
        + (f"; {failed} failed and are not timed" if failed else "")
    )
    return metrics, [note]
