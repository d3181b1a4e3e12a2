"""Aggregation: rates with Wilson CIs (checked against statsmodels), categories, failures."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from releasegate.records.core import ExampleResult
from releasegate.scoring.aggregate import BOOTSTRAP_RESAMPLES, _resampled_sums, aggregate
from releasegate.stages.automated import RATE_METRIC_NAMES as RATES


def _result(
    i: int, *, correct: bool, category: str = "a", output: str | None = "{}"
) -> ExampleResult:
    return ExampleResult(
        id=f"e{i}",
        category=category,
        input_hash="h",
        input="x",
        expected_output="{}",
        output=output,
        outcomes={
            "accuracy": correct,
            "json_valid_rate": output is not None,
            "action_accuracy": None,
        },
        field_tp=1 if correct else 0,
        field_predicted=1 if output is not None else 0,
        field_expected=1,
    )


def test_rate_ci_is_wilson_as_in_statsmodels() -> None:
    examples = [_result(i, correct=i < 17) for i in range(20)]
    metrics = aggregate(examples, rate_metrics=RATES, rng=np.random.default_rng(0))
    acc = metrics["accuracy"]
    low, high = proportion_confint(17, 20, alpha=0.05, method="wilson")
    assert acc.value == pytest.approx(0.85)
    assert acc.ci is not None
    assert (acc.ci.low, acc.ci.high) == pytest.approx((low, high), abs=1e-12)
    assert acc.n == 20


def test_metric_that_applies_to_no_example_is_absent_not_zero() -> None:
    metrics = aggregate(
        [_result(0, correct=True)], rate_metrics=RATES, rng=np.random.default_rng(0)
    )
    assert "action_accuracy" not in metrics


def test_failed_examples_count_against_the_rate_and_in_n_failed() -> None:
    examples = [_result(0, correct=True), _result(1, correct=False, output=None)]
    metrics = aggregate(examples, rate_metrics=RATES, rng=np.random.default_rng(0))
    assert metrics["accuracy"].value == 0.5
    assert metrics["accuracy"].n_failed == 1
    assert metrics["json_valid_rate"].value == 0.5


def test_per_category_metrics_use_bracket_names() -> None:
    examples = [_result(i, correct=i % 2 == 0, category="ab"[i % 2]) for i in range(10)]
    metrics = aggregate(examples, rate_metrics=RATES, rng=np.random.default_rng(0))
    assert metrics["accuracy[a]"].value == 1.0
    assert metrics["accuracy[b]"].value == 0.0
    assert metrics["accuracy[a]"].n == 5


def test_field_metrics_are_micro_averaged_with_seeded_bootstrap() -> None:
    examples = [_result(i, correct=i < 6) for i in range(10)]
    first = aggregate(examples, rate_metrics=RATES, rng=np.random.default_rng(7))
    again = aggregate(examples, rate_metrics=RATES, rng=np.random.default_rng(7))
    assert first["field_recall"].value == pytest.approx(0.6)
    assert first["field_precision"].value == pytest.approx(0.6)
    assert first["field_recall"].ci == again["field_recall"].ci
    ci = first["field_recall"].ci
    assert ci is not None and ci.low <= 0.6 <= ci.high


def test_field_bootstrap_resamples_whole_examples_and_sums_their_counts() -> None:
    examples = [
        _result(i, correct=i % 3 != 0).model_copy(
            update={"field_tp": i % 4, "field_predicted": i % 4 + i % 3, "field_expected": 3}
        )
        for i in range(12)
    ]
    metrics = aggregate(examples, rate_metrics=RATES, rng=np.random.default_rng(11))
    # The definition, one resample at a time: the same draws (field metrics draw first).
    draws = np.random.default_rng(11).integers(0, 12, size=(BOOTSTRAP_RESAMPLES, 12))
    rows = [(e.field_tp or 0, e.field_predicted or 0, e.field_expected or 0) for e in examples]
    recall, precision = [], []
    for draw in draws:
        tp, predicted, expected = (sum(rows[i][k] for i in draw) for k in range(3))
        recall.append(tp / expected)
        precision.append(tp / predicted if predicted else np.nan)
    for name, samples in (("field_recall", recall), ("field_precision", precision)):
        finite = [s for s in samples if np.isfinite(s)]
        low, high = np.percentile(finite, [2.5, 97.5])
        ci = metrics[name].ci
        assert ci is not None and (ci.low, ci.high) == (float(low), float(high))


def test_packed_resample_sums_equal_column_sums_and_large_counts_use_columns() -> None:
    rng = np.random.default_rng(3)
    for high in (5, 4000, 3_000_000):  # packed; packed near the limit; too large to pack
        counts = rng.integers(0, high, size=(500, 3)).astype(np.float64)
        idx = rng.integers(0, 500, size=(200, 500))
        want = np.stack([counts[:, j][idx].sum(axis=1) for j in range(3)], axis=1)
        assert np.array_equal(_resampled_sums(counts, idx), want), high
