"""Unpaired score tests and the Newcombe hybrid interval against statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from statsmodels.stats import proportion as smp

from releasegate.stats import (
    newcombe_hybrid_interval,
    one_sample_score_test,
    restricted_mle_difference,
    two_proportion_score_test,
)

SAMPLES = [
    (7, 34, 1, 34),
    (0, 16, 15, 72),
    (85, 100, 80, 100),
    (425, 500, 410, 500),
    (1700, 2000, 1650, 2000),
    (1, 1, 0, 1),
    (3, 10, 7, 12),
    (50, 50, 45, 50),
    (0, 20, 0, 30),
    (12, 12, 40, 40),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), SAMPLES)
def test_score_test_at_zero_matches_statsmodels(x1: int, n1: int, x2: int, n2: int) -> None:
    for alternative, sm_alt in (
        ("two-sided", "two-sided"),
        ("less", "smaller"),
        ("greater", "larger"),
    ):
        ours = two_proportion_score_test(x1, n1, x2, n2, alternative=alternative)
        if (x1 + x2) in (0, n1 + n2):
            assert ours.statistic == 0.0 and ours.p_value == pytest.approx(
                1.0 if alternative == "two-sided" else 0.5
            )
            continue
        z, p = smp.proportions_ztest([x1, x2], [n1, n2], alternative=sm_alt)
        assert ours.statistic == pytest.approx(z, rel=1e-9)
        assert ours.p_value == pytest.approx(p, rel=1e-8, abs=1e-15)
        # statsmodels also computes the odds ratio, which divides by zero at rates of
        # 0 or 1; those numpy warnings are about a quantity we do not compare.
        with np.errstate(divide="ignore", invalid="ignore"):
            res = smp.test_proportions_2indep(
                x1,
                n1,
                x2,
                n2,
                value=0,
                method="score",
                compare="diff",
                alternative=sm_alt,
                correction=False,
            )
        assert ours.p_value == pytest.approx(res.pvalue, rel=1e-8, abs=1e-15)


def _restricted_numeric(x1: int, n1: int, x2: int, n2: int, delta: float) -> tuple[float, float]:
    lo, hi = max(0.0, -delta), min(1.0, 1.0 - delta)

    def negloglik(p2: float) -> float:
        p1 = p2 + delta
        terms = 0.0
        for x, n, raw in ((x1, n1, p1), (x2, n2, p2)):
            p = min(max(raw, 1e-300), 1 - 1e-16)
            terms += x * math.log(p) + (n - x) * math.log(1 - p)
        return -terms

    res = optimize.minimize_scalar(
        negloglik, bounds=(lo, hi), method="bounded", options={"xatol": 1e-13}
    )
    return float(res.x) + delta, float(res.x)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [s for s in SAMPLES if s[1] > 1])
@pytest.mark.parametrize("delta", [-0.3, -0.05, 0.05, 0.1, 0.25])
def test_restricted_mle_maximises_likelihood(
    x1: int, n1: int, x2: int, n2: int, delta: float
) -> None:
    # Guard against statsmodels issue #10269: the restricted MLE must maximise the
    # constrained likelihood, checked against a direct numerical optimisation.
    p1, p2 = restricted_mle_difference(x1, n1, x2, n2, delta=delta)
    q1, q2 = _restricted_numeric(x1, n1, x2, n2, delta)
    assert p1 - p2 == pytest.approx(delta, abs=1e-9)
    assert p1 == pytest.approx(q1, abs=2e-6)
    assert p2 == pytest.approx(q2, abs=2e-6)


def test_published_miettinen_nurminen_example() -> None:
    # Perondi et al. (2004) as in Fagerland et al. (2015): 7/34 vs 1/34. The
    # uncorrected (Farrington-Manning) score interval (0.028, 0.34) inverts our test.
    for limit in (0.028, 0.34):
        p = two_proportion_score_test(7, 34, 1, 34, delta=limit).p_value
        assert p == pytest.approx(0.05, abs=0.006)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), SAMPLES)
def test_newcombe_hybrid_matches_statsmodels(x1: int, n1: int, x2: int, n2: int) -> None:
    for level in (0.9, 0.95, 0.99):
        ours = newcombe_hybrid_interval(x1, n1, x2, n2, level=level)
        low, high = smp.confint_proportions_2indep(
            x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1 - level
        )
        assert ours.low == pytest.approx(max(-1.0, low), abs=1e-9)
        assert ours.high == pytest.approx(min(1.0, high), abs=1e-9)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [(56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090)],
)
def test_newcombe_hybrid_published_examples(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    # Newcombe (1998, Stat Med 17:873), Table II examples (a) and (b), method 10.
    ci = newcombe_hybrid_interval(x1, n1, x2, n2)
    assert (round(ci.low, 4), round(ci.high, 4)) == (low, high)


@pytest.mark.parametrize(("x", "n"), [(0, 1), (1, 1), (3, 10), (85, 100), (1700, 2000)])
def test_one_sample_score_matches_statsmodels(x: int, n: int) -> None:
    for p0 in (0.1, 0.5, 0.85, 0.99):
        for alternative, sm_alt in (
            ("two-sided", "two-sided"),
            ("less", "smaller"),
            ("greater", "larger"),
        ):
            ours = one_sample_score_test(x, n, p0=p0, alternative=alternative)
            z, p = smp.proportions_ztest(x, n, value=p0, prop_var=p0, alternative=sm_alt)
            assert ours.statistic == pytest.approx(z, rel=1e-9)
            assert ours.p_value == pytest.approx(p, rel=1e-8, abs=1e-15)


def test_one_sample_degenerate_reference() -> None:
    assert one_sample_score_test(10, 10, p0=1.0, alternative="less").p_value == 0.5
    assert one_sample_score_test(9, 10, p0=1.0, alternative="less").p_value == 0.0
    assert one_sample_score_test(0, 10, p0=0.0, alternative="greater").p_value == 0.5
    assert one_sample_score_test(1, 10, p0=0.0, alternative="greater").p_value == 0.0
    with pytest.raises(ValueError):
        one_sample_score_test(1, 0, p0=0.5)


@st.composite
def two_samples(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(min_value=1, max_value=3000))
    n2 = draw(st.integers(min_value=1, max_value=3000))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@settings(max_examples=150, deadline=None)
@given(two_samples(), st.sampled_from((0.9, 0.95)))
def test_unpaired_properties(sample: tuple[int, int, int, int], level: float) -> None:
    x1, n1, x2, n2 = sample
    ci = newcombe_hybrid_interval(x1, n1, x2, n2, level=level)
    swapped = newcombe_hybrid_interval(x2, n2, x1, n1, level=level)
    estimate = x1 / n1 - x2 / n2
    assert -1.0 <= ci.low <= estimate + 1e-12 and estimate - 1e-12 <= ci.high <= 1.0
    assert ci.low == pytest.approx(-swapped.high, abs=1e-12)
    assert ci.high == pytest.approx(-swapped.low, abs=1e-12)
    forward = two_proportion_score_test(x1, n1, x2, n2, alternative="less")
    backward = two_proportion_score_test(x2, n2, x1, n1, alternative="greater")
    assert forward.p_value == pytest.approx(backward.p_value, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(two_samples(), st.floats(min_value=-0.9, max_value=0.9))
def test_restricted_mle_satisfies_constraint(
    sample: tuple[int, int, int, int], delta: float
) -> None:
    x1, n1, x2, n2 = sample
    p1, p2 = restricted_mle_difference(x1, n1, x2, n2, delta=delta)
    assert 0.0 <= p1 <= 1.0 and 0.0 <= p2 <= 1.0
    assert p1 - p2 == pytest.approx(delta, abs=1e-7)
    # Score equation holds at interior solutions.
    if 1e-9 < p2 < 1 - 1e-9 and 1e-9 < p1 < 1 - 1e-9:
        score = x1 / p1 - (n1 - x1) / (1 - p1) + x2 / p2 - (n2 - x2) / (1 - p2)
        scale = n1 / min(p1, 1 - p1) + n2 / min(p2, 1 - p2)
        assert abs(score) <= 1e-7 * scale


def test_score_test_p_values_are_monotone_in_delta() -> None:
    deltas = np.linspace(-0.5, 0.5, 41)
    ps = [
        two_proportion_score_test(40, 100, 30, 90, delta=d, alternative="greater").p_value
        for d in deltas
    ]
    assert all(a <= b + 1e-12 for a, b in zip(ps, ps[1:], strict=False))
