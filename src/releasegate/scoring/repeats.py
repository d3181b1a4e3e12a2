"""Repeated draws (``generation.repeats``): rates over all draws, pass@k and pass^k.

With k draws per example the per-example outcome is a proportion c/n (c of n
applicable draws pass). A rate metric is the mean over all draws; its interval
treats the draws of one example as a cluster: a Wilson score interval on the
effective sample size n_eff = N / DE, with DE the cluster-robust design effect of
:class:`releasegate.stats.clustered.ClusteredDifferences` (the variance of the
sum with examples as clusters over the independent-draws variance), kept within
[K, N] (K examples, N draws): k identical draws carry the information of one
draw, k independent ones of k. When every draw of every example agrees the
design effect is undefined and n_eff = K (as if each example were drawn once),
so greedy decoding repeated k times never claims k times the evidence.

pass@k (at least one of k draws right) and pass^k (all k right) use the
unbiased per-example estimators of Chen et al. (2021, "Evaluating Large Language
Models Trained on Code", arXiv:2107.03374) and Yao et al. (2024, "tau-bench",
arXiv:2406.12045), averaged over examples::

    pass@k = 1 - C(n - c, k) / C(n, k)        pass^k = C(c, k) / C(n, k)

An example with fewer than k applicable draws has no estimate and is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from releasegate.records.core import ExampleResult, Interval, MetricValue
from releasegate.stats.clustered import ClusteredDifferences
from releasegate.stats.intervals import normal_quantile, wilson

__all__ = [
    "PASS_K_OUTCOME",
    "clustered_rate",
    "pass_at_k",
    "pass_hat_k",
    "pass_k_metrics",
]

PASS_K_OUTCOME = "accuracy"
"""The outcome pass@k and pass^k are computed from."""


class Drawn(Protocol):
    """An example with its draws: a run's ``ExampleResult`` or a baseline's example."""

    @property
    def output(self) -> str | None:
        """Draw 0's output; None when there is none."""
        ...

    @property
    def draw_outputs(self) -> Sequence[str | None]:
        """Outputs of draws 1 .. k-1 where the record keeps them (else empty)."""
        ...

    def draw_counts(self, key: str) -> tuple[int, int] | None:
        """(passing draws, applicable draws) of ``key``; None if it applies to none."""
        ...


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one example: 1 - C(n-c, k)/C(n, k).

    Raises:
        ValueError: unless 0 <= c <= n and 1 <= k <= n.
    """
    _check(n, c, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased pass^k of one example: C(c, k)/C(n, k).

    Raises:
        ValueError: unless 0 <= c <= n and 1 <= k <= n.
    """
    _check(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def clustered_rate(
    name: str, examples: Sequence[Drawn], key: str, *, level: float = 0.95
) -> MetricValue | None:
    """Mean of ``key`` over every draw of every example, clustered by example.

    Returns:
        The metric (``n`` counts draws), or None when ``key`` applies to no draw.
    """
    counted = [(e, e.draw_counts(key)) for e in examples]
    used = [(e, c) for e, c in counted if c is not None]
    if not used:
        return None
    values = np.concatenate([np.r_[np.ones(c[0]), np.zeros(c[1] - c[0])] for _, c in used])
    labels = np.concatenate([np.full(c[1], i) for i, (_, c) in enumerate(used)])
    failed = sum(sum(1 for out in (e.output, *e.draw_outputs) if out is None) for e, _ in used)
    return MetricValue(
        name=name,
        value=float(values.mean()),
        ci=_clustered_wilson(values, labels, level=level),
        n=int(values.size),
        n_failed=failed,
        unit="rate",
    )


def _clustered_wilson(values: np.ndarray, labels: np.ndarray, *, level: float) -> Interval:
    """Wilson on n_eff = N / design effect, n_eff within [K, N] (see the module docstring)."""
    total, clusters = int(values.size), int(np.unique(labels).size)
    if np.all(values == values[0]) or clusters < 2:
        n_eff = float(clusters)
    else:
        grouped = ClusteredDifferences.from_outcomes(
            values, second=np.zeros_like(values), clusters=labels
        )
        effect = grouped.design_effect  # 0 when every example's mean is the overall mean
        n_eff = float(total) if effect <= 0 else total / effect
        n_eff = min(float(total), max(float(clusters), n_eff))
    p = float(values.mean())
    z = normal_quantile(0.5 + level / 2.0)
    z2 = z * z
    denom = 1.0 + z2 / n_eff
    centre = (p + z2 / (2.0 * n_eff)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n_eff + z2 / (4.0 * n_eff * n_eff))
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    high = 1.0 if p == 1.0 else min(1.0, centre + half)
    return Interval(low=low, high=high, level=level, method=f"wilson-clustered(n_eff={n_eff:.1f})")


def pass_k_metrics(
    examples: Sequence[ExampleResult], *, key: str, k: int
) -> dict[str, MetricValue]:
    """``pass_at_k`` and ``pass_hat_k`` of ``key``, overall and per category."""
    out = _pass_k_group(examples, key=key, k=k, suffix="")
    for category in sorted({e.category for e in examples}):
        members = [e for e in examples if e.category == category]
        out.update(_pass_k_group(members, key=key, k=k, suffix=f"[{category}]"))
    return out


def _pass_k_group(
    examples: Sequence[ExampleResult], *, key: str, k: int, suffix: str
) -> dict[str, MetricValue]:
    rows = [
        (e, counts)
        for e in examples
        if (counts := e.draw_counts(key)) is not None and counts[1] >= k
    ]
    if not rows:
        return {}
    failed = sum(1 for e, _ in rows if e.output is None)
    out: dict[str, MetricValue] = {}
    for name, estimator in (("pass_at_k", pass_at_k), ("pass_hat_k", pass_hat_k)):
        values = [estimator(n, c, k) for _, (c, n) in rows]
        total = float(sum(values))
        # with n == k draws each estimate is 0 or 1: a Wilson interval over examples
        binary = all(v in (0.0, 1.0) for v in values)
        out[name + suffix] = MetricValue(
            name=name + suffix,
            value=total / len(rows),
            ci=wilson(round(total), n=len(rows)) if binary else None,
            n=len(rows),
            n_failed=failed,
            unit="rate",
        )
    return out
