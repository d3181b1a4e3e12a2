"""MDE and required-n functions against statsmodels and exact power computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats import proportion as smp
from statsmodels.stats.power import TTestPower

from releasegate.stats import (
    mcnemar_p_value,
    mde_one_proportion,
    mde_paired_binary,
    mde_paired_mean,
    mde_two_proportions,
    required_n_one_proportion,
    required_n_paired_binary,
    required_n_paired_mean,
    required_n_two_proportions,
)


def _exact_mcnemar_power(n: int, p10: float, p01: float, alpha: float) -> float:
    """Exact power of the one-sided mid-p McNemar test by enumerating the trinomial."""
    psi = p10 + p01
    total = 0.0
    ms = np.arange(n + 1)
    pm = sps.binom.pmf(ms, n, psi)
    for m, weight in zip(ms, pm, strict=True):
        if weight < 1e-12:
            continue
        # Critical region: the largest b with mid-p (H1: b small) <= alpha.
        bs = np.arange(m + 1)
        p_vals = sps.binom.cdf(bs, m, 0.5) - 0.5 * sps.binom.pmf(bs, m, 0.5)
        rejecting = bs[p_vals <= alpha]
        if rejecting.size:
            total += weight * sps.binom.cdf(rejecting.max(), m, p10 / psi)
    return total


@pytest.mark.parametrize(("delta", "psi"), [(0.05, 0.15), (0.08, 0.2), (0.05, 0.1), (0.1, 0.3)])
def test_required_n_paired_binary_achieves_power(delta: float, psi: float) -> None:
    n = required_n_paired_binary(delta, discordance=psi)
    # Connor's published example values are normal approximations; the exact
    # power of the mid-p test at that n must be close to the target.
    power = _exact_mcnemar_power(n, p10=(psi - delta) / 2, p01=(psi + delta) / 2, alpha=0.05)
    assert power == pytest.approx(0.8, abs=0.03)
    assert mcnemar_p_value(1, c=2) > 0.05  # sanity of the enumerated test direction


def test_connor_formula_value() -> None:
    # Direct evaluation of Connor (1987): psi=0.2, delta=0.1, alpha=0.05 one-sided, 80%.
    za, zb = sps.norm.ppf(0.95), sps.norm.ppf(0.8)
    expected = math.ceil((za * math.sqrt(0.2) + zb * math.sqrt(0.2 - 0.01)) ** 2 / 0.01)
    assert required_n_paired_binary(0.1, discordance=0.2) == expected == 122


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=5, max_value=20000), st.floats(min_value=0.0, max_value=0.6))
def test_paired_binary_mde_inverts_required_n(n: int, psi: float) -> None:
    mde = mde_paired_binary(n, discordance=psi)
    assert mde is not None and 0 < mde <= 1
    needed = required_n_paired_binary(mde, discordance=psi)
    assert abs(needed - n) <= 1
    # More pairs, smaller MDE.
    bigger = mde_paired_binary(2 * n, discordance=psi)
    assert bigger is not None and bigger <= mde + 1e-12


def test_paired_binary_edges() -> None:
    assert mde_paired_binary(0, discordance=0.1) is None
    assert mde_paired_binary(1, discordance=0.1) is None  # sqrt(1) < z_0.95: nothing detectable
    zero = mde_paired_binary(1000, discordance=0.0)
    assert zero is not None and 0 < zero < 0.05
    with pytest.raises(ValueError):
        required_n_paired_binary(0.0, discordance=0.1)
    with pytest.raises(ValueError):
        mde_paired_binary(100, discordance=0.1, alpha=0.7)


@pytest.mark.parametrize("p_ref", [0.5, 0.85, 0.95])
@pytest.mark.parametrize(("n1", "n2"), [(100, 100), (500, 500), (2000, 1500), (300, 1000)])
def test_mde_two_proportions_power_matches_statsmodels(p_ref: float, n1: int, n2: int) -> None:
    mde = mde_two_proportions(n1, n2, p_reference=p_ref)
    assert mde is not None
    # statsmodels: p1 = prop2 + diff for the group of size nobs1; nobs2 = ratio*nobs1.
    power = smp.power_proportions_2indep(
        -mde, p_ref, n2, ratio=n1 / n2, alpha=0.05, alternative="smaller", return_results=False
    )
    assert power == pytest.approx(0.8, abs=1e-6)
    up = mde_two_proportions(n1, n2, p_reference=1 - p_ref, direction="increase")
    assert up == pytest.approx(mde, rel=1e-9)


@pytest.mark.parametrize("p_ref", [0.5, 0.85, 0.95])
@pytest.mark.parametrize("effect", [0.02, 0.05, 0.08])
def test_required_n_two_proportions_matches_statsmodels(p_ref: float, effect: float) -> None:
    ours = required_n_two_proportions(effect, p_reference=p_ref)
    ref = smp.samplesize_proportions_2indep_onetail(
        -effect, p_ref, 0.8, ratio=1, alpha=0.05, alternative="smaller"
    )
    assert ours == math.ceil(ref)


def test_two_proportion_edges() -> None:
    assert required_n_two_proportions(0.1, p_reference=0.05) is None
    assert mde_two_proportions(100, 100, p_reference=0.0) is None
    assert mde_two_proportions(0, 100, p_reference=0.5) is None
    assert mde_two_proportions(1, 1, p_reference=0.5) is None


@pytest.mark.parametrize("p0", [0.5, 0.85, 0.97])
@pytest.mark.parametrize("n", [30, 100, 500, 2000])
def test_one_proportion_mde_and_n(p0: float, n: int) -> None:
    mde = mde_one_proportion(n, p0=p0)
    assert mde is not None
    # Power at the MDE by the normal approximation of the score test, computed directly.
    p1 = p0 - mde
    crit = p0 - sps.norm.ppf(0.95) * math.sqrt(p0 * (1 - p0) / n)
    power = sps.norm.cdf((crit - p1) / math.sqrt(p1 * (1 - p1) / n))
    assert power == pytest.approx(0.8, abs=1e-6)
    needed = required_n_one_proportion(mde, p0=p0)
    assert needed is not None and abs(needed - n) <= 1
    assert required_n_one_proportion(0.99, p0=0.5) is None


@pytest.mark.parametrize("n", [2, 3, 10, 50, 400])
@pytest.mark.parametrize("sd", [0.3, 1.0, 2.5])
def test_paired_mean_mde_matches_statsmodels(n: int, sd: float) -> None:
    mde = mde_paired_mean(n, sd=sd)
    ref = TTestPower().solve_power(nobs=n, alpha=0.05, power=0.8, alternative="larger")
    assert mde == pytest.approx(ref * sd, rel=1e-5)


@pytest.mark.parametrize("effect", [0.1, 0.3, 0.8])
@pytest.mark.parametrize("sd", [0.5, 1.0])
def test_required_n_paired_mean_matches_statsmodels(effect: float, sd: float) -> None:
    ours = required_n_paired_mean(effect, sd=sd)
    ref = TTestPower().solve_power(
        effect_size=effect / sd, alpha=0.05, power=0.8, alternative="larger"
    )
    assert ours == math.ceil(ref)


def test_paired_mean_edges() -> None:
    assert mde_paired_mean(1, sd=1.0) is None
    assert mde_paired_mean(10, sd=0.0) == 0.0
    assert required_n_paired_mean(0.5, sd=0.0) == 2
    with pytest.raises(ValueError):
        mde_paired_mean(10, sd=-1.0)
    with pytest.raises(ValueError):
        required_n_paired_mean(-0.1, sd=1.0)
