"""Helpers shared by stages (not a stage): running the backend with the run's settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from releasegate.backends.base import Backend, Generation, GenerationParams, Prompt
from releasegate.benchmark.model import ChatMessage, ToolFunction
from releasegate.config.schema import PipelineConfig
from releasegate.generate import run_generation
from releasegate.progress import Progress
from releasegate.redact import known_secrets
from releasegate.store.generation_cache import GenerationCache


def run_backend(
    backend: Backend,
    inputs: Sequence[tuple[str, str | tuple[ChatMessage, ...]]],
    *,
    config: PipelineConfig,
    progress: Progress,
    tools: Mapping[str, tuple[ToolFunction, ...]] | None = None,
) -> tuple[dict[str, Generation], float]:
    """Run the backend over (id, input) pairs with the config's decoding settings.

    ``tools`` gives each id's functions (sent natively when ``model.tool_calls`` is
    ``native``). Cacheable backends are served from, and write to, the generation cache.
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
        batch_size=gen.batch_size,
        seed=config.seed,
    )
    cacheable = gen.cache and backend.info().cacheable
    secrets = known_secrets(env_names=[config.model.api_key_env, config.judge.api_key_env])
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
