"""Local speed: threads, fingerprinting without torch, lazy loading, the latency pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.backends import cpu_threads
from releasegate.backends.base import GenerationParams, ModelInfo, Prompt
from releasegate.backends.hf import HFBackend
from releasegate.backends.replay import ReplayBackend
from releasegate.config.schema import ModelSettings
from releasegate.latency_pass import latency_pass

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "task-api"
V1 = EXAMPLE / "models" / "tiny-v1"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "120"}


def prompts(n: int) -> list[Prompt]:
    rows = [json.loads(line) for line in (EXAMPLE / "benchmark.jsonl").read_text().splitlines()]
    return [Prompt(sample_id=r["id"], input=r["input"]) for r in rows[:n]]


# ------------------------------------------------------------------------ threads
def test_cgroup_quota_caps_the_usable_cores(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cpu_threads.cgroup_quota(tmp_path) == 1.5
    assert cpu_threads.usable_cores(tmp_path) == min(len(os.sched_getaffinity(0)), 2)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpu_threads.cgroup_quota(tmp_path) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert cpu_threads.usable_cores(tmp_path) == 1  # cgroup v1
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert cpu_threads.cgroup_quota(tmp_path) is None


def test_default_threads_leave_room_for_other_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_threads, "_affinity", lambda: 8)
    monkeypatch.setattr(cpu_threads.os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert cpu_threads.default_threads(Path("/nonexistent")) == 8
    monkeypatch.setattr(cpu_threads.os, "getloadavg", lambda: (2.6, 0.0, 0.0))
    assert cpu_threads.default_threads(Path("/nonexistent")) == 5
    monkeypatch.setattr(cpu_threads.os, "getloadavg", lambda: (40.0, 0.0, 0.0))
    assert cpu_threads.default_threads(Path("/nonexistent")) == 1  # never below one


@pytest.mark.slow
def test_the_threads_setting_is_honoured() -> None:
    code = (
        "import sys; from releasegate.backends.hf import HFBackend;"
        "from releasegate.backends.base import Prompt, GenerationParams;"
        "from releasegate.config.schema import ModelSettings;"
        f"b = HFBackend.from_settings({str(V1)!r}, ModelSettings(device='cpu', threads=3));"
        "b.generate([Prompt('a', 'list my tasks')], GenerationParams(max_new_tokens=2));"
        "import torch, os; print(torch.get_num_threads(), os.environ.get('OMP_WAIT_POLICY'))"
    )
    env = {k: v for k, v in ENV.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["3", "PASSIVE"]


# ----------------------------------------------------------- no torch until needed
def test_fingerprint_and_details_come_from_the_files_without_torch() -> None:
    code = (
        "import json, sys; from releasegate.backends.hf import HFBackend;"
        "from releasegate.config.schema import ModelSettings;"
        f"b = HFBackend.from_settings({str(V1)!r}, ModelSettings(device='cpu'));"
        "i = b.info();"
        "print(json.dumps([i.fingerprint, i.details, 'torch' in sys.modules, b.loaded]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True
    )
    fingerprint, details, torch_imported, loaded = json.loads(out.stdout)
    assert fingerprint.startswith("sha256:")
    assert not torch_imported and not loaded
    assert details["parameters"] == "935040"  # from the safetensors header
    assert details["architecture"] == "LlamaForCausalLM"
    assert details["dtype"] == "float32" and details["device"] == "cpu"
    assert details["chat_template"] == "yes"


@pytest.mark.slow
def test_a_fully_cached_rerun_never_loads_the_model(tmp_path: Path) -> None:
    bench = tmp_path / "bench.jsonl"
    lines = (EXAMPLE / "benchmark.jsonl").read_text().splitlines()[:12]
    bench.write_text("\n".join(lines) + "\n")
    config = tmp_path / "releasegate.yaml"
    config.write_text(
        "model: {device: cpu, threads: 1}\n"
        "generation: {max_new_tokens: 64, batch_size: 12}\n"
        f"metrics: {{schema_path: {EXAMPLE / 'schema.json'}}}\n"
        f"output: {{dir: {tmp_path / 'reports'}, baseline_path: null}}\n"
    )
    run = (
        "import sys; from releasegate.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        "from releasegate.backends.hf import HFBackend\n"
        "print('RESULT', code, 'torch' in sys.modules, HFBackend.loads, 'httpx' in sys.modules)\n"
    )
    args = ["run", "--model", str(V1), "--benchmark", str(bench), "--config", str(config)]
    results = []
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", run, *args],
            check=False,
            env=ENV,
            capture_output=True,
            text=True,
        )
        line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
        results.append(line.split()[1:])
    assert results[0][0] == results[1][0] in ("0", "1")  # the same decision, not ERROR
    assert results[0][1:3] == ["True", "1"]  # cold: the model loaded once
    # cached: torch never imported, nor the endpoint backend's HTTP client
    assert results[1][1:] == ["False", "0", "False"]


# ---------------------------------------------------------------- latency pass
@pytest.mark.slow
def test_latency_pass_reports_percentiles_and_time_to_first_token() -> None:
    backend = HFBackend.from_settings(str(V1), ModelSettings(device="cpu", threads=1))
    metrics, notes = latency_pass(
        backend, prompts(20), GenerationParams(max_new_tokens=64), sample=5, warmup=1, seed=3
    )
    assert set(metrics) == {f"{kind}_p{q}_s" for kind in ("latency", "ttft") for q in (50, 95, 99)}
    assert all(
        m.n == 5 and m.unit == "seconds" and not m.higher_is_better for m in metrics.values()
    )
    assert 0 < metrics["ttft_p50_s"].value < metrics["latency_p50_s"].value
    assert metrics["latency_p50_s"].value <= metrics["latency_p99_s"].value
    assert "concurrency 1" in notes[0] and "1 warm-up" in notes[0]


def test_latency_pass_is_off_by_default_and_skips_models_it_cannot_time(tmp_path: Path) -> None:
    replay = tmp_path / "replay.jsonl"
    replay.write_text('{"id": "a", "output": "{}"}\n')
    backend = ReplayBackend.from_settings(str(replay), ModelSettings())
    params = GenerationParams()
    assert latency_pass(backend, prompts(1), params, sample=0, warmup=1, seed=0) == ({}, [])
    metrics, notes = latency_pass(backend, prompts(1), params, sample=5, warmup=1, seed=0)
    assert metrics == {} and "runs no model" in notes[0]

    class Endpoint:
        name = "openai"

        def info(self) -> ModelInfo:
            return ModelInfo(backend="openai", ref="x", fingerprint="x", per_request_latency=True)

        def generate(self, prompts: object, params: object) -> list[object]:
            raise AssertionError("an endpoint times its own requests")

    assert latency_pass(Endpoint(), prompts(3), params, sample=2, warmup=0, seed=0) == ({}, [])  # type: ignore[arg-type]


# ------------------------------------------------- decoding matches plain generate
@pytest.mark.slow
@pytest.mark.parametrize("model", ["tiny-v1", "tiny-v1-lora"])
def test_batched_outputs_are_identical_to_plain_generate(model: str) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.set_num_threads(1)
    ref = EXAMPLE / "models" / model
    backend = HFBackend.from_settings(str(ref), ModelSettings(device="cpu", threads=1))
    batch = prompts(7)
    gens = backend.generate(batch, GenerationParams(max_new_tokens=64, batch_size=3))

    if model.endswith("lora"):
        import warnings

        from peft import PeftModel

        with warnings.catch_warnings():  # peft calls a transformers API marked deprecated
            warnings.simplefilter("ignore", FutureWarning)
            plain = PeftModel.from_pretrained(
                transformers.AutoModelForCausalLM.from_pretrained(str(V1)), str(ref)
            ).merge_and_unload()
    else:
        plain = transformers.AutoModelForCausalLM.from_pretrained(str(ref))
    tok = transformers.AutoTokenizer.from_pretrained(str(ref))
    for prompt, gen in zip(batch, gens, strict=True):
        text = tok.apply_chat_template(
            [{"role": "user", "content": prompt.input}], add_generation_prompt=True, tokenize=False
        )
        ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            out = plain.generate(ids, max_new_tokens=64, do_sample=False)
        expected = tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        assert gen.text == expected, prompt.sample_id


def test_latency_gates_are_plannable_on_a_local_model_with_the_pass_on() -> None:
    from releasegate.config.schema import PipelineConfig
    from releasegate.latency_pass import times_requests

    local = ModelInfo(backend="hf", ref="m", fingerprint="sha256:x", cacheable=True)
    replay = ModelInfo(backend="replay", ref="r.jsonl", fingerprint="sha256:y")
    on = PipelineConfig.model_validate({"generation": {"latency_sample": 50}})
    assert times_requests(local, on) and not times_requests(local, PipelineConfig())
    assert not times_requests(replay, on)  # nothing to time
