"""Gate drift: each way a config can loosen the baseline's bar is found; stricter is not."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from helpers import SEED_CONFIG
from releasegate.config import parse_config
from releasegate.drift import config_bar, detect_drift
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.baseline import Baseline
from releasegate.staleness import staleness_warnings
from releasegate.store.baseline import load_baseline

BASE = """\
quality_gates:
  - {name: acc, metric: accuracy, threshold: 0.85, comparison: '>', bound: ci_low}
  - {name: harm, metric: harmful_rate, threshold: 0.05, comparison: '<=', bound: ci_high}
  - {name: fmt, metric: json_valid_rate, threshold: 0.95, comparison: '>=', gate_type: warning}
regression:
  mode: non_inferiority
  margin: 0.03
  alpha: 0.05
  threshold: -0.05
  multiplicity: none
  metrics: [accuracy, json_valid_rate]
"""


def _kinds(edited: str) -> list[tuple[str, str]]:
    before = config_bar(parse_config(BASE))
    now = config_bar(parse_config(edited))
    return [(f.kind, f.subject) for f in detect_drift(before, now)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "threshold: 0.85, comparison: '>'",
            "threshold: 0.80, comparison: '>'",
            ("threshold", "acc"),
        ),
        (
            "threshold: 0.05, comparison: '<='",
            "threshold: 0.10, comparison: '<='",
            ("threshold", "harm"),
        ),
        ("comparison: '>', bound", "comparison: '>=', bound", ("comparison", "acc")),
        ("comparison: '<=', bound", "comparison: '>=', bound", ("comparison", "harm")),
        ("bound: ci_low", "bound: point", ("bound", "acc")),
        ("bound: ci_high", "bound: point", ("bound", "harm")),
        ("'>', bound: ci_low}", "'>', bound: ci_low, gate_type: warning}", ("gate_type", "acc")),
        (
            "  - {name: harm, metric: harmful_rate, threshold: 0.05, comparison: '<='"
            ", bound: ci_high}\n",
            "",
            ("removed", "harm"),
        ),
        ("threshold: -0.05", "threshold: -0.10", ("regression_threshold", "regression")),
        ("margin: 0.03", "margin: 0.06", ("margin", "regression")),
        ("alpha: 0.05", "alpha: 0.10", ("alpha", "regression")),
        ("mode: non_inferiority\n  margin: 0.03", "mode: significant_drop", ("mode", "regression")),
        ("multiplicity: none", "multiplicity: holm", ("multiplicity", "regression")),
        (
            "metrics: [accuracy, json_valid_rate]",
            "metrics: [accuracy]",
            ("removed", "regression:json_valid_rate"),
        ),
        ("alpha: 0.05", "alpha: 0.05\n  gate_type: warning", ("gate_type", "regression")),
    ],
)
def test_each_loosening_kind_is_found(old: str, new: str, expected: tuple[str, str]) -> None:
    assert old in BASE
    assert _kinds(BASE.replace(old, new)) == [expected]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("threshold: 0.85", "threshold: 0.90"),  # higher bar
        ("threshold: 0.05, comparison: '<='", "threshold: 0.01, comparison: '<='"),
        ("comparison: '<=', bound", "comparison: '<', bound"),
        ("bound: ci_high", "bound: ci_high"),
        ("comparison: '>=', gate_type: warning", "comparison: '>='"),  # warning -> blocking
        ("alpha: 0.05", "alpha: 0.01"),
        ("margin: 0.03", "margin: 0.01"),
        ("threshold: -0.05", "threshold: -0.02"),
        (
            "metrics: [accuracy, json_valid_rate]",
            "metrics: [accuracy, json_valid_rate, exact_match]",
        ),
    ],
)
def test_stricter_or_unchanged_is_not_drift(old: str, new: str) -> None:
    assert old in BASE
    assert _kinds(BASE.replace(old, new)) == []


def test_a_renamed_gate_is_followed_and_a_new_gate_is_not_drift() -> None:
    renamed = BASE.replace("name: acc,", "name: accuracy_floor,").replace(
        "threshold: 0.85", "threshold: 0.8"
    )
    added = BASE.replace(
        "quality_gates:\n",
        "quality_gates:\n  - {name: new, metric: exact_match, threshold: 0.5, comparison: '>='}\n",
    )
    assert _kinds(renamed) == [("threshold", "acc (now accuracy_floor)")]
    assert _kinds(added) == []


def _run(tmp: Path, config: str, bench: Path, model: Path, baseline: Path | None = None):  # type: ignore[no-untyped-def]
    return EvaluationPipeline(parse_config(config)).run(
        model_path=str(model),
        benchmark_path=str(bench),
        baseline_path=str(baseline) if baseline else None,
    )


def test_drift_warns_at_the_top_and_blocks_under_gates_drift_block(
    tmp_path: Path, bench_file: Path, good_replay: Path
) -> None:
    from releasegate.report.markdown import render_markdown
    from releasegate.store.baseline import write_baseline
    from releasegate.store.snapshot import baseline_from_result

    first = _run(tmp_path, SEED_CONFIG, bench_file, good_replay)
    assert first.decision.value == "DEPLOY"
    baseline = baseline_from_result(first)
    assert baseline.passed_under is not None
    assert [g.name for g in baseline.passed_under.gates] == ["format", "accuracy"]
    path = tmp_path / "baseline.json"
    write_baseline(path, baseline)
    loaded = load_baseline(path)
    assert isinstance(loaded, Baseline) and loaded.passed_under == baseline.passed_under

    looser = SEED_CONFIG.replace("threshold: 0.85", "threshold: 0.5")
    warned = _run(tmp_path, looser, bench_file, good_replay, path)
    assert warned.decision.value == "DEPLOY"
    drift = [w for w in warned.warnings if w.startswith("gate drift:")]
    assert drift == [
        "gate drift: gate 'accuracy' (accuracy >=): threshold 0.85 -> 0.5 since the baseline"
    ]
    header = render_markdown(warned).split("## Quality gates")[0]
    assert "**Warnings:**" in header and "threshold 0\\.85 \\-&gt; 0\\.5" in header

    blocked = _run(tmp_path, looser + "gates:\n  drift: block\n", bench_file, good_replay, path)
    assert blocked.decision.value == "BLOCK" and blocked.exit_code == 1
    assert any("gate_drift" in r and "0.85 -> 0.5" in r for r in blocked.reasons)

    same = _run(tmp_path, SEED_CONFIG + "gates:\n  drift: block\n", bench_file, good_replay, path)
    assert same.decision.value == "DEPLOY"
    assert not [w for w in same.warnings if "drift" in w or "stale" in w]


def test_a_baseline_without_its_bar_says_drift_is_unchecked(
    tmp_path: Path, bench_file: Path, good_replay: Path
) -> None:
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"accuracy": 0.9, "json_valid_rate": 1.0}), encoding="utf-8")
    result = _run(tmp_path, SEED_CONFIG, bench_file, good_replay, flat)
    assert any(w.startswith("gate drift unchecked") for w in result.warnings)
    assert any("flat baseline" in w and "stale" in w for w in result.warnings)


def _baseline(**changes: object) -> Baseline:
    data: dict[str, object] = {
        "created_at": "2026-01-01T00:00:00+00:00",
        "run_id": "r1",
        "benchmark_name": "b",
        "benchmark_fingerprint": "sha256:aaaa",
        "n_examples": 1,
        "model_ref": "m",
        "model_fingerprint": "sha256:m",
        "config_hash": "sha256:c",
        "seed": 1,
        "metrics": {},
        "examples": [],
        "passed_under": {"gates": [], "regression": config_bar(parse_config("")).regression},
    }
    data.update(changes)
    return Baseline.model_validate(data)


def test_staleness_by_age_benchmark_and_judge() -> None:
    jan = datetime(2026, 1, 1, tzinfo=timezone.utc)
    fresh = dict(benchmark_fingerprint="sha256:aaaa", judge_config_hash=None, max_age_days=30.0)
    assert staleness_warnings(_baseline(), now=jan + timedelta(days=29), **fresh) == []  # type: ignore[arg-type]
    old = staleness_warnings(_baseline(), now=jan + timedelta(days=45), **fresh)  # type: ignore[arg-type]
    assert old == ["stale baseline: run r1 is 45 days old (gates.baseline_max_age_days is 30)"]
    off = {**fresh, "max_age_days": None}
    assert staleness_warnings(_baseline(), now=jan + timedelta(days=400), **off) == []  # type: ignore[arg-type]
    other = {**fresh, "benchmark_fingerprint": "sha256:bbbb"}
    (bench,) = staleness_warnings(_baseline(), now=jan, **other)  # type: ignore[arg-type]
    assert "another benchmark" in bench
    judged = {**fresh, "judge_config_hash": "sha256:j2"}
    (judge,) = staleness_warnings(_baseline(judge_config_hash="sha256:j1"), now=jan, **judged)  # type: ignore[arg-type]
    assert "another judge configuration (sha256:j1, this run sha256:j2)" in judge
    (added,) = staleness_warnings(_baseline(), now=jan, **judged)  # type: ignore[arg-type]
    assert "(none, this run sha256:j2)" in added
