"""Minimum detectable effect (MDE) and required sample size for one-sided tests.

All functions work with a one-sided test at level ``alpha`` and a target power
(default 0.8), and with effects expressed as positive magnitudes of the
worsening we want to detect. Notation: z_a = Φ⁻¹(1 - alpha), z_b = Φ⁻¹(power).

The regression rule calls a comparison *inconclusive* when it found no
significant change and its MDE is larger than the drop that matters
(``|threshold|``); the ``required_n_*`` functions then say how many items
would have been needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from releasegate.stats.intervals import normal_quantile
from releasegate.stats.roots import brentq

__all__ = [
    "mde_one_proportion",
    "mde_paired_binary",
    "mde_paired_mean",
    "mde_two_proportions",
    "required_n_one_proportion",
    "required_n_paired_binary",
    "required_n_paired_mean",
    "required_n_two_proportions",
]

Direction = Literal["decrease", "increase"]

_MAX_N = 10**9


def _z(alpha: float, power: float) -> tuple[float, float]:
    if not 0.0 < alpha <= 0.5:
        raise ValueError(f"alpha must be in (0, 0.5], got {alpha}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    return normal_quantile(1.0 - alpha), normal_quantile(power)


def _check_effect(effect: float) -> None:
    if not 0.0 < effect <= 1.0:
        raise ValueError(f"effect must be in (0, 1], got {effect}")


def _check_rate(rate: float, name: str) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {rate}")


def _solve_smallest(g: Callable[[float], float], upper: float) -> float | None:
    """Root of g on (0, upper] (g < 0 near 0), or None when g(upper) < 0."""
    if g(upper) < 0.0:
        return None
    lower = 1e-12
    if g(lower) >= 0.0:
        return lower
    return float(brentq(g, lower, upper, xtol=1e-12))


def _connor_terms(effect: float, discordance: float) -> float:
    # Under the alternative the discordant share must be at least the effect.
    return max(discordance, effect)


def required_n_paired_binary(
    effect: float, *, discordance: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Pairs needed for a one-sided McNemar test to detect a paired difference.

    Connor's formula, with ψ the probability that a pair is discordant and δ
    the difference to detect::

        n = ⌈ (z_a·sqrt(ψ) + z_b·sqrt(ψ - δ²))² / δ² ⌉

    A drop of δ needs at least δ discordant mass, so ψ is raised to δ when the
    supplied (observed) discordance is smaller.

    Reference: R. J. Connor (1987), "Sample size for testing differences in
    proportions for the paired-sample design", Biometrics 43:207-211.

    Args:
        effect: δ in (0, 1].
        discordance: ψ = P(discordant pair), in [0, 1] (e.g. (b + c)/n observed).
        alpha: One-sided level.
        power: Target power.

    Returns:
        The number of pairs.
    """
    _check_effect(effect)
    _check_rate(discordance, "discordance")
    za, zb = _z(alpha, power)
    psi = _connor_terms(effect, discordance)
    n = (za * math.sqrt(psi) + zb * math.sqrt(max(0.0, psi - effect * effect))) ** 2 / effect**2
    return min(_MAX_N, max(1, math.ceil(n - 1e-9)))


