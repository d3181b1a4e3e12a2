"""Confidence intervals for a single binomial proportion.

Every rate that releasegate reports carries an interval from this module. The
Wald interval (``p ± z·sqrt(p(1-p)/n)``) is never used: it collapses to zero
width at 0 and 1 and under-covers badly for small n (Brown, Cai & DasGupta 2001).
Note that ``statsmodels.stats.proportion.proportion_confint`` defaults to Wald
(``method="normal"``); pass ``method="wilson"`` or ``method="beta"`` explicitly
when cross-checking.

One-sided bounds: a one-sided bound at confidence ``1 - a`` is the matching end
of the two-sided interval at level ``1 - 2a``. :class:`~releasegate.results.Interval`
records the two-sided level, so a gate that reads ``low`` of an interval with
``level=0.90`` gets a 95% one-sided lower bound. :func:`one_sided_level` does
that conversion.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

from scipy import special

from releasegate.records.core import Interval

__all__ = [
    "clopper_pearson",
    "clopper_pearson_bound",
    "normal_quantile",
    "one_sided_level",
    "wilson",
    "wilson_bound",
]

Side = Literal["lower", "upper"]
_STANDARD_NORMAL = NormalDist()


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")


def normal_quantile(probability: float) -> float:
    """Standard normal quantile ``z_p = Φ⁻¹(p)``.

    Args:
        probability: p in (0, 1).

    Returns:
        The value z with Φ(z) = p (Wichura's AS 241 algorithm, as in the standard
        library's ``statistics.NormalDist``; agrees with ``scipy.stats.norm.ppf``
        to about 1e-15 and is much cheaper per scalar call).
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    return _STANDARD_NORMAL.inv_cdf(probability)


def one_sided_level(confidence: float) -> float:
    """Two-sided level whose interval ends are one-sided bounds at ``confidence``.

    Formula: ``level = 2·confidence - 1`` (e.g. a 95% one-sided bound is an end
    of the 90% two-sided interval).

    Args:
        confidence: One-sided coverage in (0.5, 1).

    Returns:
        The two-sided level to pass to an interval function.
    """
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"one-sided confidence must be in (0.5, 1), got {confidence}")
    return 2.0 * confidence - 1.0


def wilson(successes: int, *, n: int, level: float = 0.95) -> Interval | None:
    """Wilson score interval for a binomial proportion.

    With p̂ = x/n and z = Φ⁻¹((1 + level)/2) the interval is the set of p for
    which the score statistic ``|p̂ - p| / sqrt(p(1-p)/n) <= z``::

        centre    = (p̂ + z²/(2n)) / (1 + z²/n)
        halfwidth = z / (1 + z²/n) · sqrt(p̂(1-p̂)/n + z²/(4n²))

    The ends are clipped to [0, 1] (only floating-point rounding can cross them).
    Unlike Wald it has positive width at x = 0 and x = n.

    Reference: E. B. Wilson (1927), "Probable inference, the law of succession,
    and statistical inference", JASA 22:209-212; Brown, Cai & DasGupta (2001),
    "Interval estimation for a binomial proportion", Statistical Science 16:101-133.
    Matches ``statsmodels.stats.proportion.proportion_confint(x, n, alpha,
    method="wilson")``.

    Args:
        successes: Number of successes x, 0 <= x <= n.
        n: Number of trials.
        level: Two-sided coverage in (0, 1).

    Returns:
        The interval, or None when n == 0 (no data, no interval).
    """
    _check_counts(successes, n)
    _check_level(level)
    if n == 0:
        return None
    z = normal_quantile(0.5 + level / 2.0)
    p_hat = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p_hat + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p_hat * (1.0 - p_hat) / n + z2 / (4.0 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low=low, high=high, level=level, method="wilson")


def wilson_nonempty(successes: int, *, n: int, level: float = 0.95) -> Interval:
    """:func:`wilson` for n >= 1, where an interval always exists.

    Raises:
        ValueError: n == 0.
    """
    interval = wilson(successes, n=n, level=level)
    if interval is None:
        raise ValueError("a Wilson interval needs at least one trial (n == 0)")
    return interval


def wilson_bound(
    successes: int, *, n: int, confidence: float = 0.95, side: Side = "lower"
) -> float | None:
    """One-sided Wilson score bound.

    The lower bound at confidence 1 - a is the lower end of the two-sided Wilson
    interval at level 1 - 2a (z = Φ⁻¹(1 - a)); likewise for the upper bound.

    Reference: as :func:`wilson`.

    Args:
        successes: Number of successes x.
        n: Number of trials.
        confidence: One-sided coverage in (0.5, 1).
        side: ``"lower"`` or ``"upper"``.

    Returns:
        The bound, or None when n == 0.
    """
    interval = wilson(successes, n=n, level=one_sided_level(confidence))
    if interval is None:
        return None
    return interval.low if side == "lower" else interval.high


def clopper_pearson(successes: int, *, n: int, level: float = 0.95) -> Interval | None:
    """Clopper–Pearson ("exact") interval for a binomial proportion.

    With a = 1 - level, the ends are beta quantiles (inversion of two one-sided
    binomial tests)::

        low  = B⁻¹(a/2;     x,     n - x + 1)   (0 when x = 0)
        high = B⁻¹(1 - a/2; x + 1, n - x)       (1 when x = n)

    Guaranteed coverage >= level for every p, hence conservative; use it for
    safety metrics where a bound must not be optimistic.

    Reference: C. J. Clopper & E. S. Pearson (1934), "The use of confidence or
    fiducial limits illustrated in the case of the binomial", Biometrika
    26:404-413. Matches ``proportion_confint(x, n, alpha, method="beta")``.

    Args:
        successes: Number of successes x, 0 <= x <= n.
        n: Number of trials.
        level: Two-sided coverage in (0, 1).

    Returns:
        The interval, or None when n == 0.
    """
    _check_counts(successes, n)
    _check_level(level)
    if n == 0:
        return None
    a = 1.0 - level
    k = successes
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, a / 2.0))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - a / 2.0))
    return Interval(low=low, high=high, level=level, method="clopper-pearson")


def clopper_pearson_bound(
    successes: int, *, n: int, confidence: float = 0.95, side: Side = "lower"
) -> float | None:
    """One-sided Clopper–Pearson bound.

    Lower bound at confidence 1 - a: ``B⁻¹(a; x, n - x + 1)`` (0 when x = 0);
    upper bound: ``B⁻¹(1 - a; x + 1, n - x)`` (1 when x = n). Equivalently the
    ends of the two-sided interval at level 1 - 2a.

    Reference: as :func:`clopper_pearson`.

    Args:
        successes: Number of successes x.
        n: Number of trials.
        confidence: One-sided coverage in (0.5, 1).
        side: ``"lower"`` or ``"upper"``.

    Returns:
        The bound, or None when n == 0.
    """
    interval = clopper_pearson(successes, n=n, level=one_sided_level(confidence))
    if interval is None:
        return None
    return interval.low if side == "lower" else interval.high
