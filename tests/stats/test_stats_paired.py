"""Paired tests and intervals against scipy/statsmodels and published examples."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar

from releasegate.stats import (
    PairedTable,
    mcnemar_p_value,
    newcombe_paired_interval,
    paired_bootstrap_interval,
    paired_difference_interval,
    paired_t_test,
    tango_interval,
    tango_statistic,
    wilcoxon_signed_rank,
)

# Published worked example: Cavo et al. (2012) as analysed in Fagerland, Lydersen &
# Laake (2014, Stat Med 33:2850) and their book, ch. 8 (values to 4-6 decimals).
CAVO = PairedTable(a=59, b=6, c=16, d=80)

DISCORDANT = [
    (0, 0),
    (0, 1),
    (1, 0),
    (1, 1),
    (0, 5),
    (3, 9),
    (6, 16),
    (10, 10),
    (25, 40),
    (120, 90),
]


def test_cavo_published_values() -> None:
    assert CAVO.difference == pytest.approx(-0.0621, abs=5e-5)
    assert mcnemar_p_value(6, c=16, method="mid-p") == pytest.approx(0.034690, abs=5e-7)
    assert mcnemar_p_value(6, c=16, method="exact") == pytest.approx(0.052479, abs=5e-7)
    tango = tango_interval(CAVO)
    newcombe = newcombe_paired_interval(CAVO)
    assert tango is not None and newcombe is not None
    assert (round(tango.low, 4), round(tango.high, 4)) == (-0.1240, -0.0054)
    assert (round(newcombe.low, 4), round(newcombe.high, 4)) == (-0.1186, -0.0046)


@pytest.mark.parametrize(("b", "c"), DISCORDANT)
def test_mcnemar_exact_matches_scipy_and_statsmodels(b: int, c: int) -> None:
    m = b + c
    ours_two = mcnemar_p_value(b, c=c, method="exact")
    sm = mcnemar(np.array([[7, b], [c, 3]]), exact=True).pvalue
    assert ours_two == pytest.approx(sm if m else 1.0, abs=1e-12)
    for alternative in ("two-sided", "less", "greater"):
        ours = mcnemar_p_value(b, c=c, method="exact", alternative=alternative)
        expected = sps.binomtest(b, m, 0.5, alternative=alternative).pvalue if m else 1.0
        assert ours == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("b", "c"), DISCORDANT)
def test_mcnemar_mid_p_by_explicit_summation(b: int, c: int) -> None:
    m = b + c
    # Exact rational arithmetic: no underflow even for m in the thousands.
    pmf = [Fraction(math.comb(m, k), 2**m) for k in range(m + 1)]
    less = float(sum(pmf[:b]) + pmf[b] / 2)
    greater = float(sum(pmf[b + 1 :]) + pmf[b] / 2)
    k = min(b, c)
    two = min(1.0, float(2 * (sum(pmf[:k]) + pmf[k] / 2)))
    assert mcnemar_p_value(b, c=c, alternative="less") == pytest.approx(less, abs=1e-12)
    assert mcnemar_p_value(b, c=c, alternative="greater") == pytest.approx(greater, abs=1e-12)
    assert mcnemar_p_value(b, c=c) == pytest.approx(two, abs=1e-12)
    # mid-p one-sided p-values sum to one; mid-p is never above exact
    assert less + greater == pytest.approx(1.0)
    assert mcnemar_p_value(b, c=c) <= mcnemar_p_value(b, c=c, method="exact") + 1e-15


def test_mcnemar_edge_cases() -> None:
    for alternative in ("two-sided", "less", "greater"):
        assert mcnemar_p_value(0, c=0, method="exact", alternative=alternative) == 1.0
    assert mcnemar_p_value(0, c=0) == 1.0
    assert mcnemar_p_value(0, c=0, alternative="less") == 0.5
    assert mcnemar_p_value(4, c=4) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        mcnemar_p_value(-1, c=2)


def test_table_from_outcomes() -> None:
    first = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    second = np.array([1, 0, 1, 0, 0, 0], dtype=bool)
    table = PairedTable.from_outcomes(first, second=second)
    assert (table.a, table.b, table.c, table.d) == (1, 2, 1, 2)
    assert table.difference == pytest.approx((3 - 2) / 6)
    with pytest.raises(ValueError):
        PairedTable.from_outcomes(first, second=second[:3])


def _restricted_p21_numeric(table: PairedTable, delta: float) -> float:
    """Maximise the multinomial likelihood under p_b - p_c = delta numerically."""
    a, b, c, d, n = table.a, table.b, table.c, table.d, table.n

    def negloglik(params: np.ndarray) -> float:
        pc, pa = params
        pb = pc + delta
        pd = 1.0 - pa - pb - pc
        probs = np.array([pa, pb, pc, pd])
        if np.any(probs <= 0):
            return 1e12
        return -float(np.dot([a, b, c, d], np.log(probs)))

    best = None
    for start_pc in (0.05, 0.2, 0.4):
        start_pa = max(1e-3, min(0.9, a / n))
        res = optimize.minimize(
            negloglik,
            [max(start_pc, 1e-3 - min(delta, 0)), start_pa],
            method="Nelder-Mead",
            options={"xatol": 1e-11, "fatol": 1e-12, "maxiter": 20000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    return float(best.x[0])


@pytest.mark.parametrize(
    ("table", "delta"),
    [
        (PairedTable(a=59, b=6, c=16, d=80), -0.1),
        (PairedTable(a=59, b=6, c=16, d=80), 0.05),
        (PairedTable(a=30, b=12, c=3, d=5), 0.2),
        (PairedTable(a=1, b=1, c=7, d=12), -0.3),
    ],
)
def test_tango_restricted_mle_maximises_likelihood(table: PairedTable, delta: float) -> None:
    # The score statistic at delta uses the closed-form restricted MLE; recompute it
    # from a numerically maximised likelihood and compare the statistics.
    q = _restricted_p21_numeric(table, delta)
    n = table.n
    z_numeric = (table.b - table.c - n * delta) / math.sqrt(n * (2 * q + delta * (1 - delta)))
    assert tango_statistic(table, delta=delta) == pytest.approx(z_numeric, rel=1e-4)


def test_tango_at_zero_is_asymptotic_mcnemar() -> None:
    for b, c in [(6, 16), (3, 1), (40, 20)]:
        table = PairedTable(a=10, b=b, c=c, d=10)
        assert tango_statistic(table, delta=0.0) == pytest.approx((b - c) / math.sqrt(b + c))


def test_tango_limits_solve_score_equation() -> None:
    table = PairedTable(a=30, b=12, c=3, d=5)
    ci = tango_interval(table, level=0.9)
    assert ci is not None
    z = sps.norm.ppf(0.95)
    assert tango_statistic(table, delta=ci.low) == pytest.approx(z, abs=1e-6)
    assert tango_statistic(table, delta=ci.high) == pytest.approx(-z, abs=1e-6)


def test_paired_interval_edge_cases() -> None:
    assert tango_interval(PairedTable(a=0, b=0, c=0, d=0)) is None
    assert newcombe_paired_interval(PairedTable(a=0, b=0, c=0, d=0)) is None
    z2 = sps.norm.ppf(0.975) ** 2
    no_discord = tango_interval(PairedTable(a=80, b=0, c=0, d=20))
    assert no_discord is not None
    assert no_discord.low == pytest.approx(-z2 / (100 + z2), abs=1e-9)
    assert no_discord.high == pytest.approx(z2 / (100 + z2), abs=1e-9)
    for table in (
        PairedTable(a=0, b=1, c=0, d=0),
        PairedTable(a=0, b=0, c=1, d=0),
        PairedTable(a=1, b=0, c=0, d=0),
        PairedTable(a=0, b=0, c=0, d=1),
        PairedTable(a=0, b=10, c=0, d=0),
        PairedTable(a=0, b=0, c=10, d=0),
    ):
        for method in ("tango", "newcombe"):
            ci = paired_difference_interval(table, method=method)
            assert ci is not None
            assert -1.0 <= ci.low <= table.difference <= ci.high <= 1.0
            assert ci.high > ci.low
    all_first = tango_interval(PairedTable(a=0, b=10, c=0, d=0))
    assert all_first is not None and all_first.high == 1.0


@st.composite
def tables(draw: st.DrawFn) -> PairedTable:
    a, b, c, d = (draw(st.integers(min_value=0, max_value=300)) for _ in range(4))
    if a + b + c + d == 0:
        d = 1
    return PairedTable(a=a, b=b, c=c, d=d)


@settings(max_examples=150, deadline=None)
@given(tables(), st.sampled_from(("tango", "newcombe")), st.sampled_from((0.9, 0.95)))
def test_paired_interval_properties(table: PairedTable, method: str, level: float) -> None:
    ci = paired_difference_interval(table, level=level, method=method)  # type: ignore[arg-type]
    swapped = paired_difference_interval(
        PairedTable(a=table.a, b=table.c, c=table.b, d=table.d),
        level=level,
        method=method,  # type: ignore[arg-type]
    )
    assert ci is not None and swapped is not None
    assert -1.0 <= ci.low <= table.difference + 1e-12
    assert table.difference - 1e-12 <= ci.high <= 1.0
    # Swapping which model is "first" negates the interval.
    assert ci.low == pytest.approx(-swapped.high, abs=1e-7)
    assert ci.high == pytest.approx(-swapped.low, abs=1e-7)


@settings(max_examples=100, deadline=None)
@given(tables())
def test_mcnemar_symmetry_and_monotonicity(table: PairedTable) -> None:
    b, c = table.b, table.c
    for method in ("mid-p", "exact"):
        less = mcnemar_p_value(b, c=c, method=method, alternative="less")
        assert less == pytest.approx(
            mcnemar_p_value(c, c=b, method=method, alternative="greater"), abs=1e-12
        )
        assert mcnemar_p_value(b, c=c, method=method) == pytest.approx(
            mcnemar_p_value(c, c=b, method=method), abs=1e-12
        )
        # One more "first right, second wrong" pair makes "less" less plausible.
        assert mcnemar_p_value(b + 1, c=c, method=method, alternative="less") >= less - 1e-12


# ---- continuous scores -------------------------------------------------------


def _score_samples(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for n in (2, 3, 8, 30, 200):
        base = rng.normal(3.5, 1.0, size=n)
        out.append((base + rng.normal(-0.2, 0.7, size=n), base))
        out.append((rng.integers(1, 6, size=n).astype(float), rng.integers(1, 6, size=n) * 1.0))
    return out


@pytest.mark.parametrize(("first", "second"), _score_samples(7))
def test_paired_t_matches_scipy(first: np.ndarray, second: np.ndarray) -> None:
    for alternative in ("two-sided", "less", "greater"):
        ours = paired_t_test(first, second=second, alternative=alternative)
        ref = sps.ttest_rel(first, second, alternative=alternative)
        if np.isfinite(ref.pvalue):
            assert ours.statistic == pytest.approx(ref.statistic, rel=1e-10)
            assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_paired_t_degenerate_cases() -> None:
    same = np.array([3.0, 4.0, 5.0])
    assert paired_t_test(same, second=same).p_value == 1.0
    assert paired_t_test([1.0], second=[2.0]).p_value == 1.0
    assert paired_t_test([], second=[]).p_value == 1.0
    shifted = paired_t_test(same - 1.0, second=same, alternative="less")
    assert shifted.statistic == -math.inf and shifted.p_value == 0.0
    assert paired_t_test(same - 1.0, second=same, alternative="greater").p_value == 1.0
    with pytest.raises(ValueError):
        paired_t_test([1.0, math.nan], second=[1.0, 2.0])


@pytest.mark.parametrize(("first", "second"), _score_samples(11))
def test_wilcoxon_matches_scipy_with_explicit_options(
    first: np.ndarray, second: np.ndarray
) -> None:
    diffs = first - second
    if np.all(diffs == 0):
        pytest.skip("all-zero differences are covered by the degenerate test")
    for zero_method in ("pratt", "wilcox", "zsplit"):
        if zero_method == "wilcox" and np.count_nonzero(diffs) == 0:
            continue
        for alternative in ("two-sided", "less", "greater"):
            ours = wilcoxon_signed_rank(
                first, second=second, alternative=alternative, zero_method=zero_method
            )
            ref = sps.wilcoxon(
                diffs,
                zero_method=zero_method,
                correction=False,
                alternative=alternative,
                method="approx",
            )
            if diffs.size <= 50 and np.unique(np.abs(diffs)).size == diffs.size and np.all(diffs):
                ref = sps.wilcoxon(
                    diffs, zero_method=zero_method, alternative=alternative, method="exact"
                )
            assert ours.p_value == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-15)


def test_wilcoxon_normal_approximation_by_hand() -> None:
    # Differences 1..10 minus two zeros, Pratt: ranks include zeros, then zeros dropped.
    diffs = np.array([0.0, 0.0, 1, -2, 3, 4, -5, 6, 7, 8, 9, 10, 11, 12])
    ranks = sps.rankdata(np.abs(diffs))
    w_plus = ranks[diffs > 0].sum()
    nz = ranks[diffs != 0]
    mean = (nz.sum()) / 2
    var = (nz**2).sum() / 4
    z = (w_plus - mean) / math.sqrt(var)
    ours = wilcoxon_signed_rank(diffs, second=np.zeros_like(diffs), alternative="greater")
    assert ours.p_value == pytest.approx(sps.norm.sf(z), rel=1e-9)


def test_wilcoxon_all_zero() -> None:
    x = np.array([2.0, 3.0, 4.0])
    assert wilcoxon_signed_rank(x, second=x).p_value == 1.0


def test_bootstrap_is_seeded_and_agrees_with_scipy() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(3.0, 1.0, size=120)
    cand = base + rng.normal(-0.15, 0.6, size=120)
    one = paired_bootstrap_interval(cand, second=base, rng=np.random.default_rng(42))
    two = paired_bootstrap_interval(cand, second=base, rng=np.random.default_rng(42))
    other = paired_bootstrap_interval(cand, second=base, rng=np.random.default_rng(43))
    assert one == two and one != other
    assert one is not None and one.method == "bootstrap-percentile"
    ref = sps.bootstrap(
        (cand, base),
        lambda x, y, axis=-1: np.mean(x - y, axis=axis),
        paired=True,
        method="percentile",
        n_resamples=10_000,
        rng=np.random.default_rng(1),
    ).confidence_interval
    assert one.low == pytest.approx(ref.low, abs=0.015)
    assert one.high == pytest.approx(ref.high, abs=0.015)
    mean_diff = float(np.mean(cand - base))
    assert one.low < mean_diff < one.high


def test_bootstrap_chunking_and_edges() -> None:
    x = np.arange(5.0)
    # Many resamples force several chunks; result still covers the single value.
    ci = paired_bootstrap_interval(x + 1.0, second=x, rng=np.random.default_rng(0), resamples=7)
    assert ci is not None and ci.low == ci.high == 1.0
    assert paired_bootstrap_interval([], second=[], rng=np.random.default_rng(0)) is None
    with pytest.raises(ValueError):
        paired_bootstrap_interval(x, second=x, rng=np.random.default_rng(0), resamples=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=2**32 - 1))
def test_bootstrap_swap_symmetry(n: int, seed: int) -> None:
    data_rng = np.random.default_rng(seed)
    x = data_rng.integers(1, 6, size=n).astype(float)
    y = data_rng.integers(1, 6, size=n).astype(float)
    forward = paired_bootstrap_interval(x, second=y, rng=np.random.default_rng(seed), resamples=200)
    backward = paired_bootstrap_interval(
        y, second=x, rng=np.random.default_rng(seed), resamples=200
    )
    assert forward is not None and backward is not None
    assert forward.low == pytest.approx(-backward.high, abs=1e-9)
    assert forward.high == pytest.approx(-backward.low, abs=1e-9)
    assert x.min() - y.max() <= forward.low <= forward.high <= x.max() - y.min()