def mde_paired_binary(
    n: int, *, discordance: float, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """Minimum detectable paired difference for a one-sided McNemar test.

    Inverts Connor's formula (see :func:`required_n_paired_binary`): the δ > 0
    solving ``sqrt(n)·δ = z_a·sqrt(ψ_δ) + z_b·sqrt(ψ_δ - δ²)`` with
    ψ_δ = max(ψ, δ), found by Brent's method.

    Reference: Connor (1987), Biometrics 43:207-211.

    Args:
        n: Number of pairs.
        discordance: ψ = P(discordant pair) in [0, 1].
        alpha: One-sided level.
        power: Target power.

    Returns:
        The MDE, or None when no difference up to 1 is detectable (tiny n).
    """
    _check_rate(discordance, "discordance")
    za, zb = _z(alpha, power)
    if n < 1:
        return None
    root_n = math.sqrt(n)

    def g(delta: float) -> float:
        psi = max(discordance, delta)
        return root_n * delta - za * math.sqrt(psi) - zb * math.sqrt(max(0.0, psi - delta * delta))

    return _solve_smallest(g, 1.0)


def _shift(p_reference: float, effect: float, direction: Direction) -> float:
    return p_reference - effect if direction == "decrease" else p_reference + effect


def _max_effect(p_reference: float, direction: Direction) -> float:
    return p_reference if direction == "decrease" else 1.0 - p_reference


def required_n_two_proportions(
    effect: float,
    *,
    p_reference: float,
    alpha: float = 0.05,
    power: float = 0.8,
    direction: Direction = "decrease",
) -> int | None:
    """Items per group for a one-sided two-proportion score test (equal groups).

    With p1 = p_reference, p2 = p1 ∓ δ and p̄ = (p1 + p2)/2::

        n = ⌈ (z_a·sqrt(2p̄(1 - p̄)) + z_b·sqrt(p1(1 - p1) + p2(1 - p2)))² / δ² ⌉

    (pooled variance under H0, unpooled under H1).

    Reference: J. L. Fleiss, B. Levin & M. C. Paik (2003), Statistical Methods
    for Rates and Proportions, 3rd ed., eq. 4.14 (without continuity
    correction); equals ``statsmodels.stats.power.normal_sample_size_one_tail``
    as used by ``samplesize_proportions_2indep_onetail``.

    Args:
        effect: δ in (0, 1].
        p_reference: The baseline proportion.
        alpha: One-sided level.
        power: Target power.
        direction: Whether the worsening is a ``"decrease"`` or an ``"increase"``.

    Returns:
        Items per group, or None when the shifted proportion would leave [0, 1].
    """
    _check_effect(effect)
    _check_rate(p_reference, "p_reference")
    za, zb = _z(alpha, power)
    p1 = p_reference
    p2 = _shift(p1, effect, direction)
    if not 0.0 <= p2 <= 1.0:
        return None
    pbar = (p1 + p2) / 2.0
    num = za * math.sqrt(2.0 * pbar * (1.0 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return min(_MAX_N, max(1, math.ceil(num * num / effect**2 - 1e-9)))


def mde_two_proportions(
    n1: int,
    n2: int,
    *,
    p_reference: float,
    alpha: float = 0.05,
    power: float = 0.8,
    direction: Direction = "decrease",
) -> float | None:
    """Minimum detectable difference for a one-sided two-proportion score test.

    The δ > 0 solving (p1 = p_reference the group-1 rate, p2 = p1 ∓ δ,
    p̄ = (n1·p1 + n2·p2)/(n1 + n2))::

        δ = z_a·sqrt(p̄(1 - p̄)(1/n1 + 1/n2)) + z_b·sqrt(p1(1 - p1)/n1 + p2(1 - p2)/n2)

    found by Brent's method.

    Reference: Fleiss, Levin & Paik (2003), §4.2; the power at the returned δ
    equals ``statsmodels.stats.proportion.power_proportions_2indep`` (which
    also uses the pooled null variance) at 1 - beta.

    Args:
        n1: Size of group 1 (the reference).
        n2: Size of group 2.
        p_reference: Group-1 proportion.
        alpha: One-sided level.
        power: Target power.
        direction: Worsening as a ``"decrease"`` or ``"increase"`` of group 2.

    Returns:
        The MDE, or None when no shift within [0, 1] is detectable.
    """
    _check_rate(p_reference, "p_reference")
    za, zb = _z(alpha, power)
    if n1 < 1 or n2 < 1:
        return None
    upper = _max_effect(p_reference, direction)
    if upper <= 0.0:
        return None
    p1 = p_reference

    def g(delta: float) -> float:
        p2 = _shift(p1, delta, direction)
        pbar = (n1 * p1 + n2 * p2) / (n1 + n2)
        null_sd = math.sqrt(max(0.0, pbar * (1 - pbar) * (1 / n1 + 1 / n2)))
        alt_sd = math.sqrt(max(0.0, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2))
        return delta - za * null_sd - zb * alt_sd

    return _solve_smallest(g, upper)


def required_n_one_proportion(
    effect: float,
    *,
    p0: float,
    alpha: float = 0.05,
    power: float = 0.8,
    direction: Direction = "decrease",
) -> int | None:
    """Items needed for a one-sided one-sample score test against a fixed p0.

    With p1 = p0 ∓ δ::

        n = ⌈ (z_a·sqrt(p0(1 - p0)) + z_b·sqrt(p1(1 - p1)))² / δ² ⌉

    Reference: Fleiss, Levin & Paik (2003), eq. 2.5 (without continuity
    correction); S.-C. Chow, J. Shao & H. Wang (2008), Sample Size Calculations
    in Clinical Research, §4.1.

    Args:
        effect: δ in (0, 1].
        p0: Reference proportion.
        alpha: One-sided level.
        power: Target power.
        direction: Worsening as a ``"decrease"`` or an ``"increase"``.

    Returns:
        The number of items, or None when p0 ∓ δ leaves [0, 1].
    """
    _check_effect(effect)
    _check_rate(p0, "p0")
    za, zb = _z(alpha, power)
    p1 = _shift(p0, effect, direction)
    if not 0.0 <= p1 <= 1.0:
        return None
    num = za * math.sqrt(p0 * (1 - p0)) + zb * math.sqrt(p1 * (1 - p1))
    return min(_MAX_N, max(1, math.ceil(num * num / effect**2 - 1e-9)))


def mde_one_proportion(
    n: int,
    *,
    p0: float,
    alpha: float = 0.05,
    power: float = 0.8,
    direction: Direction = "decrease",
) -> float | None:
    """Minimum detectable shift from a fixed reference p0 (one-sample score test).

    The δ > 0 solving ``sqrt(n)·δ = z_a·sqrt(p0(1 - p0)) + z_b·sqrt(p1(1 - p1))``
    with p1 = p0 ∓ δ (Brent's method).

    Reference: as :func:`required_n_one_proportion`.

    Args:
        n: Number of items.
        p0: Reference proportion.
        alpha: One-sided level.
        power: Target power.
        direction: Worsening as a ``"decrease"`` or an ``"increase"``.

    Returns:
        The MDE, or None when no shift within [0, 1] is detectable.
    """
    _check_rate(p0, "p0")
    za, zb = _z(alpha, power)
    if n < 1:
        return None
    upper = _max_effect(p0, direction)
    if upper <= 0.0:
        return None
    root_n = math.sqrt(n)
    null_sd = math.sqrt(p0 * (1 - p0))

    def g(delta: float) -> float:
        p1 = _shift(p0, delta, direction)
        return root_n * delta - za * null_sd - zb * math.sqrt(max(0.0, p1 * (1 - p1)))

    return _solve_smallest(g, upper)


def _t_power(effect: float, n: int, sd: float, alpha: float) -> float:
    from scipy import stats  # lazy: scipy.stats takes ~1.5 s to import

    df = n - 1
    crit = float(stats.t.ppf(1.0 - alpha, df))
    return float(stats.nct.sf(crit, df, effect * math.sqrt(n) / sd))


def mde_paired_mean(n: int, *, sd: float, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Minimum detectable mean paired difference for a one-sided paired t-test.

    The Δ > 0 with ``P(T' > t_{1-alpha, n-1}) = power`` where T' is noncentral t
    with n - 1 degrees of freedom and noncentrality Δ·sqrt(n)/σ_d (σ_d the
    standard deviation of the differences), found by Brent's method.

    Reference: J. Cohen (1988), Statistical Power Analysis for the Behavioral
    Sciences, 2nd ed., ch. 2; equals ``statsmodels.stats.power.TTestPower().
    solve_power(nobs=n, alpha=alpha, power=power, alternative="larger")·σ_d``.

    Args:
        n: Number of pairs.
        sd: Standard deviation of the paired differences (>= 0).
        alpha: One-sided level.
        power: Target power.

    Returns:
        The MDE in the units of the scores (0 when sd == 0), or None when n < 2.
    """
    _z(alpha, power)
    if sd < 0.0 or not math.isfinite(sd):
        raise ValueError(f"sd must be finite and >= 0, got {sd}")
    if n < 2:
        return None
    if sd == 0.0:
        return 0.0
    # Bracket: the normal-theory value times a generous factor always over-powers.
    za, zb = _z(alpha, power)
    upper = 4.0 * (za + max(zb, 0.5)) * sd / math.sqrt(n) + 10.0 * sd
    return float(brentq(lambda e: _t_power(e, n, sd, alpha) - power, 1e-12 * sd, upper, xtol=1e-12))


def required_n_paired_mean(
    effect: float, *, sd: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Pairs needed for a one-sided paired t-test to detect a mean difference.

    The smallest n >= 2 with noncentral-t power ``P(T' > t_{1-alpha, n-1}) >=
    power`` (noncentrality effect·sqrt(n)/σ_d), searched upward from the normal
    approximation ``((z_a + z_b)·σ_d/effect)²``.

    Reference: Cohen (1988), ch. 2; equals ``ceil(TTestPower().solve_power(
    effect_size=effect/sd, alpha=alpha, power=power, alternative="larger"))``.

    Args:
        effect: Mean difference to detect (> 0), in score units.
        sd: Standard deviation of the paired differences (>= 0).
        alpha: One-sided level.
        power: Target power.

    Returns:
        The number of pairs (2 when sd == 0).
    """
    za, zb = _z(alpha, power)
    if effect <= 0.0:
        raise ValueError(f"effect must be > 0, got {effect}")
    if sd < 0.0 or not math.isfinite(sd):
        raise ValueError(f"sd must be finite and >= 0, got {sd}")
    if sd == 0.0:
        return 2
    n = max(2, math.floor(((za + zb) * sd / effect) ** 2))
    if n >= _MAX_N:
        return _MAX_N
    while n > 2 and _t_power(effect, n - 1, sd, alpha) >= power:
        n -= 1
    while _t_power(effect, n, sd, alpha) < power and n < _MAX_N:
        n += 1
    return n
