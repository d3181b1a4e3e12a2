"""The Task API example through the real pipeline and the real HF backend: the good
model deploys, the regressed one is blocked with the regression named. A 90-example
slice keeps it to seconds; ``make demo`` runs all 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasegate.config import PipelineConfig, load_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "task-api"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [json.loads(line) for line in (EXAMPLE / "benchmark.jsonl").read_text().splitlines()]
    per_category: dict[str, int] = {}
    keep = []
    for row in rows:
        if per_category.get(row["category"], 0) < 10:
            per_category[row["category"]] = per_category.get(row["category"], 0) + 1
            keep.append(row)
    path = tmp_path_factory.mktemp("example") / "subset.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")
    return path


def _config(tmp_path: Path) -> PipelineConfig:
    """The example's config, writing under ``tmp_path`` (no cache shared between runs)."""
    config = load_config(EXAMPLE / "releasegate.yaml")
    output = config.output.model_copy(update={"dir": str(tmp_path / "reports")})
    return config.model_copy(update={"output": output})


def test_v1_deploys_and_v2_is_blocked_with_the_regression_named(
    subset: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    pipeline = EvaluationPipeline(config)
    v1 = pipeline.run(model_path=str(EXAMPLE / "models" / "tiny-v1"), benchmark_path=str(subset))
    assert v1.decision.value == "DEPLOY", v1.reasons
    assert next(g for g in v1.gates if g.name == "adapter_safety").evaluated is False
    assert v1.run.model_backend == "hf"
    # the demo's determinism check: greedy decoding, batch of 64 vs one at a time
    assert v1.determinism is not None and v1.determinism.n_checked == 20
    assert next(g for g in v1.gates if g.name == "determinism").evaluated
    judge = next(s for s in v1.stages if s.name == "llm_judge")
    assert judge.status.value == "skipped" and "RELEASEGATE_JUDGE_API_KEY" in (
        judge.skip_reason or ""
    )

    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, baseline_from_result(v1))
    v2 = pipeline.run(
        model_path=str(EXAMPLE / "models" / "tiny-v2"),
        benchmark_path=str(subset),
        baseline_path=str(baseline),
    )
    assert v2.decision.value == "BLOCK"
    assert v2.regression is not None
    dates = v2.regression.metrics["accuracy[relative_dates]"]
    # Cluster-robust (the benchmark carries templates): few clusters, so p is not tiny.
    assert dates.regressed and dates.p_value < 0.05
    flipped = set(v2.regression.flipped_to_wrong)
    assert flipped and all(
        e.category in {"relative_dates", "multi_field", "create"}
        for e in v2.examples
        if e.id in flipped
    )


def test_lora_adapter_on_v1_runs_through_the_pipeline(subset: Path, tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = EvaluationPipeline(config).run(
        model_path=str(EXAMPLE / "models" / "tiny-v1-lora"), benchmark_path=str(subset)
    )
    assert result.decision.value == "DEPLOY", result.reasons
    assert "adapter" in json.dumps(result.run.model_details).lower()
    assert result.safety is not None and result.safety.base is not None
    gate = next(g for g in result.gates if g.name == "adapter_safety")
    assert gate.evaluated and gate.passed
    assert "safety_delta_harmful_rate" in result.metrics


def test_a_rerun_of_the_same_model_is_served_from_the_generation_cache(
    subset: Path, tmp_path: Path
) -> None:
    pipeline = EvaluationPipeline(_config(tmp_path))
    model = str(EXAMPLE / "models" / "tiny-v1")
    first = pipeline.run(model_path=model, benchmark_path=str(subset))
    again = pipeline.run(model_path=model, benchmark_path=str(subset))
    assert [e.output for e in first.examples] == [e.output for e in again.examples]
    stage = next(s for s in again.stages if s.name == "generation")
    assert any("90 of 90 outputs served from the generation cache" in n for n in stage.notes)
    assert (tmp_path / "reports" / "generation_cache.sqlite").is_file()
