"""Anytime-valid paired comparison: an e-process on the paired differences.

A fixed-n test keeps its error rate only if the gate looks once. Re-running
the gate on the same candidate until it is green looks many times. Two layers
make the error bound hold however often the gate looks:

* **Within a run**, the per-item differences Dᵢ = firstᵢ - secondᵢ ∈ [-1, 1]
  (binary outcomes: -1, 0, +1; only discordant pairs move the process) are read
  in a seeded random order as xᵢ = (Dᵢ + 1)/2 ∈ [0, 1], and for a hypothesised
  mean difference δ0 (m0 = (δ0 + 1)/2) two betting processes are formed::

      K⁻_t(δ0) = Π_{i≤t} (1 - λᵢ·(xᵢ - m0))   (evidence that δ < δ0)
      K⁺_t(δ0) = Π_{i≤t} (1 + λᵢ·(xᵢ - m0))   (evidence that δ > δ0)

  with the predictable plug-in bets of Waudby-Smith & Ramdas (2023),
  λ_t = min(1/2, sqrt(2·log(1/a) / (σ̂²_{t-1}·t·log(1 + t)))), σ̂²_t =
  (1/4 + Σ_{i≤t}(xᵢ - μ̂ᵢ)²)/(t + 1), μ̂_t = (1/2 + Σ_{i≤t} xᵢ)/(t + 1). Under
  the null each is a nonnegative supermartingale, so by Ville's inequality
  P(sup_t K_t ≥ 1/a) ≤ a at every sample size and under optional stopping. The
  anytime p-value is p = min(1, 1/sup_t K_t) and the confidence sequence at
  level 1 - 2a is {δ0 : sup_t K⁻_t(δ0) < 1/a and sup_t K⁺_t(δ0) < 1/a}; both
  processes are monotone in δ0 (the bets do not depend on δ0), so the set is an
  interval, found by bisection, and a decision read off it is the test's.
* **Across attempts** at gating the same model fingerprint (which may reuse the
  same items, so the attempts are not independent), attempt k is run at level
  6·alpha/(π²·k²); these sum to alpha, so the chance of *any* wrong decision
  over all attempts is at most alpha under any dependence between them.

References: I. Waudby-Smith & A. Ramdas (2023), "Estimating means of bounded
random variables by betting", JRSS-B 86:1-27 (predictable plug-in, §3-4);
J. Ville (1939), Étude critique de la notion de collectif; A. Ramdas, P.
Grünwald, V. Vovk & G. Shafer (2023), "Game-theoretic statistics and safe
anytime-valid inference", Statistical Science 38:576-601.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from releasegate.records.core import Interval

__all__ = ["BettingProcess", "attempt_alpha"]

FloatArray = npt.NDArray[np.float64]
_CAP = 0.5


def attempt_alpha(alpha: float, attempt: int) -> float:
    """The level of attempt k: 6·alpha/(π²·k²) (Σ over k = 1, 2, ... is alpha)."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    return 6.0 * alpha / (math.pi**2 * attempt * attempt)


def bets(x: FloatArray, *, a: float) -> FloatArray:
    """Predictable plug-in bets λ_t for rows of x ∈ [0, 1] (last axis = time)."""
    t = np.arange(1, x.shape[-1] + 1, dtype=np.float64)
    csum = np.cumsum(x, axis=-1)
    mu = (0.5 + csum) / (t + 1.0)  # μ̂_t after t observations
    mu_prev = np.concatenate([np.full(x.shape[:-1] + (1,), 0.5), mu[..., :-1]], axis=-1)
    sq = np.cumsum((x - mu_prev) ** 2, axis=-1)
    sigma2 = (0.25 + sq) / (t + 1.0)
    sigma2_prev = np.concatenate([np.full(x.shape[:-1] + (1,), 0.25), sigma2[..., :-1]], axis=-1)
    lam = np.sqrt(2.0 * math.log(1.0 / a) / (sigma2_prev * t * np.log1p(t)))
    return np.asarray(np.minimum(_CAP, lam), dtype=np.float64)


