"""The corrected score procedures: exact error rates, interval/test agreement, references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from releasegate.stats import PairedTable, tango_interval, tango_statistic
from releasegate.stats.paired_score import (
    corrected_tango_interval,
    corrected_tango_p_value,
    corrected_tango_statistic,
)
from releasegate.stats.rule_power import (
    binomial_support,
    paired_rule_event,
    trinomial_support,
    two_sample_rule_event,
)
from releasegate.stats.unpaired import (
    corrected_score_interval,
    corrected_score_statistic,
    restricted_mle_difference,
    restricted_mle_difference_array,
    two_proportion_score_test,
)

ALPHA = 0.05
GRID = (20, 25, 30, 35, 40, 50, 60, 75, 100, 150, 200, 300, 500, 1000, 2000)
RHOS = (0.0, 0.5, 0.8)


def cells(base: float, cand: float, rho: float) -> tuple[float, float]:
    """(p_b, p_c) of the candidate-first table for correlated Bernoulli outcomes (phi = rho)."""
    both = base * cand + rho * math.sqrt(base * (1 - base) * cand * (1 - cand))
    return cand - both, base - both


def test_uncorrected_statistic_is_tango() -> None:
    for table in (PairedTable(59, 6, 16, 80), PairedTable(10, 0, 3, 7), PairedTable(5, 4, 0, 1)):
        for delta in (-0.3, -0.05, 0.0, 0.1):
            ours = float(
                corrected_tango_statistic(table.b, table.c, table.n, delta=delta, correction=0.0)
            )
            assert ours == pytest.approx(tango_statistic(table, delta=delta), rel=1e-12, abs=1e-12)
        reference = tango_interval(table, level=0.95)
        interval = corrected_tango_interval(table, level=0.95, correction=0.0)
        assert reference is not None
        assert (interval.low, interval.high) == pytest.approx(
            (reference.low, reference.high), abs=1e-9
        )


def test_corrected_statistic_at_zero_is_corrected_mcnemar() -> None:
    # At delta 0: sign(b - c)·max(0, |b - c| - cc)/sqrt(b + c).
    for b, c in ((5, 13), (0, 3), (7, 7), (20, 4)):
        z = float(corrected_tango_statistic(b, c, 100, delta=0.0, correction=0.5))
        expected = math.copysign(max(0.0, abs(b - c) - 0.5), b - c) / math.sqrt(b + c)
        assert z == pytest.approx(expected, rel=1e-12)
    # The worked example: Cavo et al. (Fagerland et al. 2014), corrected interval is wider.
    table = PairedTable(59, 6, 16, 80)
    plain = corrected_tango_interval(table, level=0.95, correction=0.0)
    cc = corrected_tango_interval(table, level=0.95, correction=0.5)
    assert plain.low == pytest.approx(-0.1240, abs=5e-5)
    assert plain.high == pytest.approx(-0.0054, abs=5e-5)
    assert cc.low < plain.low and cc.high > plain.high
    assert cc.method == "tango-score-cc0.5"


def test_vectorised_restricted_mle_matches_scalar() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n1, n2 = int(rng.integers(1, 300)), int(rng.integers(1, 300))
        x1, x2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        delta = float(rng.uniform(-0.9, 0.9))
        scalar = restricted_mle_difference(x1, n1, x2, n2, delta=delta)
        vector = restricted_mle_difference_array(x1, n1, x2, n2, delta=delta)
        assert (float(vector[0]), float(vector[1])) == pytest.approx(scalar, abs=1e-9)
        z0 = float(corrected_score_statistic(x1, n1, x2, n2, delta=delta, correction=0.0))
        ref = two_proportion_score_test(x1, n1, x2, n2, delta=delta).statistic
        if math.isfinite(ref):
            assert z0 == pytest.approx(ref, rel=1e-7, abs=1e-9)


def test_supports_hold_the_mass() -> None:
    for n, p_b, p_c in ((20, 0.1, 0.2), (2000, 0.06, 0.09), (500, 0.0, 0.05), (50, 0.0, 0.0)):
        b, c, prob = trinomial_support(n, p_b, p_c)
        assert prob.sum() == pytest.approx(1.0, abs=1e-10)
        assert np.all(b + c <= n) and np.all(b >= 0) and np.all(c >= 0)
    k, prob = binomial_support(300, 0.85)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)


# ---- exact error rates ------------------------------------------------------------


def _paired_rate(n: int, p_b: float, p_c: float, **rule: object) -> float:
    b, c, prob = trinomial_support(n, p_b, p_c)
    event = paired_rule_event(b, c, n, **rule)  # type: ignore[arg-type]
    return float(prob[event].sum())


@pytest.mark.parametrize("rho", RHOS)
def test_paired_false_block_at_most_alpha_on_the_grid(rho: float) -> None:
    p_b, p_c = cells(0.85, 0.85, rho)
    for n in GRID:
        for threshold in (-0.05, 0.0):  # the rule, and the significance test alone
            rate = _paired_rate(
                n,
                p_b,
                p_c,
                alpha=ALPHA,
                mode="significant_drop",
                threshold=threshold,
                margin=0.05,
                correction=0.5,
            )
            assert rate <= ALPHA, (rho, n, threshold, rate)


@pytest.mark.parametrize("rho", RHOS)
def test_non_inferiority_false_pass_at_most_alpha_on_the_grid(rho: float) -> None:
    p_b, p_c = cells(0.85, 0.80, rho)  # true drop = the margin
    for n in GRID:
        rate = _paired_rate(
            n,
            p_b,
            p_c,
            alpha=ALPHA,
            mode="non_inferiority",
            threshold=-0.05,
            margin=0.05,
            correction=0.5,
        )
        assert rate <= ALPHA, (rho, n, rate)


def test_uncorrected_procedure_exceeds_alpha_where_the_issue_says() -> None:
    p_b, p_c = cells(0.85, 0.80, 0.5)
    rate = _paired_rate(
        35,
        p_b,
        p_c,
        alpha=ALPHA,
        mode="non_inferiority",
        threshold=-0.05,
        margin=0.05,
        correction=0.0,
    )
    assert rate == pytest.approx(0.0567, abs=5e-5)


@pytest.mark.parametrize("p", [0.5, 0.7, 0.85, 0.95])
def test_two_sample_false_block_and_false_pass_at_most_alpha(p: float) -> None:
    for n in (20, 50, 100, 200, 500, 1000, 2000):
        for mode, drop in (("significant_drop", 0.0), ("non_inferiority", 0.05)):
            xb, pb = binomial_support(n, p)
            xc, pc = binomial_support(n, max(0.0, p - drop))
            cur, base = np.meshgrid(xc, xb, indexing="ij")
            prob = np.outer(pc, pb)
            for threshold in (-0.05, 0.0):
                event = two_sample_rule_event(
                    cur,
                    n,
                    base,
                    n,
                    alpha=ALPHA,
                    mode=mode,  # type: ignore[arg-type]
                    threshold=threshold,
                    margin=0.05,
                    correction=0.5,
                )
                assert float(prob[event].sum()) <= ALPHA, (p, n, mode, threshold)


# ---- the interval is the inversion of the test -------------------------------------


def _paired_tables() -> list[PairedTable]:
    """Every table at n = 20 and 35, and 150 random ones at each of n = 100, 500, 2000."""
    out = [
        PairedTable(a=n - b - c, b=b, c=c, d=0)
        for n in (20, 35)
        for b in range(n + 1)
        for c in range(n + 1 - b)
    ]
    rng = np.random.default_rng(11)
    for n in (100, 500, 2000):
        for _ in range(150):
            b = int(rng.integers(0, n // 4))
            c = int(rng.integers(0, n // 4))
            out.append(PairedTable(a=n - b - c, b=b, c=c, d=0))
    return out


def test_paired_interval_inverts_the_test() -> None:
    disagreements = 0
    for table in _paired_tables():
        interval = corrected_tango_interval(table, level=1 - 2 * ALPHA, correction=0.5)
        worse = corrected_tango_p_value(table, delta=0.0, worse="less") <= ALPHA
        better = corrected_tango_p_value(table, delta=0.0, worse="greater") <= ALPHA
        ni = corrected_tango_p_value(table, delta=-0.05, worse="greater") <= ALPHA
        disagreements += worse != (interval.high < 0.0)
        disagreements += better != (interval.low > 0.0)
        disagreements += ni != (interval.low > -0.05)
        assert interval.low <= table.difference <= interval.high
    assert disagreements == 0


def test_two_sample_interval_inverts_the_test() -> None:
    disagreements = 0
    for n in (20, 50):
        for x1 in range(0, n + 1, 3):
            for x2 in range(0, n + 1, 4):
                interval = corrected_score_interval(x1, n, x2, n, level=0.9, correction=0.5)
                for delta in (0.0, -0.05):
                    z = float(corrected_score_statistic(x1, n, x2, n, delta=delta, correction=0.5))
                    below = special.ndtr(z) <= ALPHA
                    above = special.ndtr(-z) <= ALPHA
                    disagreements += below != (interval.high < delta)
                    disagreements += above != (interval.low > delta)
    assert disagreements == 0
