"""Paths and comparisons shared by the real-engine tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from releasegate.backends.base import Generation, GenerationParams, Prompt
from releasegate.backends.openai_endpoint import OpenAIEndpointBackend
from releasegate.config.schema import ModelSettings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "task-api"
BENCHMARK = EXAMPLE / "benchmark.jsonl"
MODELS = EXAMPLE / "models"
V1, LORA = MODELS / "tiny-v1", MODELS / "tiny-v1-lora"

PLAIN = GenerationParams(max_new_tokens=64, batch_size=64)
"""The example config's decoding: greedy, 64 new tokens, no stop string."""
STOP = GenerationParams(max_new_tokens=64, batch_size=64, stop=(',"',))
"""The same with a stop string that cuts most answers after their first field."""

Reference = Callable[[Path, GenerationParams], dict[str, Generation]]
"""``hf_reference(model, params)``: the HF backend's outputs by example id."""


def assert_same_outputs(got: list[Generation], want: dict[str, Generation]) -> None:
    """Same ids in order, no failures, identical text, finish reason and token counts."""
    assert [g.sample_id for g in got] == list(want), "ids or order differ"
    failed = [g for g in got if g.error is not None]
    assert not failed, f"{len(failed)} failed generations, e.g. {failed[0]}"
    diffs = [
        (g.sample_id, g.text, want[g.sample_id].text, g.finish_reason)
        for g in got
        if g.text != want[g.sample_id].text or g.finish_reason != want[g.sample_id].finish_reason
    ]
    assert not diffs, f"{len(diffs)} of {len(got)} outputs differ from HF, e.g. {diffs[:3]}"
    counts = [
        (g.sample_id, (g.tokens_in, g.tokens_out), (w.tokens_in, w.tokens_out))
        for g in got
        if (g.tokens_in, g.tokens_out) != ((w := want[g.sample_id]).tokens_in, w.tokens_out)
    ]
    assert not counts, f"{len(counts)} token counts (in, out) differ, e.g. {counts[:3]}"


def endpoint_outputs(
    url: str, name: str, prompts: list[Prompt], params: GenerationParams
) -> list[Generation]:
    """``prompts`` through releasegate's endpoint backend, 16 requests in flight."""
    settings = ModelSettings(model_name=name, concurrency=16, timeout_s=120.0, max_retries=0)
    return OpenAIEndpointBackend.from_settings(url, settings).generate(prompts, params)
