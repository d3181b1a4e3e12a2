"""Comparing a run with its baseline: roles, clusters, flat baselines with and without n."""

from __future__ import annotations

import numpy as np

from releasegate.config.regression import RegressionSettings
from releasegate.config.schema import PipelineConfig
from releasegate.pipeline import catalog_for
from releasegate.records.baseline import Baseline, BaselineExample, FlatBaseline, JudgeScores
from releasegate.records.core import ExampleResult, MetricValue
from releasegate.regression.baseline_compare import compare_with_baseline as _compare

CATALOG = catalog_for(PipelineConfig())


def compare_with_baseline(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    """The function under test with the default catalog of declared metrics."""
    return _compare(*args, catalog=CATALOG, **kwargs)  # type: ignore[arg-type]


def _pair(
    i: int, before: bool, after: bool, category: str = "c"
) -> tuple[ExampleResult, BaselineExample]:
    outcomes_b = {"accuracy": before, "exact_match": before, "json_valid_rate": True}
    outcomes_a = {"accuracy": after, "exact_match": after, "json_valid_rate": True}
    cur = ExampleResult(
        id=f"e{i}",
        category=category,
        input_hash=f"h{i}",
        input="x",
        expected_output="y",
        output="y",
        outcomes=outcomes_a,
    )
    old = BaselineExample(
        id=f"e{i}", input_hash=f"h{i}", category=category, outcomes=outcomes_b, output="y"
    )
    return cur, old


def _baseline(examples: list[BaselineExample], judge: JudgeScores | None = None) -> Baseline:
    return Baseline(
        created_at="2026-01-01T00:00:00Z",
        run_id="r0",
        benchmark_name="b",
        benchmark_fingerprint="f",
        n_examples=len(examples),
        model_ref="m0",
        model_fingerprint="fp0",
        config_hash="c",
        seed=0,
        metrics={},
        examples=examples,
        judge=judge,
    )


def _run(n: int, to_wrong: int, to_right: int) -> tuple[list[ExampleResult], list[BaselineExample]]:
    pairs = []
    for i in range(n):
        if i < to_wrong:
            pairs.append(_pair(i, True, False, "dates" if i % 2 else "c"))
        elif i < to_wrong + to_right:
            pairs.append(_pair(i, False, True))
        else:
            pairs.append(_pair(i, i % 7 != 0, i % 7 != 0))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_roles_in_a_paired_comparison() -> None:
    rule = RegressionSettings(
        metrics=["accuracy", "exact_match", "json_valid_rate", "accuracy[dates]"]
    )
    current, old = _run(100, 13, 5)
    judge_old = JudgeScores(config_hash="j", scores={e.id: {"a": 4, "b": 4} for e in current})
    judge_new = JudgeScores(config_hash="j", scores={e.id: {"a": 4, "b": 3} for e in current})
    report = compare_with_baseline(
        current, {}, _baseline(old, judge_old), settings=rule, judge=judge_new, source="b.json"
    )
    roles = {name: c.role for name, c in report.metrics.items()}
    assert roles == {
        "accuracy": "primary",
        "exact_match": "derived",  # equal to accuracy on every example
        "json_valid_rate": "secondary",
        "accuracy[dates]": "derived",
        "judge_a": "secondary",
        "judge_b": "secondary",
        "judge_overall": "derived",
    }
    assert report.metrics["accuracy"].regressed  # the 13-vs-5 case at full alpha
    assert any("metric roles" in w for w in report.warnings)


def test_clusters_make_the_paired_test_cluster_robust() -> None:
    rule = RegressionSettings(metrics=["accuracy"])
    current, old = _run(200, 30, 10)
    clusters = {e.id: f"t{int(e.id[1:]) // 10}" for e in current}
    report = compare_with_baseline(
        current, {}, _baseline(old), settings=rule, judge=None, source="b.json", clusters=clusters
    )
    accuracy = report.metrics["accuracy"]
    assert accuracy.test == "cluster-robust-score-t" and accuracy.clusters == 20
    assert accuracy.design_effect is not None and accuracy.design_effect > 1.0
    plain = compare_with_baseline(
        current, {}, _baseline(old), settings=rule, judge=None, source="b"
    )
    assert plain.metrics["accuracy"].design_effect is None
    assert plain.metrics["accuracy"].p_value < accuracy.p_value


def test_flat_baseline_uses_its_n_or_says_it_assumed_one() -> None:
    rule = RegressionSettings(metrics=["accuracy"])
    metrics = {"accuracy": MetricValue(name="accuracy", value=0.78, n=200)}
    with_n = FlatBaseline(path="seed.json", metrics={"accuracy": 0.85, "total_examples": 400})
    known = compare_with_baseline(
        [], metrics, with_n, settings=rule, judge=None, source="seed.json"
    )
    assert not known.paired
    assert any("n (400) is known" in w for w in known.warnings)
    assert any("200 candidate vs 400 baseline" in n for n in known.metrics["accuracy"].notes)
    without = FlatBaseline(path="seed.json", metrics={"accuracy": 0.85})
    assumed = compare_with_baseline([], metrics, without, settings=rule, judge=None, source="s")
    assert any("carries no n" in w for w in assumed.warnings)
    bad = FlatBaseline(path="seed.json", metrics={"accuracy": 0.85, "n": 12.5})
    flagged = compare_with_baseline([], metrics, bad, settings=rule, judge=None, source="s")
    assert any("not a positive whole count" in w for w in flagged.warnings)
    assert np.isfinite(flagged.metrics["accuracy"].p_value)
