"""Power, MDE and n needed of the regression rule *as applied*, not of its test alone.

The rule blocks a metric when the worsening is significant AND the observed
drop is larger than ``|threshold|``. At a true drop equal to the threshold the
second condition holds about half the time whatever n is, so the power of the
significance test alone (Connor's formula) overstates what the gate catches:
at Connor's n for a 5-point drop the rule blocks it only about 51% of the time.
The functions here compute the probability of the rule's own event:

* ``significant_drop``: P(BLOCK | true worsening Δ) = P(significant AND
  observed worsening > |threshold|);
* ``non_inferiority``: P(PASS | true worsening Δ) = P(the one-sided lower bound
  of the oriented difference is above -margin); its power is P(PASS | Δ = 0).

For paired binary metrics the probability is exact: a sum over every (b, c) of
the trinomial model with discordance ψ (cells b, c = (ψ ∓ Δ)/2) whose
probability is not negligible (tails below 1e-14 are cut, conditioning on
m = b + c ~ Binomial(n, ψ) and b | m ~ Binomial(m, ·)), with the rule's own
statistic (:mod:`releasegate.stats.paired_score`). For two independent samples it
is the same sum over two binomials; for judge scores it is the normal
approximation of the t-procedure with the plug-in standard deviation.

Definitions used by the rule (``power`` = target probability, default 0.8):

* MDE (``significant_drop``): the smallest true worsening that the rule blocks
  with probability >= power at this n (always > |threshold|);
* MDE (``non_inferiority``): the smallest margin that an unchanged candidate
  passes with probability >= power at this n;
* n needed: the smallest n at which the same statement holds for the
  configured target (``detect_drop``, or the margin).

Searches return a value at which the probability was computed and found
>= power, so the promise holds exactly at the reported value (discrete tests
are saw-toothed in n; the search never reports a tooth below the target).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from releasegate.stats.paired_score import corrected_tango_statistic
from releasegate.stats.unpaired import corrected_score_statistic

__all__ = [
    "MAX_PLANNING_N",
    "binomial_support",
    "paired_rule_probability",
    "rule_mde",
    "rule_n_needed",
    "score_rule_probability",
    "trinomial_support",
    "two_sample_rule_probability",
]

Mode = Literal["significant_drop", "non_inferiority"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_PLANNING_N = 200_000
"""n needed searches stop here (None beyond: 'no n up to 200,000')."""
_TAIL = 1e-14
_EPS = 1e-12


def binomial_support(n: int, p: float) -> tuple[IntArray, FloatArray]:
    """Values k of Binomial(n, p) with non-negligible mass, and their probabilities."""
    if p <= 0.0 or p >= 1.0 or n == 0:
        k = np.array([0 if p <= 0.0 else n], dtype=np.int64)
        return k, np.ones(1)
    from scipy import stats  # lazy: scipy.stats takes ~1.5 s to import

    lo = int(max(0, stats.binom.ppf(_TAIL, n, p) - 1))
    hi = int(min(n, stats.binom.isf(_TAIL, n, p) + 1))
    k = np.arange(lo, hi + 1, dtype=np.int64)
    return k, np.asarray(stats.binom.pmf(k, n, p), dtype=np.float64)


def trinomial_support(n: int, p_b: float, p_c: float) -> tuple[IntArray, IntArray, FloatArray]:
    """(b, c, probability) over the non-negligible support of the paired trinomial.

    Conditions on m = b + c ~ Binomial(n, p_b + p_c) and b | m ~ Binomial(m, p_b/(p_b + p_c)).

    Args:
        n: Pairs.
        p_b: P(first right, second wrong).
        p_c: P(first wrong, second right).

    Returns:
        Flat arrays b, c and their probabilities (summing to 1 up to the cut tails).
    """
    psi = p_b + p_c
    if psi <= 0.0:
        zero = np.zeros(1, dtype=np.int64)
        return zero, zero, np.ones(1)
    from scipy import stats  # lazy: scipy.stats takes ~1.5 s to import

    ms, pm = binomial_support(n, min(psi, 1.0))
    share = p_b / psi
    bs_all: list[IntArray] = []
    cs_all: list[IntArray] = []
    ps_all: list[FloatArray] = []
    if 0.0 < share < 1.0:
        m_max = int(ms.max())
        sd = math.sqrt(m_max * share * (1.0 - share))
        width = int(9.0 * sd + 3)
        centre = np.floor(ms * share).astype(np.int64)
        offsets = np.arange(-width, width + 1, dtype=np.int64)
        b = centre[:, None] + offsets[None, :]
        m = np.broadcast_to(ms[:, None], b.shape)
        ok = (b >= 0) & (b <= m)
        bb, mm = b[ok], m[ok]
        weight = np.broadcast_to(pm[:, None], b.shape)[ok]
        prob = weight * stats.binom.pmf(bb, mm, share)
        bs_all.append(bb)
        cs_all.append(mm - bb)
        ps_all.append(prob)
    else:
        bb = ms if share >= 1.0 else np.zeros_like(ms)
        bs_all.append(bb)
        cs_all.append(ms - bb)
        ps_all.append(pm)
    b_flat = np.concatenate(bs_all)
    c_flat = np.concatenate(cs_all)
    p_flat = np.concatenate(ps_all)
    keep = p_flat > 0.0
    return b_flat[keep], c_flat[keep], p_flat[keep]


def _cells(drop: float, discordance: float) -> tuple[float, float]:
    """(p_b, p_c) for a true worsening ``drop`` (c = flipped to wrong) at discordance ψ."""
    psi = min(1.0, max(discordance, abs(drop)))
    return (psi - drop) / 2.0, (psi + drop) / 2.0


def paired_rule_probability(
    n: int,
    *,
    drop: float,
    discordance: float,
    alpha: float,
    mode: Mode,
    threshold: float,
    margin: float,
    correction: float,
) -> float:
    """Exact probability of the rule's event for a paired binary metric.

    ``significant_drop``: P(BLOCK); ``non_inferiority``: P(PASS). ``drop`` is the
    true worsening (>= 0 worse), ``threshold`` the oriented threshold (<= 0).

    Args:
        n: Pairs.
        drop: True worsening Δ.
        discordance: ψ; raised to Δ when smaller.
        alpha: One-sided level of the decision.
        mode: Rule mode.
        threshold: Oriented material-drop threshold (significant_drop).
        margin: Non-inferiority margin.
        correction: Continuity correction of the score procedure.

    Returns:
        The probability.
    """
    p_b, p_c = _cells(drop, discordance)
    b, c, prob = trinomial_support(n, p_b, p_c)
    return float(
        prob[
            paired_rule_event(
                b,
                c,
                n,
                alpha=alpha,
                mode=mode,
                threshold=threshold,
                margin=margin,
                correction=correction,
            )
        ].sum()
    )


def paired_rule_event(
    b: npt.ArrayLike,
    c: npt.ArrayLike,
    n: int,
    *,
    alpha: float,
    mode: Mode,
    threshold: float,
    margin: float,
    correction: float,
) -> npt.NDArray[np.bool_]:
    """The rule's event (BLOCK, or PASS for non-inferiority) for arrays of (b, c).

    Uses the statistic and the comparisons of
    :func:`releasegate.regression.rule.compare_paired_counts` (b flipped to right,
    c flipped to wrong, higher is better), so enumeration and rule agree exactly.
    """
    bb = np.asarray(b)
    cc = np.asarray(c)
    if mode == "significant_drop":
        z = corrected_tango_statistic(bb, cc, n, delta=0.0, correction=correction)
        significant = special.ndtr(z) <= alpha
        return np.asarray(significant & ((bb - cc) / n < threshold - _EPS), dtype=bool)
    z = corrected_tango_statistic(bb, cc, n, delta=-margin, correction=correction)
    return np.asarray(special.ndtr(-z) <= alpha, dtype=bool)


def two_sample_rule_probability(
    n_base: int,
    n_cur: int,
    *,
    p_reference: float,
    drop: float,
    alpha: float,
    mode: Mode,
    threshold: float,
    margin: float,
    correction: float,
) -> float:
    """Exact probability of the rule's event for two independent binomial samples.

    The baseline rate is ``p_reference``, the candidate's ``p_reference - drop``
    (clipped to [0, 1]); the statistic is the corrected score statistic of the
    difference candidate - baseline.
    """
    p_cur = min(1.0, max(0.0, p_reference - drop))
    x_b, pb = binomial_support(n_base, p_reference)
    x_c, pc = binomial_support(n_cur, p_cur)
    xc, xb = np.meshgrid(x_c, x_b, indexing="ij")
    prob = np.outer(pc, pb)
    event = two_sample_rule_event(
        xc,
        n_cur,
        xb,
        n_base,
        alpha=alpha,
        mode=mode,
        threshold=threshold,
        margin=margin,
        correction=correction,
    )
    return float(prob[event].sum())


def two_sample_rule_event(
    x_cur: npt.ArrayLike,
    n_cur: int,
    x_base: npt.ArrayLike,
    n_base: int,
    *,
    alpha: float,
    mode: Mode,
    threshold: float,
    margin: float,
    correction: float,
) -> npt.NDArray[np.bool_]:
    """The rule's event for arrays of counts (higher is better), as in ``compare_unpaired``."""
    xc = np.asarray(x_cur)
    xb = np.asarray(x_base)
    if mode == "significant_drop":
        z = corrected_score_statistic(xc, n_cur, xb, n_base, delta=0.0, correction=correction)
        diff = xc / n_cur - xb / n_base
        return np.asarray((special.ndtr(z) <= alpha) & (diff < threshold - _EPS), dtype=bool)
    z = corrected_score_statistic(xc, n_cur, xb, n_base, delta=-margin, correction=correction)
    return np.asarray(special.ndtr(-z) <= alpha, dtype=bool)


