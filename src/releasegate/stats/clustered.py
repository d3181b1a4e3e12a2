"""Cluster-robust paired comparison of a binary metric (items grouped, e.g. by template).

Benchmarks generated from templates, or several questions about one document,
are not independent items: two models tend to flip together on a whole
template. The naive McNemar test then treats n correlated items as n
independent ones and its false-positive rate exceeds alpha (Miller 2024, "Adding
Error Bars to Evals", arXiv:2411.00640, §3 on clustered standard errors).

With per-item paired differences Dᵢ = firstᵢ - secondᵢ ∈ {-1, 0, 1}, clusters
k = 1..K of sizes n_k and cluster sums S_k = Σ_{i∈k} Dᵢ (S = Σ S_k), the
cluster-robust (sandwich) score statistic for H0: δ = δ0 is::

    Z(δ0) = (S - n·δ0) / sqrt(V(δ0)),   V(δ0) = K/(K - 1) · Σ_k (S_k - n_k·δ0)²

referred to Student's t with K - 1 degrees of freedom. At δ0 = 0 this is
Obuchowski's clustered McNemar statistic (Obuchowski 1998, "On the comparison
of correlated proportions for clustered data", Statistics in Medicine
17:1495-1507) with the K/(K - 1) small-sample factor and a t reference. The
interval inverts the same statistic: {δ0 : (S - nδ0)² < t²·V(δ0)}, a quadratic
inequality solved in closed form, so decisions read off the interval and the
p-values below are the same decisions. When t² reaches R² = n²/(K/(K-1)·Σ n_k²)
the set is unbounded and the interval is [-1, 1] (too few effective clusters to
say anything); the p-values are capped accordingly.

The design effect is the ratio of the cluster-robust variance of S to the
independent-items one, both at the estimate: DE = V(δ̂)/(n/(n - 1)·Σᵢ(Dᵢ - δ̂)²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from releasegate.records.core import Interval

__all__ = ["ClusteredDifferences"]


@dataclass(frozen=True)
class ClusteredDifferences:
    """Paired differences summarised by cluster (see the module docstring)."""

    sums: npt.NDArray[np.float64]
    """S_k per cluster."""
    sizes: npt.NDArray[np.float64]
    """n_k per cluster."""
    sum_of_squares: float
    """Σᵢ Dᵢ² (= the number of discordant pairs for binary outcomes)."""

    @classmethod
    def from_outcomes(
        cls, first: npt.ArrayLike, *, second: npt.ArrayLike, clusters: npt.ArrayLike
    ) -> ClusteredDifferences:
        """Summarise aligned outcomes of two measures with a cluster label per item.

        Args:
            first: Per-item outcomes (or scores) of the first measure.
            second: Those of the second measure, aligned.
            clusters: Cluster label per item (any hashable values).

        Returns:
            The summary.
        """
        x = np.asarray(first, dtype=np.float64)
        y = np.asarray(second, dtype=np.float64)
        labels = np.asarray(clusters)
        if x.shape != y.shape or x.shape != labels.shape or x.ndim != 1 or x.size == 0:
            raise ValueError("need three non-empty 1-D arrays of equal length")
        diffs = x - y
        _, index = np.unique(labels, return_inverse=True)
        index = np.asarray(index).reshape(-1)
        sums = np.bincount(index, weights=diffs).astype(np.float64)
        sizes = np.bincount(index).astype(np.float64)
        return cls(sums=sums, sizes=sizes, sum_of_squares=float(np.sum(diffs * diffs)))

    @property
    def n(self) -> int:
        """Items."""
        return int(self.sizes.sum())

    @property
    def k(self) -> int:
        """Clusters."""
        return int(self.sizes.size)

    @property
    def difference(self) -> float:
        """δ̂ = S/n."""
        return float(self.sums.sum()) / self.n

    @property
    def clustered(self) -> bool:
        """True when some cluster holds more than one item."""
        return bool(self.sizes.max() > 1)

    def _factor(self) -> float:
        return self.k / (self.k - 1) if self.k > 1 else math.inf

    def variance(self, delta: float) -> float:
        """V(δ0) = K/(K - 1)·Σ_k (S_k - n_k·δ0)²."""
        return self._factor() * float(np.sum((self.sums - self.sizes * delta) ** 2))

    def statistic(self, delta: float) -> float:
        """Z(δ0); 0 when numerator and variance vanish, ±inf when only the variance does."""
        numerator = float(self.sums.sum()) - self.n * delta
        variance = self.variance(delta) if self.k > 1 else 0.0
        if abs(numerator) < 1e-12:
            return 0.0
        if variance <= 0.0 or not math.isfinite(variance):
            return math.copysign(math.inf, numerator)
        return numerator / math.sqrt(variance)

    def _bound_ratio(self) -> float:
        """R = n / sqrt(K/(K-1)·Σ n_k²): intervals are bounded only while t < R."""
        if self.k < 2:
            return 0.0
        return self.n / math.sqrt(self._factor() * float(np.sum(self.sizes**2)))

    def p_value(self, *, delta: float = 0.0, worse: str = "less") -> float:
        """One-sided p-value for H1 δ < δ0 (``worse="less"``) or δ > δ0, t with K - 1 df.

        Capped below at the level where the interval becomes unbounded, so that
        ``p <= a`` exactly when the interval at level 1 - 2a excludes δ0 on that side.
        """
        if self.k < 2:
            return 1.0
        df = self.k - 1
        z = self.statistic(delta)
        tail = float(special.stdtr(df, z if worse == "less" else -z))
        return max(tail, float(special.stdtr(df, -self._bound_ratio())))

    def interval(self, *, level: float) -> Interval:
        """The interval that inverts :meth:`p_value` (closed-form quadratic), within [-1, 1]."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level}")
        method = "cluster-robust-score-t"
        if self.k < 2:
            return Interval(low=-1.0, high=1.0, level=level, method=method)
        t = float(special.stdtrit(self.k - 1, 0.5 + level / 2.0))
        if t >= self._bound_ratio():
            return Interval(low=-1.0, high=1.0, level=level, method=method)
        f, n, s = self._factor(), float(self.n), float(self.sums.sum())
        a = n * n - t * t * f * float(np.sum(self.sizes**2))
        b = -2.0 * s * n + 2.0 * t * t * f * float(np.sum(self.sums * self.sizes))
        c = s * s - t * t * f * float(np.sum(self.sums**2))
        disc = b * b - 4.0 * a * c
        if disc <= 0.0:
            low = high = self.difference
        else:
            root = math.sqrt(disc)
            low, high = (-b - root) / (2.0 * a), (-b + root) / (2.0 * a)
        return Interval(low=max(-1.0, low), high=min(1.0, high), level=level, method=method)

    @property
    def design_effect(self) -> float:
        """V(δ̂) over the independent-items variance n/(n - 1)·Σᵢ(Dᵢ - δ̂)² (1 when undefined)."""
        n = self.n
        if n < 2 or self.k < 2:
            return 1.0
        estimate = self.difference
        iid = n / (n - 1) * (self.sum_of_squares - n * estimate * estimate)
        if iid <= 0.0:
            return 1.0
        return self.variance(estimate) / iid
