"""Run a backend over prompts: batching, contract checks, timing and size caps.

Backends stay thin (one ``generate`` method); everything around the call lives here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from releasegate.backends.base import (
    Backend,
    Generation,
    GenerationParams,
    Prompt,
    WindowedBackend,
)
from releasegate.errors import BackendError
from releasegate.progress import NullProgress, Progress
from releasegate.store.generation_cache import GenerationCache, generation_key

STEP = "generate"


def run_generation(
    backend: Backend,
    prompts: Sequence[Prompt],
    *,
    params: GenerationParams,
    max_output_chars: int,
    progress: Progress | None = None,
    cache: GenerationCache | None = None,
) -> tuple[dict[str, Generation], float]:
    """Generate for every prompt; return outputs by sample id and the wall time.

    Prompts go to the backend in batches of ``params.batch_size``, longest input first
    (outputs are joined on ``sample_id``, so order never matters downstream); a
    ``WindowedBackend`` (an endpoint) gets them all at once and keeps its own window
    of requests in flight. With a
    ``cache`` and a cacheable backend, stored outputs are served first and every
    finished batch is stored at once, so an interrupted run resumes where it stopped.

    Outputs longer than ``max_output_chars`` are cut (their ``finish_reason`` becomes
    ``truncated_by_releasegate``): model outputs are untrusted and size-capped.

    Raises:
        BackendError: the backend broke the one-output-per-prompt contract.
    """
    progress = progress or NullProgress()
    progress.start(STEP, total=len(prompts))
    info = backend.info()
    if cache is not None and not info.cacheable:
        cache = None
    keys = {p.sample_id: generation_key(info, p, params) for p in prompts} if cache else {}
    results: dict[str, Generation] = {}
    todo: list[Prompt] = []
    for prompt in prompts:
        hit = cache.get(keys[prompt.sample_id], sample_id=prompt.sample_id) if cache else None
        if hit is None:
            todo.append(prompt)
        else:
            results[prompt.sample_id] = _capped(hit, max_output_chars)
    progress.advance(STEP, len(results))
    started = time.perf_counter()
    # Longest first, across the whole benchmark: batches of similar length waste
    # little padding, and an out-of-memory shows up in the first batch, not the last.
    ordered = sorted(todo, key=_prompt_chars, reverse=True)
    for outputs in _chunks(backend, ordered, params, progress):
        if cache is not None:
            cache.put_many([(keys[g.sample_id], g) for g in outputs])
        results.update({g.sample_id: _capped(g, max_output_chars) for g in outputs})
    wall = time.perf_counter() - started
    progress.finish(STEP, note=f"{len(prompts) - len(todo)} from cache" if cache else "")
    return results, wall


def _chunks(
    backend: Backend, ordered: list[Prompt], params: GenerationParams, progress: Progress
) -> Iterator[list[Generation]]:
    """Outputs batch by batch, or all at once from a backend with its own window."""
    if isinstance(backend, WindowedBackend):
        # model.concurrency requests stay in flight across all prompts; batch_size
        # never caps them and no request waits for the slowest of a batch.
        outputs = backend.generate_windowed(
            ordered, params, on_done=lambda _: progress.advance(STEP, 1)
        )
        _check_contract(backend, ordered, outputs)
        yield outputs
        return
    for offset in range(0, len(ordered), params.batch_size):
        batch = ordered[offset : offset + params.batch_size]
        yield _run_batch(backend, batch, params)
        progress.advance(STEP, len(batch))


def _run_batch(backend: Backend, batch: list[Prompt], params: GenerationParams) -> list[Generation]:
    t0 = time.perf_counter()
    outputs = backend.generate(batch, params)
    share = (time.perf_counter() - t0) / len(batch)
    _check_contract(backend, batch, outputs)
    return [
        replace(g, latency_s=share) if g.latency_s is None and g.text is not None else g
        for g in outputs
    ]


def _capped(generation: Generation, max_output_chars: int) -> Generation:
    if generation.text is None or len(generation.text) <= max_output_chars:
        return generation
    return replace(
        generation,
        text=generation.text[:max_output_chars],
        finish_reason="truncated_by_releasegate",
    )


def _prompt_chars(prompt: Prompt) -> int:
    if isinstance(prompt.input, str):
        return len(prompt.input)
    return sum(len(m.content) for m in prompt.input)


def _check_contract(backend: Backend, batch: list[Prompt], outputs: list[Generation]) -> None:
    if len(outputs) != len(batch):
        raise BackendError(
            f"{backend.name} backend returned {len(outputs)} outputs for {len(batch)} prompts"
        )
    for prompt, generation in zip(batch, outputs, strict=True):
        if prompt.sample_id != generation.sample_id:
            raise BackendError(
                f"{backend.name} backend returned outputs out of order "
                f"({generation.sample_id!r} where {prompt.sample_id!r} was expected)"
            )
        if (generation.text is None) == (generation.error is None):
            raise BackendError(
                f"{backend.name} backend: example {prompt.sample_id!r} must have exactly one "
                "of text and error"
            )
