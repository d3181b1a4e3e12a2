"""Aggregation: rates with Wilson CIs (checked against statsmodels), categories, failures."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from releasegate.records.core import ExampleResult
from releasegate.scoring.aggregate import aggregate
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