def score_rule_probability(
    n: int,
    *,
    drop: float,
    sd: float,
    alpha: float,
    mode: Mode,
    threshold: float,
    margin: float,
) -> float:
    """Normal approximation of the rule's event for paired scores (t-procedure).

    With d̄ ~ N(-Δ, σ²/n) and the t critical value t_c = t_{1-alpha, n-1}:
    BLOCK ⇔ d̄ < -max(|threshold|, t_c·σ/√n), PASS ⇔ d̄ - t_c·σ/√n > -margin.
    """
    if n < 2 or sd <= 0.0:
        raise ValueError(f"need n >= 2 and sd > 0, got n={n}, sd={sd}")
    se = sd / math.sqrt(n)
    t_c = float(special.stdtrit(n - 1, 1.0 - alpha))
    if mode == "significant_drop":
        cut = max(abs(threshold), t_c * se)
        return float(special.ndtr((drop - cut) / se))
    return float(special.ndtr((margin - drop) / se - t_c))


def rule_mde(probability: Callable[[float], float], *, power: float, lower: float) -> float | None:
    """Smallest effect in (``lower``, 1] with ``probability(effect) >= power`` (bisection).

    Returns the upper end of the final bracket, at which the probability was
    computed and is >= power; None when even an effect of 1 falls short.
    """
    hi = 1.0
    if probability(hi) < power:
        return None
    lo = max(0.0, lower)
    if lo > 0.0 and probability(lo) >= power:
        return lo
    for _ in range(40):
        if hi - lo < 1e-5:
            break
        mid = (lo + hi) / 2.0
        if probability(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def rule_n_needed(
    probability: Callable[[int], float], *, power: float, start: int = 2
) -> int | None:
    """Smallest n found with ``probability(n) >= power`` (doubling, then bisection).

    The returned n was evaluated and meets the target; None when no n up to
    :data:`MAX_PLANNING_N` does.
    """
    lo, hi = max(1, start - 1), max(2, start)
    while probability(hi) < power:
        lo, hi = hi, hi * 2
        if hi > MAX_PLANNING_N:
            if probability(MAX_PLANNING_N) < power:
                return None
            hi = MAX_PLANNING_N
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if probability(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi
