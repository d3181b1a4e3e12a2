"""Repeats and the determinism check on the committed tiny models: sampling varies, greedy
does not (slow: real generation on CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.hf import HFBackend
from releasegate.config import parse_config
from releasegate.config.schema import ModelSettings
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.stages.common import draw_seed

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "task-api"
V1 = EXAMPLE / "models" / "tiny-v1"
GATES = "quality_gates:\n  - {name: acc, metric: accuracy, threshold: 0.5, comparison: '>='}\n"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _needs_torch() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")


def _run(tmp: Path, settings: str, n: int) -> PipelineResult:
    bench = tmp / "bench.jsonl"
    lines = (EXAMPLE / "benchmark.jsonl").read_text("utf-8").splitlines()[:n]
    bench.write_text("\n".join(lines) + "\n", "utf-8")
    config = GATES + "model:\n  device: cpu\n" + settings + f"output:\n  dir: {tmp / 'out'}\n"
    return EvaluationPipeline(parse_config(config)).run(
        model_path=str(V1), benchmark_path=str(bench)
    )


def test_greedy_repeats_and_regenerates_itself(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        "generation:\n  repeats: 2\n  batch_size: 16\n  max_new_tokens: 64\n"
        "determinism:\n  enabled: true\n",
        20,
    )
    m = result.metrics
    assert m["pass_at_k"] == m["accuracy"] == m["pass_hat_k"]
    assert all(e.draw_outputs == [e.output] for e in result.examples)
    report = result.determinism
    assert report is not None and report.n_checked == 20
    assert report.n_changed == 0 and report.causes == [] and not report.expected_to_change


def test_sampling_repeats_vary_and_order_the_estimates(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        "generation:\n  repeats: 3\n  temperature: 1.5\n  batch_size: 24\n  max_new_tokens: 64\n",
        24,
    )
    m = result.metrics
    assert m["pass_at_k"] >= m["accuracy"] >= m["pass_hat_k"]
    assert m["pass_at_k"] > m["pass_hat_k"]  # some example is right in some draws only
    assert any(any(o != e.output for o in e.draw_outputs) for e in result.examples)


def test_each_draw_samples_with_its_own_seed() -> None:
    backend = HFBackend.from_settings(str(V1), ModelSettings(device="cpu"))
    prompts = [
        Prompt(sample_id=f"p{i}", input=f"add a task to call mum {i} days from now")
        for i in range(8)
    ]

    def texts(draw: int) -> list[str | None]:
        params = GenerationParams(
            max_new_tokens=48, temperature=2.0, seed=draw_seed(99, draw), draw=draw
        )
        return [g.text for g in backend.generate(prompts, params)]

    assert texts(1) == texts(1)  # seeded: the same draw again is the same
    assert texts(0) != texts(1) or texts(1) != texts(2)
