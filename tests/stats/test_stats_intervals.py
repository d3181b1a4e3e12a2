"""Wilson and Clopper–Pearson intervals against statsmodels, plus invariants."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from releasegate.stats import (
    clopper_pearson,
    clopper_pearson_bound,
    one_sided_level,
    wilson,
    wilson_bound,
)

GRID = [
    (k, n)
    for n in (1, 2, 3, 5, 10, 17, 50, 100, 333, 1000, 5000)
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n})
    if 0 <= k <= n
]
LEVELS = (0.8, 0.9, 0.95, 0.99)


@pytest.mark.parametrize(("k", "n"), GRID)
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    for level in LEVELS:
        ours = wilson(k, n=n, level=level)
        assert ours is not None
        low, high = proportion_confint(k, n, alpha=1 - level, method="wilson")
        assert ours.low == pytest.approx(max(0.0, low), abs=1e-12)
        assert ours.high == pytest.approx(min(1.0, high), abs=1e-12)
        assert ours.level == level
        assert ours.method == "wilson"


@pytest.mark.parametrize(("k", "n"), GRID)
def test_clopper_pearson_matches_statsmodels(k: int, n: int) -> None:
    for level in LEVELS:
        ours = clopper_pearson(k, n=n, level=level)
        assert ours is not None
        low, high = proportion_confint(k, n, alpha=1 - level, method="beta")
        assert ours.low == pytest.approx(low, abs=1e-10)
        assert ours.high == pytest.approx(high, abs=1e-10)


def test_published_clopper_pearson_example() -> None:
    # Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables,
    # ch. 2 example: X = 13 of n = 16, exact CI 0.5435 to 0.9595.
    ci = clopper_pearson(13, n=16)
    assert ci is not None
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.5435, 0.9595)


def test_edge_cases() -> None:
    assert wilson(0, n=0) is None
    assert clopper_pearson(0, n=0) is None
    assert wilson_bound(0, n=0) is None
    zero = wilson(0, n=10)
    one = wilson(10, n=10)
    assert zero is not None and one is not None
    assert zero.low == 0.0 and zero.high > 0.0  # never a zero-width fake
    assert one.high == 1.0 and one.low < 1.0
    single = wilson(1, n=1)
    assert single is not None and 0.0 < single.low < 1.0
    with pytest.raises(ValueError):
        wilson(5, n=4)
    with pytest.raises(ValueError):
        wilson(1, n=4, level=1.0)
    with pytest.raises(ValueError):
        one_sided_level(0.4)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 10), (97, 100), (850, 1000)])
def test_one_sided_bounds(k: int, n: int) -> None:
    for confidence in (0.9, 0.95, 0.975):
        alpha = 1 - confidence
        low, high = proportion_confint(k, n, alpha=2 * alpha, method="wilson")
        assert wilson_bound(k, n=n, confidence=confidence) == pytest.approx(
            max(0.0, low), abs=1e-12
        )
        assert wilson_bound(k, n=n, confidence=confidence, side="upper") == pytest.approx(
            min(1.0, high), abs=1e-12
        )
        cp_low, cp_high = proportion_confint(k, n, alpha=2 * alpha, method="beta")
        assert clopper_pearson_bound(k, n=n, confidence=confidence) == pytest.approx(
            cp_low, abs=1e-10
        )
        assert clopper_pearson_bound(k, n=n, confidence=confidence, side="upper") == pytest.approx(
            cp_high, abs=1e-10
        )


def test_clopper_pearson_contains_wilson_mostly_and_is_wider_at_extremes() -> None:
    for k, n in [(0, 20), (20, 20), (1, 30)]:
        cp, wi = clopper_pearson(k, n=n), wilson(k, n=n)
        assert cp is not None and wi is not None
        assert cp.high - cp.low > wi.high - wi.low


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=5000))
    return draw(st.integers(min_value=0, max_value=n)), n


@settings(max_examples=200, deadline=None)
@given(counts(), st.sampled_from(LEVELS))
def test_intervals_contain_estimate_and_reflect(kn: tuple[int, int], level: float) -> None:
    k, n = kn
    for fn in (wilson, clopper_pearson):
        ci = fn(k, n=n, level=level)
        mirror = fn(n - k, n=n, level=level)
        assert ci is not None and mirror is not None
        assert 0.0 <= ci.low <= k / n <= ci.high <= 1.0
        # Swapping successes and failures mirrors the interval.
        assert ci.low == pytest.approx(1.0 - mirror.high, abs=1e-9)
        assert ci.high == pytest.approx(1.0 - mirror.low, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(counts())
def test_intervals_nest_with_level(kn: tuple[int, int]) -> None:
    k, n = kn
    for fn in (wilson, clopper_pearson):
        widths = []
        for level in (0.8, 0.9, 0.95, 0.99):
            ci = fn(k, n=n, level=level)
            assert ci is not None
            widths.append((ci.low, ci.high))
        for (lo_a, hi_a), (lo_b, hi_b) in itertools.pairwise(widths):
            assert lo_b <= lo_a + 1e-12 and hi_b >= hi_a - 1e-12


def test_normal_quantile_matches_scipy() -> None:
    from scipy import stats as sps

    from releasegate.stats import normal_quantile

    for p in (1e-10, 0.001, 0.025, 0.05, 0.2, 0.5, 0.8, 0.95, 0.975, 0.999, 1 - 1e-10):
        assert normal_quantile(p) == pytest.approx(float(sps.norm.ppf(p)), rel=1e-13, abs=1e-14)
    with pytest.raises(ValueError):
        normal_quantile(1.0)


def test_wilson_nonempty_matches_wilson_and_refuses_n_zero() -> None:
    from releasegate.stats.intervals import wilson, wilson_nonempty

    assert wilson_nonempty(3, n=10) == wilson(3, n=10)
    with pytest.raises(ValueError, match="at least one trial"):
        wilson_nonempty(0, n=0)
