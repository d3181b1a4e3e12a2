"""Run a backend over prompts: batching, contract checks, timing and size caps.

Backends stay thin (one ``generate`` method); everything around the call lives here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from releasegate.backends.base import Backend, Generation, GenerationParams, Prompt
from releasegate.errors import BackendError
from releasegate.progress import NullProgress, Progress

STEP = "generate"


def run_generation(
    backend: Backend,
    prompts: Sequence[Prompt],
    *,
    params: GenerationParams,
    max_output_chars: int,
    progress: Progress | None = None,
) -> tuple[dict[str, Generation], float]:
    """Generate for every prompt; return outputs by sample id and the wall time.

    Prompts go to the backend in batches of ``params.batch_size``, longest input first
    (outputs are joined on ``sample_id``, so order never matters downstream).

    Outputs longer than ``max_output_chars`` are cut (their ``finish_reason`` becomes
    ``truncated_by_releasegate``): model outputs are untrusted and size-capped.

    Raises:
        BackendError: the backend broke the one-output-per-prompt contract.
    """
    progress = progress or NullProgress()
    progress.start(STEP, total=len(prompts))
    results: dict[str, Generation] = {}
    started = time.perf_counter()
    # Longest first, across the whole benchmark: batches of similar length waste
    # little padding, and an out-of-memory shows up in the first batch, not the last.
    ordered = sorted(prompts, key=_prompt_chars, reverse=True)
    for offset in range(0, len(ordered), params.batch_size):
        batch = ordered[offset : offset + params.batch_size]
        t0 = time.perf_counter()
        outputs = backend.generate(batch, params)
        elapsed = time.perf_counter() - t0
        _check_contract(backend, batch, outputs)
        for generation in outputs:
            fixed = generation
            if fixed.latency_s is None and fixed.text is not None:
                fixed = replace(fixed, latency_s=elapsed / len(batch))
            if fixed.text is not None and len(fixed.text) > max_output_chars:
                fixed = replace(
                    fixed,
                    text=fixed.text[:max_output_chars],
                    finish_reason="truncated_by_releasegate",
                )
            results[fixed.sample_id] = fixed
        progress.advance(STEP, len(batch))
    wall = time.perf_counter() - started
    progress.finish(STEP)
    return results, wall


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
