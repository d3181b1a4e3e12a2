"""Helpers shared by stages (not a stage): running the backend with the run's settings."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.backends.base import Backend, Generation, GenerationParams, Prompt
from releasegate.benchmark.model import ChatMessage, ToolFunction
from releasegate.config.schema import PipelineConfig
from releasegate.config.secrets import run_secrets
from releasegate.generate import run_generation
from releasegate.progress import Progress
from releasegate.store.generation_cache import GenerationCache


@dataclass(frozen=True)
class GenerationPass:
    """Which pass over the prompts this is: the draw, and what differs from the run's."""

    draw: int = 0
    """The draw index (0 .. ``generation.repeats`` - 1); its seed is :func:`draw_seed`."""
    batch_size: int | None = None
    """Overrides ``generation.batch_size`` (the determinism check runs one at a time)."""
    cache: bool = True
    """False: never served from, nor stored in, the generation cache."""


FIRST_PASS = GenerationPass()


def draw_seed(seed: int, draw: int) -> int:
    """The sampling seed of draw ``draw``: ``seed`` itself for draw 0, else a hash of both.

    A hash, not ``seed + draw``: runs with seeds 1234 and 1235 must not share draws.
    """
    if draw == 0:
        return seed
    digest = hashlib.sha256(f"releasegate-draw:{seed}:{draw}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def run_backend(
    backend: Backend,
    inputs: Sequence[tuple[str, str | tuple[ChatMessage, ...]]],
    *,
    config: PipelineConfig,
    progress: Progress,
    tools: Mapping[str, tuple[ToolFunction, ...]] | None = None,
    how: GenerationPass = FIRST_PASS,
) -> tuple[dict[str, Generation], float]:
    """Run the backend over (id, input) pairs with the config's decoding settings.

    ``tools`` gives each id's functions (sent natively when ``model.tool_calls`` is
    ``native``). Cacheable backends are served from, and write to, the generation cache
    (unless ``how.cache`` is off); ``how.draw`` picks the draw's seed and cache entry.
    """
    gen = config.generation
    prompts = [
        Prompt(
            sample_id=sid,
            input=text,
            system_prompt=config.model.system_prompt,
            tools=(tools or {}).get(sid, ()),
        )
        for sid, text in inputs
    ]
    params = GenerationParams(
        max_new_tokens=gen.max_new_tokens,
        temperature=gen.temperature,
        stop=tuple(gen.stop),
        batch_size=how.batch_size or gen.batch_size,
        seed=draw_seed(config.seed, how.draw),
        draw=how.draw,
    )
    cacheable = gen.cache and how.cache and backend.info().cacheable
    secrets = run_secrets(config, model_ref=backend.info().ref)
    path = default_generation_cache(config)
    cache = GenerationCache(path, secrets=secrets) if cacheable else None
    try:
        return run_generation(
            backend,
            prompts,
            params=params,
            max_output_chars=gen.max_output_chars,
            progress=progress,
            cache=cache,
        )
    finally:
        if cache is not None:
            cache.close()


def default_generation_cache(config: PipelineConfig) -> Path:
    """Where outputs of cacheable backends are stored: beside the run directories."""
    return Path(config.output.dir) / "generation_cache.sqlite"
