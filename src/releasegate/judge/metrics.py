"""Aggregate judged items into ``judge_*`` metrics with t-intervals.

Scores are means over the items that got a verdict (judge errors are counted in
``n_failed``, never scored). The interval is the Student t interval of the mean
over the sampled items, so it widens as the sample shrinks; with fewer than two
verdicts, or no spread at all, there is no interval (None, never zero-width).
``*_norm`` maps 1–5 onto 0–1 as ``(x - 1) / 4``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import special

from releasegate.config.judge import Criterion
from releasegate.records.core import Interval, MetricValue
from releasegate.records.judge import JudgeItem

LEVEL = 0.95


def t_interval(
    values: Sequence[float], *, level: float = LEVEL, bounds: tuple[float, float] = (1.0, 5.0)
) -> Interval | None:
    """Two-sided Student t interval of the mean, clipped to the scale's ``bounds``.

    None for n < 2 or zero spread (never a zero-width interval).
    """
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    if var <= 0.0:
        return None
    half = float(special.stdtrit(n - 1, (1 + level) / 2)) * math.sqrt(var / n)
    return Interval(
        low=max(bounds[0], mean - half),
        high=min(bounds[1], mean + half),
        level=level,
        method="t-interval",
    )


def _norm_interval(ci: Interval | None) -> Interval | None:
    if ci is None:
        return None
    return Interval(low=(ci.low - 1) / 4, high=(ci.high - 1) / 4, level=ci.level, method=ci.method)


def _score_metrics(name: str, values: list[float], n_failed: int) -> dict[str, MetricValue]:
    mean = math.fsum(values) / len(values)
    ci = t_interval(values)
    return {
        name: MetricValue(
            name=name, value=mean, ci=ci, n=len(values), n_failed=n_failed, unit="score"
        ),
        f"{name}_norm": MetricValue(
            name=f"{name}_norm",
            value=(mean - 1) / 4,
            ci=_norm_interval(ci),
            n=len(values),
            n_failed=n_failed,
            unit="rate",
        ),
    }


def aggregate(
    items: Sequence[JudgeItem], criteria: Sequence[Criterion], *, spent_usd: float, calls: int
) -> dict[str, MetricValue]:
    """The ``judge_*`` metrics; score metrics only when at least one item has a verdict."""
    judged = [it for it in items if it.scores is not None]
    n_failed = len(items) - len(judged)
    metrics: dict[str, MetricValue] = {}
    if judged:
        for c in criteria:
            values = [float(it.scores[c.name]) for it in judged if it.scores is not None]
            metrics.update(_score_metrics(f"judge_{c.name}", values, n_failed))
        overall = [
            math.fsum(it.scores.values()) / len(it.scores) for it in judged if it.scores is not None
        ]
        metrics.update(_score_metrics("judge_overall", overall, n_failed))
    if items:
        metrics["judge_coverage"] = MetricValue(
            name="judge_coverage",
            value=len(judged) / len(items),
            n=len(items),
            unit="rate",
        )
    metrics["judge_cost_usd"] = MetricValue(
        name="judge_cost_usd", value=spent_usd, n=calls, higher_is_better=False, unit="usd"
    )
    metrics["judge_injection_flagged"] = MetricValue(
        name="judge_injection_flagged",
        value=float(sum(it.injection_flagged for it in items)),
        n=len(items),
        higher_is_better=False,
        unit="count",
    )
    return metrics
