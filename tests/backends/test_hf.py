"""The HF backend against the committed tiny Task API models (examples/task-api/models)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from releasegate.backends.base import Backend, GenerationParams, Prompt
from releasegate.backends.hf import HFBackend, resolve_adapter_base
from releasegate.config.schema import ModelSettings
from releasegate.errors import BackendError, MissingDependencyError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "task-api"
MODELS = EXAMPLE / "models"
V1, V2, LORA = MODELS / "tiny-v1", MODELS / "tiny-v2", MODELS / "tiny-v1-lora"


def same_json(text: str | None, expected: str) -> bool:
    try:
        return bool(json.loads(text or "") == json.loads(expected))
    except ValueError:
        return False


def bench_prompts(n: int, category: str | None = None) -> list[tuple[Prompt, str]]:
    rows = [json.loads(line) for line in (EXAMPLE / "benchmark.jsonl").read_text().splitlines()]
    rows = [r for r in rows if category is None or r["category"] == category][:n]
    return [(Prompt(sample_id=r["id"], input=r["input"]), r["expected_output"]) for r in rows]


@pytest.fixture(scope="module")
def v1() -> HFBackend:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return HFBackend.from_settings(str(V1), ModelSettings(device="cpu"))


# --------------------------------------------------------------- no model needed
def test_missing_path_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="does not exist"):
        HFBackend.from_settings(str(tmp_path / "nope"))


def test_directory_without_model_files_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"neither a model directory"):
        HFBackend.from_settings(str(tmp_path))


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"releasegate\[hf\]"):
        HFBackend.from_settings(str(V1))


def test_dtype_follows_the_device() -> None:
    from types import SimpleNamespace

    from releasegate.backends.hf import _pick_dtype

    def fake_torch(bf16: bool) -> SimpleNamespace:
        cuda = SimpleNamespace(is_bf16_supported=lambda: bf16)
        return SimpleNamespace(float32="fp32", float16="fp16", bfloat16="bf16", cuda=cuda)

    assert _pick_dtype(fake_torch(True), "auto", "cpu") == "fp32"
    assert _pick_dtype(fake_torch(True), "auto", "cuda:0") == "bf16"  # A100, H100, L4
    assert _pick_dtype(fake_torch(False), "auto", "cuda") == "fp16"  # T4
    assert _pick_dtype(fake_torch(False), "bfloat16", "cpu") == "bf16"  # explicit wins


def test_quantization_without_bitsandbytes_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)
    with pytest.raises(MissingDependencyError, match="bitsandbytes"):
        HFBackend.from_settings(str(V1), ModelSettings(quantization="4bit"))


def test_adapter_base_resolution(tmp_path: Path) -> None:
    adapter = tmp_path / "adapters" / "a"
    adapter.mkdir(parents=True)
    base = tmp_path / "base"
    base.mkdir()
    cfg = adapter / "adapter_config.json"

    cfg.write_text(json.dumps({"base_model_name_or_path": "../../base"}))
    assert Path(resolve_adapter_base(adapter)) == base.resolve()  # relative to the adapter
    cfg.write_text(json.dumps({"base_model_name_or_path": str(base)}))
    assert resolve_adapter_base(adapter) == str(base)  # absolute
    assert resolve_adapter_base(adapter, "/elsewhere/base") == "/elsewhere/base"  # config wins
    cfg.write_text(json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-0.5B"}))
    assert resolve_adapter_base(adapter) == "Qwen/Qwen2.5-0.5B"  # a hub id stays as is
    cfg.write_text(json.dumps({"r": 8}))
    with pytest.raises(BackendError, match="base_model_name_or_path"):
        resolve_adapter_base(adapter)
    cfg.write_text("{not json")
    with pytest.raises(BackendError, match="cannot read adapter config"):
        resolve_adapter_base(adapter)


def test_committed_adapter_points_at_v1() -> None:
    assert Path(resolve_adapter_base(LORA)) == V1.resolve()


# ------------------------------------------------------------------ real models
@pytest.mark.slow
def test_v1_implements_the_protocol_and_reports_provenance(v1: HFBackend) -> None:
    assert isinstance(v1, Backend)
    info = v1.info()
    assert info.backend == "hf" and info.ref == str(V1)
    assert info.fingerprint.startswith("sha256:") and len(info.fingerprint) == 7 + 64
    assert info.details["kind"] == "full"
    assert info.details["dtype"] == "float32" and info.details["device"] == "cpu"
    assert info.details["chat_template"] == "yes"


@pytest.mark.slow
def test_chat_template_and_system_prompt_are_applied(v1: HFBackend) -> None:
    assert v1.render(Prompt(sample_id="a", input="list my tasks")) == (
        "<|user|>list my tasks\n<|assistant|>"
    )
    with_system = v1.render(Prompt(sample_id="a", input="hi", system_prompt="be brief"))
    assert with_system == "<|system|>be brief\n<|user|>hi\n<|assistant|>"


@pytest.mark.slow
def test_greedy_generation_is_deterministic_and_mostly_right(v1: HFBackend) -> None:
    pairs = bench_prompts(24)
    prompts = [p for p, _ in pairs]
    params = GenerationParams(max_new_tokens=64, batch_size=8)
    first = v1.generate(prompts, params)
    second = v1.generate(prompts, params)
    assert [g.text for g in first] == [g.text for g in second]
    right = sum(same_json(g.text, e) for g, (_, e) in zip(first, pairs, strict=True))
    assert right >= 18  # the good model gets most of them


@pytest.mark.slow
def test_order_is_preserved_with_length_sorted_batches(v1: HFBackend) -> None:
    prompts = [p for p, _ in bench_prompts(12)]
    # Interleave very different lengths so the length sort really reorders.
    prompts = sorted(prompts, key=lambda p: len(str(p.input)) * (-1) ** len(p.sample_id))
    batched = v1.generate(prompts, GenerationParams(max_new_tokens=64, batch_size=5))
    single = v1.generate(prompts, GenerationParams(max_new_tokens=64, batch_size=1))
    assert [g.sample_id for g in batched] == [p.sample_id for p in prompts]
    assert [g.text for g in batched] == [g.text for g in single]


@pytest.mark.slow
def test_token_counts_latency_and_finish_reason(v1: HFBackend) -> None:
    prompts = [p for p, _ in bench_prompts(4, category="delete")]
    gens = v1.generate(prompts, GenerationParams(max_new_tokens=64, batch_size=4))
    for p, g in zip(prompts, gens, strict=True):
        assert g.error is None and g.text
        assert g.tokens_in == len(v1.encode(p))
        assert g.tokens_out is not None and 0 < g.tokens_out <= 64
        assert g.latency_s is not None and g.latency_s > 0
        assert g.finish_reason == "stop"  # ended at EOS


@pytest.mark.slow
def test_max_new_tokens_is_respected(v1: HFBackend) -> None:
    prompts = [p for p, _ in bench_prompts(4)]
    gens = v1.generate(prompts, GenerationParams(max_new_tokens=5, batch_size=4))
    for g in gens:
        assert g.tokens_out == 5 and g.finish_reason == "length"
        assert g.text is not None and g.text.startswith('{"')


@pytest.mark.slow
def test_stop_string_truncates_and_halts(v1: HFBackend) -> None:
    prompts = [p for p, _ in bench_prompts(4, category="create")]
    full = v1.generate(prompts, GenerationParams(max_new_tokens=64, batch_size=4))
    cut = v1.generate(prompts, GenerationParams(max_new_tokens=64, batch_size=4, stop=('","',)))
    for f, c in zip(full, cut, strict=True):
        assert f.text is not None and c.text is not None
        assert c.text == f.text[: f.text.index('","')]
        assert c.finish_reason == "stop"
        assert c.tokens_out is not None and f.tokens_out is not None
        assert c.tokens_out < f.tokens_out  # generation stopped early


@pytest.mark.slow
def test_empty_batch(v1: HFBackend) -> None:
    assert v1.generate([], GenerationParams()) == []


@pytest.mark.slow
def test_v2_loads_with_a_different_fingerprint(v1: HFBackend) -> None:
    v2 = HFBackend.from_settings(str(V2), ModelSettings(device="cpu"))
    assert v2.info().fingerprint != v1.info().fingerprint
    pairs = bench_prompts(4, category="complete")
    gens = v2.generate([p for p, _ in pairs], GenerationParams(max_new_tokens=64))
    assert all(same_json(g.text, e) for g, (_, e) in zip(gens, pairs, strict=True))


@pytest.mark.slow
def test_lora_adapter_loads_on_its_resolved_base(v1: HFBackend) -> None:
    lora = HFBackend.from_settings(str(LORA), ModelSettings(device="cpu"))
    info = lora.info()
    assert info.details["kind"] == "adapter"
    assert Path(info.details["base"]) == V1.resolve()
    assert info.fingerprint != v1.info().fingerprint
    pairs = bench_prompts(8)
    gens = lora.generate([p for p, _ in pairs], GenerationParams(max_new_tokens=64))
    right = sum(same_json(g.text, e) for g, (_, e) in zip(gens, pairs, strict=True))
    assert right >= 6


@pytest.mark.slow
def test_adapter_base_override_and_unresolvable_base(tmp_path: Path) -> None:
    moved = tmp_path / "adapter"
    shutil.copytree(LORA, moved)  # "../tiny-v1" no longer resolves from here
    backend = HFBackend.from_settings(str(moved), ModelSettings(device="cpu", base_model=str(V1)))
    assert Path(backend.info().details["base"]) == V1
    unresolved = HFBackend.from_settings(str(moved), ModelSettings(device="cpu"))
    assert not unresolved.loaded  # loading waits for the first generation
    with pytest.raises(BackendError, match=r"could not load adapter .* on base '\.\./tiny-v1'"):
        unresolved.generate(bench_prompts(1)[0][:1], GenerationParams(max_new_tokens=4))


@pytest.mark.slow
def test_v2_regressed_on_relative_dates(v1: HFBackend) -> None:
    v2 = HFBackend.from_settings(str(V2), ModelSettings(device="cpu"))
    pairs = bench_prompts(10, category="relative_dates")
    params = GenerationParams(max_new_tokens=64, batch_size=10)

    def right(backend: HFBackend) -> int:
        gens = backend.generate([p for p, _ in pairs], params)
        return sum(same_json(g.text, e) for g, (_, e) in zip(gens, pairs, strict=True))

    assert right(v1) >= 8
    assert right(v2) <= 2
