"""Aggregate per-example outcomes into metrics with confidence intervals.

Rates get Wilson score intervals. A failed example (no output) counts as not
passing in every rate it applies to and is counted in ``n_failed``. Field-level
precision/recall/F1 are micro-averaged over examples, with a seeded percentile
bootstrap over examples (fields of one example are not independent).
A metric that applies to no example is absent, never 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from releasegate.records.core import ExampleResult, Interval, MetricValue
from releasegate.scoring.repeats import clustered_rate
from releasegate.scoring.toolcalls import ERROR_TYPES
from releasegate.stats.intervals import wilson

BOOTSTRAP_RESAMPLES = 2000


class Outcomes(Protocol):
    """A scored example: a run's ``ExampleResult`` or a baseline's ``BaselineExample``."""

    @property
    def outcomes(self) -> Mapping[str, bool | None]:
        """Outcome key -> passed (None: the outcome does not apply to the example)."""
        ...

    @property
    def output(self) -> str | None:
        """The model's output; None when it produced none."""
        ...

    @property
    def draw_outcomes(self) -> Mapping[str, Sequence[bool | None]]:
        """Every draw's outcome per key with ``generation.repeats`` > 1 (else empty)."""
        ...

    @property
    def draw_outputs(self) -> Sequence[str | None]:
        """Outputs of draws 1 .. k-1 where the record keeps them (else empty)."""
        ...

    def draw_counts(self, key: str) -> tuple[int, int] | None:
        """(passing draws, applicable draws) of ``key``; None if it applies to none."""
        ...


def aggregate(
    examples: Sequence[ExampleResult],
    *,
    rate_metrics: Sequence[str],
    rng: np.random.Generator,
) -> dict[str, MetricValue]:
    """Overall and per-category metrics; per-category names are ``metric[category]``.

    Args:
        examples: Scored examples.
        rate_metrics: Names of the per-example outcomes to aggregate as rates.
        rng: Generator for the field-metric bootstrap.
    """
    metrics = _aggregate_group(examples, rate_metrics, suffix="", rng=rng)
    for category in sorted({e.category for e in examples}):
        members = [e for e in examples if e.category == category]
        metrics.update(_aggregate_group(members, rate_metrics, suffix=f"[{category}]", rng=rng))
    return metrics


def _aggregate_group(
    examples: Sequence[ExampleResult],
    rate_metrics: Sequence[str],
    *,
    suffix: str,
    rng: np.random.Generator,
) -> dict[str, MetricValue]:
    out: dict[str, MetricValue] = {}
    for metric in rate_metrics:
        rate = rate_metric(metric + suffix, examples, metric)
        if rate is not None:
            out[rate.name] = rate
    out.update(field_metrics(examples, suffix=suffix, rng=rng))
    return out


def error_metric_name(error_type: str) -> str:
    """``error_rate_wrong_function``: brackets are for categories, so the type is in the name."""
    return f"error_rate_{error_type}"


def error_rates(examples: Sequence[ExampleResult]) -> dict[str, MetricValue]:
    """``error_rate_TYPE`` (and ``[category]``): share of call-scored examples with that type.

    Overall and within each category, over the examples compared as function calls;
    the rates plus ``accuracy`` on those examples sum to 1. Lower is better. A
    category with no call-scored example has no rates (absent, never 0). The reports
    show the overall rates; the category variants are in ``report.json`` and gateable.
    """
    scored = [e for e in examples if e.calls_scored]
    out = _error_group(scored, suffix="")
    for category in sorted({e.category for e in scored}):
        members = [e for e in scored if e.category == category]
        out.update(_error_group(members, suffix=f"[{category}]"))
    return out


def _error_group(scored: Sequence[ExampleResult], *, suffix: str) -> dict[str, MetricValue]:
    if not scored:
        return {}
    out: dict[str, MetricValue] = {}
    for kind in ERROR_TYPES:
        hits = sum(1 for e in scored if e.error_type == kind)
        name = error_metric_name(kind) + suffix
        out[name] = MetricValue(
            name=name,
            value=hits / len(scored),
            ci=wilson(hits, n=len(scored)),
            n=len(scored),
            n_failed=sum(1 for e in scored if e.output is None),
            higher_is_better=False,
            unit="rate",
        )
    return out


