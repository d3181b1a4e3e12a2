"""Multiplicity adjustment across the regression checks of several metrics.

A "block if any metric regresses" rule tests several null hypotheses at once;
without adjustment the chance of a false BLOCK grows with the number of
metrics. Holm's step-down procedure controls the family-wise error rate at
alpha under any dependence between the metrics and is uniformly more powerful
than Bonferroni. It only ever raises p-values, so it can never loosen a gate;
safety gates (absolute thresholds) are not part of this family.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["holm_adjust"]


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order.

    With the m p-values sorted ascending, p_(1) <= ... <= p_(m)::

        p̃_(i) = max_{j <= i} min(1, (m - j + 1)·p_(j))

    Rejecting every hypothesis with p̃ <= alpha is Holm's procedure. Ties keep
    their input order (the adjusted values of tied p-values are equal anyway).

    Reference: S. Holm (1979), "A simple sequentially rejective multiple test
    procedure", Scandinavian Journal of Statistics 6:65-70. Matches
    ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``.

    Args:
        p_values: Raw p-values, each in [0, 1].

    Returns:
        Adjusted p-values in the same order as the input.
    """
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must be in [0, 1], got {p}")
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