def max_log_wealth(x: FloatArray, lam: FloatArray, *, m0: float, sign: float) -> FloatArray:
    """sup_t log K_t for rows of x (K = Π(1 + sign·λ·(x - m0)); the empty product counts)."""
    log_k = np.cumsum(np.log1p(sign * lam * (x - m0)), axis=-1)
    return np.asarray(np.maximum(0.0, log_k.max(axis=-1)), dtype=np.float64)


@dataclass(frozen=True)
class BettingProcess:
    """Paired differences in their (seeded) reading order, with the bets at level a."""

    x: FloatArray
    """(Dᵢ + 1)/2 in reading order."""

    @classmethod
    def from_differences(
        cls, differences: npt.ArrayLike, *, rng: np.random.Generator
    ) -> BettingProcess:
        """Shuffle the differences (in [-1, 1]) with ``rng`` and map them to [0, 1]."""
        d = np.asarray(differences, dtype=np.float64).reshape(-1)
        if d.size == 0 or np.any(np.abs(d) > 1.0) or not np.all(np.isfinite(d)):
            raise ValueError("need a non-empty array of differences in [-1, 1]")
        return cls(x=(rng.permutation(d) + 1.0) / 2.0)

    @classmethod
    def from_counts(cls, b: int, c: int, n: int, *, rng: np.random.Generator) -> BettingProcess:
        """Binary paired outcomes: b differences of +1, c of -1, the rest 0."""
        if min(b, c) < 0 or b + c > n or n < 1:
            raise ValueError(f"need 0 <= b, c and b + c <= n, got b={b}, c={c}, n={n}")
        d = np.concatenate([np.ones(b), -np.ones(c), np.zeros(n - b - c)])
        return cls.from_differences(d, rng=rng)

    @property
    def n(self) -> int:
        """Items."""
        return int(self.x.size)

    def p_value(self, *, delta: float, worse: str, a: float) -> float:
        """Anytime p-value for H1 δ < δ0 (``worse="less"``) or δ > δ0, bets tuned to level a."""
        lam = bets(self.x, a=a)
        sign = -1.0 if worse == "less" else 1.0
        wealth = float(max_log_wealth(self.x, lam, m0=(delta + 1.0) / 2.0, sign=sign))
        return min(1.0, math.exp(-wealth))

    def interval(self, *, level: float, a: float) -> Interval:
        """Confidence sequence at its current size and level, bets tuned to level a.

        With the same ``a`` as :meth:`p_value`, δ0 lies above ``high`` exactly when
        the p-value for "less than δ0" is at most (1 - level)/2 (and likewise below
        ``low``), so decisions read off the interval are the test's.
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level}")
        lam = bets(self.x, a=a)
        bar = math.log(2.0 / (1.0 - level))
        estimate = float(2.0 * self.x.mean() - 1.0)

        def rejected(delta: float, sign: float) -> bool:
            m0 = (delta + 1.0) / 2.0
            return float(max_log_wealth(self.x, lam, m0=m0, sign=sign)) >= bar

        # high: smallest δ0 rejected by K⁻ (K⁻ grows with δ0); low: largest rejected by K⁺.
        high = _bisect(lambda d: rejected(d, -1.0), estimate, 1.0, want_low=True)
        low = _bisect(lambda d: rejected(d, 1.0), -1.0, estimate, want_low=False)
        return Interval(low=low, high=high, level=level, method="betting-confidence-sequence")


def _bisect(test: Callable[[float], bool], lo: float, hi: float, *, want_low: bool) -> float:
    """Boundary of a monotone rejection region on [lo, hi] to 1e-10.

    ``want_low``: the region is [x*, hi] and x* is returned (hi when empty);
    otherwise the region is [lo, x*] and x* is returned (lo when empty).
    """
    if want_low:
        if not test(hi):
            return hi
        left, right = lo, hi
        for _ in range(60):
            mid = (left + right) / 2.0
            if test(mid):
                right = mid
            else:
                left = mid
            if right - left < 1e-10:
                break
        return right
    if not test(lo):
        return lo
    left, right = lo, hi
    for _ in range(60):
        mid = (left + right) / 2.0
        if test(mid):
            left = mid
        else:
            right = mid
        if right - left < 1e-10:
            break
    return left
