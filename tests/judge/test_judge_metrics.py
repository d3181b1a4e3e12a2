from __future__ import annotations

import math

import pytest
from scipy import stats

from releasegate.config.judge import DEFAULT_CRITERIA
from releasegate.judge.metrics import aggregate, t_interval
from releasegate.records.judge import JudgeItem


def test_t_interval_matches_scipy_and_shrinks_with_n() -> None:
    values = [3.0, 4.0, 5.0, 4.0, 2.0, 4.0, 5.0, 3.0]
    ci = t_interval(values)
    assert ci is not None
    mean = sum(values) / len(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    assert (ci.low, ci.high) == pytest.approx((low, high))
    bigger = t_interval(values * 4)
    assert bigger is not None and bigger.high - bigger.low < ci.high - ci.low


def test_no_interval_for_tiny_or_constant_samples() -> None:
    assert t_interval([4.0]) is None
    assert t_interval([5.0, 5.0, 5.0]) is None


def test_interval_is_clipped_to_the_scale() -> None:
    ci = t_interval([5.0, 5.0, 5.0, 4.0])
    assert ci is not None and ci.high == 5.0


def _item(i: int, scores: dict[str, int] | None) -> JudgeItem:
    return JudgeItem(id=f"x{i}", category="c", scores=scores, error=None if scores else "boom")


def test_aggregate_excludes_failures_and_normalises() -> None:
    items = [
        _item(0, {"accuracy": 5, "helpfulness": 3, "format_quality": 4}),
        _item(1, {"accuracy": 3, "helpfulness": 3, "format_quality": 2}),
        _item(2, None),
    ]
    m = aggregate(items, DEFAULT_CRITERIA, spent_usd=0.25, calls=4)
    assert m["judge_accuracy"].value == 4.0 and m["judge_accuracy"].n == 2
    assert m["judge_accuracy"].n_failed == 1
    assert m["judge_accuracy_norm"].value == pytest.approx(0.75)
    assert m["judge_overall"].value == pytest.approx((4 + 8 / 3) / 2)
    assert m["judge_overall_norm"].value == pytest.approx(((4 + 8 / 3) / 2 - 1) / 4)
    assert m["judge_helpfulness"].ci is None  # no spread: no fake zero-width interval
    assert m["judge_coverage"].value == pytest.approx(2 / 3) and m["judge_coverage"].n == 3
    assert m["judge_cost_usd"].value == 0.25 and not m["judge_cost_usd"].higher_is_better
    norm_ci, raw_ci = m["judge_accuracy_norm"].ci, m["judge_accuracy"].ci
    assert norm_ci is not None and raw_ci is not None
    assert norm_ci.low == pytest.approx(max(0.0, (raw_ci.low - 1) / 4))
    assert not any(math.isnan(v.value) for v in m.values())