def error_type_notes(examples: Sequence[ExampleResult]) -> list[str]:
    """One line counting the error types of the examples scored as calls."""
    counts = Counter(e.error_type for e in examples if e.calls_scored and e.error_type)
    if not counts:
        return []
    scored = sum(1 for e in examples if e.calls_scored)
    parts = ", ".join(f"{kind} {counts[kind]}" for kind in ERROR_TYPES if counts[kind])
    return [f"call errors over {scored} example(s) scored as calls: {parts}"]


def rate_metric(name: str, examples: Sequence[Outcomes], key: str) -> MetricValue | None:
    """Proportion of applicable examples passing ``key``, with a Wilson interval.

    With several draws per example (``generation.repeats``) the proportion is over
    all draws, with the interval clustered by example (:mod:`releasegate.scoring.repeats`).
    """
    if any(e.draw_outcomes for e in examples):
        return clustered_rate(name, examples, key)
    applicable = [e for e in examples if e.outcomes.get(key) is not None]
    if not applicable:
        return None
    passed = sum(1 for e in applicable if e.outcomes[key])
    return MetricValue(
        name=name,
        value=passed / len(applicable),
        ci=wilson(passed, n=len(applicable)),
        n=len(applicable),
        n_failed=sum(1 for e in applicable if e.output is None),
        unit="rate",
    )


def field_metrics(
    examples: Sequence[ExampleResult], *, suffix: str, rng: np.random.Generator
) -> dict[str, MetricValue]:
    """Micro-averaged argument precision, recall and F1 with bootstrap intervals."""
    rows = [e for e in examples if e.field_expected is not None]
    if not rows:
        return {}
    counts = np.array(
        [[e.field_tp or 0, e.field_predicted or 0, e.field_expected or 0] for e in rows],
        dtype=np.float64,
    )
    n_failed = sum(1 for e in rows if e.output is None)
    idx = rng.integers(0, len(rows), size=(BOOTSTRAP_RESAMPLES, len(rows)))
    boot = _resampled_sums(counts, idx)
    point = counts.sum(axis=0)
    out: dict[str, MetricValue] = {}
    for name, value, samples in _prf(point, boot):
        if value is None:
            continue
        finite = samples[np.isfinite(samples)]
        ci = None
        if len(rows) >= 2 and finite.size:
            low, high = np.percentile(finite, [2.5, 97.5])
            ci = Interval(low=float(low), high=float(high), method="bootstrap-percentile")
        out[f"{name}{suffix}"] = MetricValue(
            name=f"{name}{suffix}", value=value, ci=ci, n=len(rows), n_failed=n_failed, unit="rate"
        )
    return out


_FIELD_BITS = 21
"""Bits per count in a packed row: three counts in one int64 (3 x 21 = 63 bits)."""


def _resampled_sums(counts: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(B, 3): the tp, predicted and expected sums of each resample (row ``idx[b]``).

    Sums of integer counts are exact in any order. When every resample's sum of each
    count fits in 21 bits (``n * max`` does), the three counts travel packed in one
    int64 and the resamples take one gather and one sum instead of three (~3x faster);
    otherwise one gather per column, with the same sums.
    """
    columns = counts.astype(np.int64)
    if len(counts) * int(columns.max(initial=0)) < 1 << _FIELD_BITS:
        packed = columns[:, 0] | (columns[:, 1] << _FIELD_BITS) | (columns[:, 2] << 2 * _FIELD_BITS)
        total = packed.take(idx).sum(axis=1)
        mask = (1 << _FIELD_BITS) - 1
        parts = [(total >> (_FIELD_BITS * j)) & mask for j in range(3)]
        return np.stack(parts, axis=1).astype(np.float64)
    return np.stack([counts[:, j].take(idx).sum(axis=1) for j in range(3)], axis=1)


def _prf(point: np.ndarray, boot: np.ndarray) -> list[tuple[str, float | None, np.ndarray]]:
    tp, pred, exp = point
    with np.errstate(divide="ignore", invalid="ignore"):
        p_boot = boot[:, 0] / boot[:, 1]
        r_boot = boot[:, 0] / boot[:, 2]
        f_boot = 2 * boot[:, 0] / (boot[:, 1] + boot[:, 2])
    precision = float(tp / pred) if pred else None
    recall = float(tp / exp) if exp else None
    f1 = float(2 * tp / (pred + exp)) if pred + exp else None
    return [
        ("field_precision", precision, p_boot),
        ("field_recall", recall, r_boot),
        ("field_f1", f1, f_boot),
    ]
