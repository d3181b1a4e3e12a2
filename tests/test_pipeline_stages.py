"""The judge and regression stages through the real pipeline (replay backend,
real local chat-completions server, real baseline files)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.errors import ConfigError
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result
from releasegate.testing.fake_llm_server import FakeLLMServer

KEY_ENV = "RELEASEGATE_TEST_JUDGE_KEY"
SECRET = "sk-test-not-a-real-key-123"


def _run(
    tmp: Path,
    config_text: str,
    replay: list[dict[str, object]],
    *,
    rows: list[dict[str, object]],
    baseline: Path | None = None,
) -> PipelineResult:
    bench = write_jsonl(tmp / "bench.jsonl", rows)
    model = write_jsonl(tmp / f"model-{len(list(tmp.iterdir()))}.jsonl", replay)
    # Keep the judge cache (and anything else under output.dir) inside the test's folder.
    config_text += f"output:\n  dir: {tmp / 'reports'}\n"
    return EvaluationPipeline(parse_config(config_text)).run(
        model_path=str(model),
        benchmark_path=str(bench),
        baseline_path=str(baseline) if baseline else None,
    )


def _save_baseline(tmp: Path, result: PipelineResult) -> Path:
    path = tmp / "baseline.json"
    write_baseline(path, baseline_from_result(result))
    return path


def test_paired_regression_blocks_a_real_drop_and_lists_flips(tmp_path: Path) -> None:
    rows = example_rows(200)
    good = _run(tmp_path, SEED_CONFIG, replay_rows(rows, wrong=[1]), rows=rows)
    assert good.decision.value == "DEPLOY"
    baseline = _save_baseline(tmp_path, good)
    # 30 examples flip to wrong: accuracy 0.995 -> 0.845, far past the 5-point threshold.
    config = SEED_CONFIG.replace("threshold: 0.85", "threshold: 0.80")
    bad = _run(
        tmp_path, config, replay_rows(rows, wrong=range(2, 200, 6)), rows=rows, baseline=baseline
    )
    assert bad.decision.value == "BLOCK"
    regression = bad.regression
    assert regression is not None and regression.paired and regression.n_paired == 200
    acc = regression.metrics["accuracy"]
    assert acc.regressed and acc.verdict == "regressed"
    assert acc.difference == pytest.approx(-33 / 200 + 1 / 200)
    assert acc.p_value < 1e-6
    assert set(regression.flipped_to_wrong) == {f"ex-{i:03d}" for i in range(2, 200, 6)} - {
        "ex-001"
    }
    assert regression.flipped_to_right == ["ex-001"]
    gate = next(g for g in bad.gates if g.name == "regression:accuracy")
    assert not gate.passed and "regressed" in gate.explanation
    data = json.loads(bad.model_dump_json())
    entry = data["regression"]["metrics"]["accuracy"]
    for key in (
        "baseline",
        "current",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
        "test",
        "significant",
        "regressed",
        "verdict",
        "mde",
    ):
        assert key in entry
    assert data["regression"]["flipped_to_wrong"]


def test_small_noisy_difference_is_not_a_regression(tmp_path: Path) -> None:
    rows = example_rows(60)
    good = _run(tmp_path, SEED_CONFIG, replay_rows(rows, wrong=[0, 1]), rows=rows)
    baseline = _save_baseline(tmp_path, good)
    config = SEED_CONFIG.replace("threshold: 0.85", "threshold: 0.5")
    other = _run(tmp_path, config, replay_rows(rows, wrong=[0, 5, 9]), rows=rows, baseline=baseline)
    acc = other.regression.metrics["accuracy"] if other.regression else None
    assert acc is not None and not acc.regressed
    assert acc.verdict in {"no significant change", "inconclusive"}
    assert other.decision.value == "DEPLOY"


def test_changed_and_added_examples_are_counted_not_compared(tmp_path: Path) -> None:
    rows = example_rows(30)
    baseline = _save_baseline(tmp_path, _run(tmp_path, SEED_CONFIG, replay_rows(rows), rows=rows))
    changed = [dict(r) for r in rows[:25]] + example_rows(35)[30:]
    changed[0]["input"] = "a different request"
    result = _run(tmp_path, SEED_CONFIG, replay_rows(changed), rows=changed, baseline=baseline)
    assert result.regression is not None
    assert (result.regression.n_paired, result.regression.n_added) == (24, 5)
    assert (result.regression.n_removed, result.regression.n_changed_input) == (5, 1)


def test_flat_seed_baseline_falls_back_to_unpaired_with_a_warning(tmp_path: Path) -> None:
    rows = example_rows(100)
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"accuracy": 0.99, "json_valid_rate": 1.0}), encoding="utf-8")
    config = SEED_CONFIG.replace("threshold: 0.85", "threshold: 0.5")
    result = _run(
        tmp_path, config, replay_rows(rows, wrong=range(0, 100, 5)), rows=rows, baseline=flat
    )
    assert result.regression is not None and not result.regression.paired
    assert any("weaker analysis" in w for w in result.warnings)
    assert result.regression.metrics["accuracy"].regressed
    assert result.decision.value == "BLOCK"


@pytest.fixture
def judge_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def _judge_config(server: FakeLLMServer, extra: str = "") -> str:
    return (
        SEED_CONFIG
        + f"""judge:
  provider: openai
  model: gpt-4o-mini
  base_url: {server.openai_base_url}
  api_key_env: {KEY_ENV}
  min_samples: 10
  backoff_base_s: 0.01
  backoff_max_s: 0.05
{extra}"""
    )


def test_judge_runs_on_the_sample_and_gates_read_its_metrics(
    tmp_path: Path, judge_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    rows = example_rows(100)
    gate = "  - {name: judge, metric: judge_overall, threshold: 3, comparison: '>='}\n"
    config = _judge_config(judge_server).replace("quality_gates:\n", "quality_gates:\n" + gate, 1)
    result = _run(tmp_path, config, replay_rows(rows, wrong=[0]), rows=rows)
    assert result.judge is not None and result.judge.status == "success"
    assert len(result.judge.items) == 10
    assert "judge_overall" in result.metrics and "judge_coverage" in result.metrics
    assert result.metrics["judge_coverage"] == 1.0
    assert any(g.metric == "judge_overall" and g.passed for g in result.gates)
    assert SECRET not in result.model_dump_json()
    baseline = baseline_from_result(result)
    assert baseline.judge is not None and len(baseline.judge.scores) == 10


def test_judge_scores_compare_paired_with_the_baseline(
    tmp_path: Path, judge_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    rows = example_rows(100)
    config = _judge_config(judge_server)
    first = _run(tmp_path, config, replay_rows(rows), rows=rows)
    baseline = _save_baseline(tmp_path, first)
    second = _run(tmp_path, config, replay_rows(rows, wrong=[1]), rows=rows, baseline=baseline)
    assert second.regression is not None and second.regression.judge_compared
    assert "judge_overall" in second.regression.metrics


def test_judge_without_key_is_skipped_and_its_gates_error(
    tmp_path: Path, judge_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    rows = example_rows(20)
    gate = "  - {name: judge, metric: judge_overall, threshold: 3, comparison: '>='}\n"
    config = _judge_config(judge_server).replace("quality_gates:\n", "quality_gates:\n" + gate, 1)
    with pytest.raises(ConfigError, match=f"key variable {KEY_ENV} is not set"):
        _run(tmp_path, config, replay_rows(rows), rows=rows)
    optional = _run(tmp_path, config + "  optional: true\n", replay_rows(rows), rows=rows)
    assert optional.decision.value == "DEPLOY"
    judge_gate = next(g for g in optional.gates if g.metric == "judge_overall")
    assert not judge_gate.evaluated
    stage = next(s for s in optional.stages if s.name == "llm_judge")
    assert stage.status.value == "skipped" and KEY_ENV in (stage.skip_reason or "")


def test_judge_skipped_without_gates_on_it_does_not_block(tmp_path: Path) -> None:
    rows = example_rows(20)
    result = _run(tmp_path, SEED_CONFIG, replay_rows(rows), rows=rows)
    stage = next(s for s in result.stages if s.name == "llm_judge")
    assert stage.status.value == "skipped"
    assert result.decision.value == "DEPLOY"


def test_gate_on_judge_metric_without_a_judge_is_a_config_error(tmp_path: Path) -> None:
    rows = example_rows(20)
    gate = "  - {name: judge, metric: judge_overall, threshold: 3, comparison: '>='}\n"
    config = SEED_CONFIG.replace("quality_gates:\n", "quality_gates:\n" + gate, 1)
    with pytest.raises(ConfigError, match="needs a judge"):
        _run(tmp_path, config, replay_rows(rows), rows=rows)


def test_a_regression_in_one_category_is_found_by_a_per_category_metric(tmp_path: Path) -> None:
    rows = example_rows(400)  # 80 per category
    baseline = _save_baseline(tmp_path, _run(tmp_path, SEED_CONFIG, replay_rows(rows), rows=rows))
    create_rows = [i for i, r in enumerate(rows) if r["category"] == "create"]
    broken = create_rows[:12]  # 15% of one category, 3% overall
    config = SEED_CONFIG + "regression:\n  metrics: [accuracy, 'accuracy[create]']\n"
    result = _run(tmp_path, config, replay_rows(rows, wrong=broken), rows=rows, baseline=baseline)
    assert result.regression is not None
    overall = result.regression.metrics["accuracy"]
    create = result.regression.metrics["accuracy[create]"]
    assert not overall.regressed
    assert create.regressed and create.n == 80
    assert create.difference == pytest.approx(-12 / 80)
    assert result.decision.value == "BLOCK"
