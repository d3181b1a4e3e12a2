"""Prompt-lookup greedy decoding: the guesses, and token-for-token agreement with generate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.hf import HFBackend
from releasegate.backends.lookup_decoding import draft, lookup_greedy, unsupported_reason
from releasegate.config.schema import ModelSettings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "task-api"
V1 = EXAMPLE / "models" / "tiny-v1"


# ------------------------------------------------------------------------- guesses
def test_no_earlier_occurrence_guesses_nothing() -> None:
    assert draft([1, 2, 3, 4], 4) == []
    assert draft([7], 4) == []
    assert draft([1, 2, 1], 0) == []


def test_the_longest_suffix_wins_at_its_most_recent_place() -> None:
    # "2 3" occurs at 1 (then 9) and at 5 (then 8): the most recent place, 5
    assert draft([1, 2, 3, 9, 0, 2, 3, 8, 5, 2, 3], 2) == [8, 5]
    # the 3-token suffix "5 2 3" beats the shorter "2 3" that occurs later
    assert draft([5, 2, 3, 4, 6, 2, 3, 7, 5, 2, 3], 1) == [4]


def test_a_repeating_pattern_is_copied_past_the_end() -> None:
    assert draft([9, 4, 4, 4], 5) == [4, 4, 4, 4, 4]
    assert draft([1, 2, 1, 2], 5) == [1, 2, 1, 2, 1]


# ------------------------------------------------------------------ which models
def _tiny_llama(tmp_path: Path, **overrides: Any) -> Path:
    """A random-weight Llama with the committed tokenizer (its greedy output repeats)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=1024,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
        **overrides,
    )
    target = tmp_path / "llama"
    transformers.LlamaForCausalLM(config).save_pretrained(target)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(V1 / name, target / name)
    return target


def test_a_plain_decoder_is_supported_and_logits_processing_is_not(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModelForCausalLM.from_pretrained(str(_tiny_llama(tmp_path)))
    assert unsupported_reason(model, transformers) is None
    model.generation_config.repetition_penalty = 1.1
    assert unsupported_reason(model, transformers) == (
        "its generation config sets repetition_penalty=1.1"
    )
    model.generation_config.repetition_penalty = 1.0
    model.generation_config.no_repeat_ngram_size = 3
    assert "no_repeat_ngram_size=3" in str(unsupported_reason(model, transformers))


def test_a_sliding_window_cache_falls_back_to_generate(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.MistralConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        sliding_window=8,
    )
    model = transformers.MistralForCausalLM(config)
    assert "sliding-window" in str(unsupported_reason(model, transformers))


# --------------------------------------------------------- agreement with generate
def _batch(torch: Any, rows: list[list[int]], pad: int) -> tuple[Any, Any]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r)
        mask[i, width - len(r) :] = 1
    return ids, mask


def test_the_loop_gives_generates_tokens_in_fewer_forward_passes(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.set_num_threads(1)
    path = _tiny_llama(tmp_path)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path)).eval()
    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    rows = [json.loads(line) for line in (EXAMPLE / "benchmark.jsonl").read_text().splitlines()]
    prompts = [tok(r["input"])["input_ids"] for r in rows[:8]]  # lengths differ: padding
    ids, mask = _batch(torch, prompts, pad=0)
    config = transformers.GenerationConfig(
        max_new_tokens=40, do_sample=False, eos_token_id=[1], pad_token_id=0
    )
    with torch.inference_mode():
        expected = model.generate(input_ids=ids, attention_mask=mask, generation_config=config)
        got = lookup_greedy(
            model, torch, transformers, ids, mask, max_new_tokens=40, eos_ids=[1], draft_tokens=6
        )
        width = ids.shape[1]
        for row, new in zip(expected[:, width:].tolist(), got, strict=True):
            end = next((i + 1 for i, t in enumerate(row) if t == 1), len(row))
            assert new == row[:end]
        # A batch ends with its slowest row; rows whose output repeats (0, 3 and 7 for
        # this seed) gain several tokens per pass.
        calls: list[int] = []
        model.register_forward_pre_hook(lambda module, args: calls.append(1))
        subset = [0, 3, 7]
        again = lookup_greedy(
            model,
            torch,
            transformers,
            *_batch(torch, [prompts[i] for i in subset], pad=0),
            max_new_tokens=40,
            eos_ids=[1],
            draft_tokens=6,
        )
    assert again == [got[i] for i in subset]
    assert len(calls) <= 30  # generate needs 40 passes for 40 tokens; measured 26


@pytest.fixture(scope="module")
def example_prompts() -> list[Prompt]:
    rows = [json.loads(line) for line in (EXAMPLE / "benchmark.jsonl").read_text().splitlines()]
    return [Prompt(sample_id=r["id"], input=r["input"]) for r in rows[:96]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "max_new_tokens", "batch_size"),
    [((), 64, 8), (("\n",), 64, 8), (('"title"',), 64, 8), ((), 7, 8), ((), 64, 64)],
)
def test_the_backend_matches_generate_on_the_trained_model(
    example_prompts: list[Prompt], stop: tuple[str, ...], max_new_tokens: int, batch_size: int
) -> None:
    """Batch 64 starts with no guesses (a full pass) and guesses once rows finish."""
    params = GenerationParams(max_new_tokens=max_new_tokens, stop=stop, batch_size=batch_size)
    outputs = {}
    for k in (0, 6):
        backend = HFBackend.from_settings(
            str(V1), ModelSettings(device="cpu", threads=1, prompt_lookup_tokens=k)
        )
        outputs[k] = [
            (g.text, g.tokens_out, g.finish_reason, g.error)
            for g in backend.generate(example_prompts, params)
        ]
        assert backend.notes() == []
        assert backend.info().details["prompt_lookup"] == str(k)
    assert outputs[6] == outputs[0]
    assert all(error is None for *_, error in outputs[6])


def test_a_model_the_loop_cannot_decode_uses_generate_and_says_so(
    tmp_path: Path, example_prompts: list[Prompt]
) -> None:
    path = _tiny_llama(tmp_path)
    config = json.loads((path / "generation_config.json").read_text())
    (path / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 1.3}))
    params = GenerationParams(max_new_tokens=12, batch_size=4)
    texts = {}
    for k in (0, 6):
        backend = HFBackend.from_settings(
            str(path), ModelSettings(device="cpu", threads=1, prompt_lookup_tokens=k)
        )
        texts[k] = [g.text for g in backend.generate(example_prompts[:4], params)]
        notes = backend.notes()
    assert notes == [
        "greedy decoding used model.generate, not the prompt-lookup loop "
        "(model.prompt_lookup_tokens): its generation config sets repetition_penalty=1.3"
    ]
    assert texts[6] == texts[0]
