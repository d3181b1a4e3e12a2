"""pass@k, pass^k and the clustered mean over repeated draws (scoring/repeats.py)."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from releasegate.records.core import ExampleResult
from releasegate.scoring.aggregate import rate_metric
from releasegate.scoring.repeats import clustered_rate, pass_at_k, pass_hat_k, pass_k_metrics


def _example(i: int, draws: list[bool], category: str = "c") -> ExampleResult:
    return ExampleResult(
        id=f"ex-{i}",
        category=category,
        input_hash="h",
        input="in",
        expected_output="{}",
        output="{}",
        outcomes={"accuracy": draws[0]},
        draw_outcomes={"accuracy": list(draws)} if len(draws) > 1 else {},
        draw_outputs=["{}"] * (len(draws) - 1),
    )


@pytest.mark.parametrize(
    ("n", "c", "k", "at", "hat"),
    [
        # C(3,3)/C(5,3) = 1/10; C(2,3) = 0
        (5, 2, 3, 1 - 1 / 10, 0.0),
        # 1 - C(1,3)/C(5,3) = 1; C(4,3)/C(5,3) = 4/10
        (5, 4, 3, 1.0, 4 / 10),
        # 1 - C(3,2)/C(4,2) = 1 - 3/6; C(1,2) = 0
        (4, 1, 2, 0.5, 0.0),
        # 1 - C(1,2)/C(4,2) = 1; C(3,2)/C(4,2) = 3/6
        (4, 3, 2, 1.0, 0.5),
        # k = 1: both are c/n
        (8, 3, 1, 3 / 8, 3 / 8),
        # n = k: any / all
        (3, 0, 3, 0.0, 0.0),
        (3, 1, 3, 1.0, 0.0),
        (3, 3, 3, 1.0, 1.0),
    ],
)
def test_unbiased_estimators_match_hand_computed_values(
    n: int, c: int, k: int, at: float, hat: float
) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(at)
    assert pass_hat_k(n, c, k) == pytest.approx(hat)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 2), (3, 1, 4), (3, 1, 0), (3, -1, 1)])
def test_impossible_counts_are_refused(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="need 0 <= c <= n"):
        pass_at_k(n, c, k)


def test_pass_k_metrics_over_examples_and_categories() -> None:
    examples = [
        _example(0, [True, True, True], "a"),
        _example(1, [True, False, True], "a"),
        _example(2, [False, False, False], "b"),
        _example(3, [True, True, True], "b"),
    ]
    metrics = pass_k_metrics(examples, key="accuracy", k=3)
    assert metrics["pass_at_k"].value == pytest.approx(3 / 4)
    assert metrics["pass_hat_k"].value == pytest.approx(2 / 4)
    assert metrics["pass_hat_k[a]"].value == pytest.approx(1 / 2)
    assert metrics["pass_at_k[b]"].value == pytest.approx(1 / 2)
    low, high = proportion_confint(2, 4, alpha=0.05, method="wilson")
    ci = metrics["pass_hat_k"].ci
    assert ci is not None and (ci.low, ci.high) == pytest.approx((low, high))
    mean = rate_metric("accuracy", examples, "accuracy")
    assert mean is not None and mean.value == pytest.approx(8 / 12) and mean.n == 12
    assert metrics["pass_at_k"].value >= mean.value >= metrics["pass_hat_k"].value


def test_identical_draws_count_as_one_draw_per_example() -> None:
    # k identical draws carry the evidence of one: the interval is Wilson over examples.
    examples = [_example(i, [i < 3] * 3) for i in range(4)]
    mean = clustered_rate("accuracy", examples, "accuracy")
    assert mean is not None and mean.value == pytest.approx(0.75) and mean.n == 12
    low, high = proportion_confint(3, 4, alpha=0.05, method="wilson")
    assert mean.ci is not None and (mean.ci.low, mean.ci.high) == pytest.approx((low, high))
    assert "n_eff=4.0" in mean.ci.method
    # all right in every draw: n_eff is the number of examples, never k times it
    perfect = clustered_rate("accuracy", [_example(i, [True] * 5) for i in range(20)], "accuracy")
    low, _ = proportion_confint(20, 20, alpha=0.05, method="wilson")
    assert perfect is not None and perfect.ci is not None
    assert perfect.ci.low == pytest.approx(low) and perfect.ci.high == 1.0


def test_independent_draws_narrow_the_interval_but_never_past_all_draws() -> None:
    # Each example right in exactly 2 of 4 draws: no example effect, n_eff near N.
    examples = [_example(i, [True, False, i % 2 == 0, i % 2 == 1]) for i in range(30)]
    mean = clustered_rate("accuracy", examples, "accuracy")
    assert mean is not None and mean.ci is not None and mean.value == pytest.approx(0.5)
    n_eff = float(mean.ci.method.split("n_eff=")[1].rstrip(")"))
    assert 30 <= n_eff <= 120
    over_examples = proportion_confint(15, 30, alpha=0.05, method="wilson")
    assert mean.ci.high - mean.ci.low < over_examples[1] - over_examples[0]
    all_draws = proportion_confint(60, 120, alpha=0.05, method="wilson")
    assert mean.ci.high - mean.ci.low >= all_draws[1] - all_draws[0] - 1e-12


def test_single_draw_keeps_the_plain_wilson_interval() -> None:
    examples = [_example(i, [i % 3 != 0]) for i in range(9)]
    plain = rate_metric("accuracy", examples, "accuracy")
    assert plain is not None and plain.ci is not None and plain.ci.method == "wilson"
    assert math.isclose(plain.value, 6 / 9)
