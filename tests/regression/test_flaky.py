"""Flaky examples in the regression check: listed, excluded, counted apart; never a silent pass.

Real runs of replay models through the pipeline, a real baseline file, a real
SQLite history; the flaky items come from the baseline's A/A noise floor or
from the history of one model fingerprint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.calibrate import calibrate
from releasegate.config.load import load_config
from releasegate.config.schema import PipelineConfig
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.core import Decision
from releasegate.records.run import PipelineResult
from releasegate.store.baseline import write_baseline
from releasegate.store.history import record_outcomes
from releasegate.store.snapshot import baseline_from_result

ROWS = example_rows(40)
BAD = list(range(0, 40, 4))  # the regressed replay gets these wrong (ex-000, ex-004, ...)


def _config(tmp: Path, **regression: object) -> PipelineConfig:
    path = tmp / "cfg.yaml"
    path.write_text(SEED_CONFIG, "utf-8")
    cfg = load_config(path)
    output = cfg.output.model_copy(update={"dir": str(tmp / "reports")})
    return cfg.model_copy(
        update={"regression": cfg.regression.model_copy(update=regression), "output": output}
    )


def _setup(tmp: Path, flaky: list[str] | None) -> Path:
    """bench, good and bad replays, and a baseline of the good one (with a noise floor)."""
    write_jsonl(tmp / "bench.jsonl", ROWS)
    write_jsonl(tmp / "good.jsonl", replay_rows(ROWS))
    write_jsonl(tmp / "bad.jsonl", replay_rows(ROWS, wrong=BAD))
    cfg = _config(tmp)
    result = _run(cfg, tmp, "good.jsonl")
    baseline = baseline_from_result(result)
    if flaky is not None:
        noise = calibrate(
            cfg.model_copy(update={"output": cfg.output.model_copy(update={"history": False})}),
            model_path=str(tmp / "good.jsonl"),
            benchmark_path=str(tmp / "bench.jsonl"),
            runs=2,
            target_false_block=0.01,
        )
        baseline = baseline.model_copy(
            update={"noise_floor": noise.model_copy(update={"flaky_examples": flaky})}
        )
    path = tmp / "baseline.json"
    write_baseline(path, baseline)
    return path


def _run(
    cfg: PipelineConfig, tmp: Path, model: str, baseline: Path | None = None
) -> PipelineResult:
    return EvaluationPipeline(cfg).run(
        model_path=str(tmp / model),
        benchmark_path=str(tmp / "bench.jsonl"),
        baseline_path=str(baseline) if baseline else None,
    )


def test_report_lists_flaky_examples_and_keeps_them_in_the_test(tmp_path: Path) -> None:
    baseline = _setup(tmp_path, ["ex-000", "ex-001"])
    result = _run(_config(tmp_path), tmp_path, "bad.jsonl", baseline)
    report = result.regression
    assert report is not None and report.flaky_policy == "report"
    assert [(f.id, f.flipped) for f in report.flaky] == [("ex-000", "to_wrong"), ("ex-001", None)]
    assert report.n_flaky_excluded == 0 and report.n_paired == 40
    assert "changed between the 2 A/A runs" in report.flaky[0].why
    assert any("2 paired example(s) are flaky" in w for w in result.warnings)


def test_exclude_leaves_flaky_examples_out_and_says_how_many(tmp_path: Path) -> None:
    baseline = _setup(tmp_path, ["ex-000", "ex-004", "ex-001"])
    result = _run(_config(tmp_path, flaky="exclude"), tmp_path, "bad.jsonl", baseline)
    report = result.regression
    assert report is not None
    assert report.n_flaky_excluded == 3 and report.n_paired == 37
    assert report.metrics["accuracy"].n == 37
    assert "ex-000" not in report.flipped_to_wrong and len(report.flipped_to_wrong) == len(BAD) - 2
    assert any("3 flaky example(s) excluded" in w for w in result.warnings)


def test_separate_reports_the_flaky_flips_apart(tmp_path: Path) -> None:
    baseline = _setup(tmp_path, ["ex-000", "ex-004", "ex-001"])
    result = _run(_config(tmp_path, flaky="separate"), tmp_path, "bad.jsonl", baseline)
    report = result.regression
    assert report is not None and report.n_flaky_excluded == 3
    assert any(
        "counted separately" in w and "2 of them flipped right → wrong and 0 wrong → right" in w
        for w in result.warnings
    )
    from releasegate.report.markdown_stages import regression_section

    text = regression_section(report)
    assert "3 flaky example(s)" in text and "`ex-000`" in text and "right → wrong here" in text


def test_excluding_every_example_is_not_evaluated_never_a_pass(tmp_path: Path) -> None:
    baseline = _setup(tmp_path, [str(r["id"]) for r in ROWS])
    # The candidate is the baseline's own model: without the exclusion it would pass.
    result = _run(_config(tmp_path, flaky="exclude"), tmp_path, "good.jsonl", baseline)
    assert result.decision is Decision.ERROR and result.exit_code == 2
    assert any("are flaky" in e and "nothing is left to compare" in e for e in result.errors)
    blocked = _run(
        _config(tmp_path, flaky="exclude", on_incomparable="block"),
        tmp_path,
        "good.jsonl",
        baseline,
    )
    assert blocked.decision is Decision.BLOCK
    assert any(g.name == "regression:comparable" and not g.passed for g in blocked.gates)


def test_flaky_items_come_from_the_history_of_one_model_fingerprint(tmp_path: Path) -> None:
    baseline = _setup(tmp_path, None)
    cfg = _config(tmp_path, flaky="exclude")
    run = _run(cfg, tmp_path, "bad.jsonl")
    # The same model fingerprint once more, with ex-002 answered differently.
    changed = [
        e.model_copy(update={"outcomes": {**e.outcomes, "accuracy": False}})
        if e.id == "ex-002"
        else e
        for e in run.examples
    ]
    again = run.model_copy(
        update={
            "examples": changed,
            "run": run.run.model_copy(update={"run_id": run.run.run_id + "-again"}),
        }
    )
    history = Path(cfg.output.history_path or "")
    record_outcomes(history, run, source="run")
    record_outcomes(history, again, source="run")
    result = _run(cfg, tmp_path, "bad.jsonl", baseline)
    report = result.regression
    assert report is not None
    assert [f.id for f in report.flaky] == ["ex-002"] and report.n_flaky_excluded == 1
    assert report.flaky[0].why.startswith("right in 1 of 2 runs of model sha256:")


@pytest.mark.parametrize("policy", ["report", "exclude", "separate"])
def test_without_flaky_items_every_policy_compares_everything(tmp_path: Path, policy: str) -> None:
    baseline = _setup(tmp_path, [])
    result = _run(_config(tmp_path, flaky=policy), tmp_path, "bad.jsonl", baseline)
    assert result.regression is not None and result.regression.n_paired == 40
    assert result.regression.flaky == [] and result.decision is Decision.BLOCK
