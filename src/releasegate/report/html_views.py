"""What report.html draws beyond tables: charts and every example, grouped.

Pure functions of the run record. Charts are static SVG from ``report.svg``; example
text is left to the template's autoescaping.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from markupsafe import Markup

from releasegate.records.core import ExampleResult, MetricValue
from releasegate.records.run import PipelineResult
from releasegate.report.svg import BASELINE_COLOUR, Point, Row, bins, histogram, interval_rows

OUTCOMES = ("flipped", "failed", "passed")


@dataclass
class ExampleView:
    """One example as the page shows it."""

    anchor: str
    example: ExampleResult
    outcome: str
    rationale: str | None = None
    scores: dict[str, int] = field(default_factory=dict)
    baseline_output: str | None = None


@dataclass
class CategoryView:
    """One category's examples, by outcome."""

    anchor: str
    name: str
    groups: dict[str, list[ExampleView]]


def html_views(result: PipelineResult, *, primary: str | None) -> dict[str, object]:
    """Everything the template needs for charts and the example browser.

    Args:
        result: the run.
        primary: the headline per-example metric (its categories are compared, and its
            outcome decides "failed" in the example browser).
    """
    baseline_metrics, baseline_note = _baseline_metrics(result)
    compare = category_compare(result, baseline_metrics, primary) if primary else None
    return {
        "category_compare": compare,
        "baseline_note": baseline_note,
        "gate_chart": gate_chart(result),
        "latency_chart": latency_chart(result),
        "judge_charts": judge_charts(result),
        "categories": example_groups(result, primary),
    }


def _baseline_metrics(result: PipelineResult) -> tuple[dict[str, MetricValue], str]:
    """The baseline's per-category rates (with intervals) where the baseline keeps examples."""
    if result.regression is None:
        return {}, ""
    values = dict(result.regression.baseline_categories)
    if values:
        return values, "grey: the baseline run, recomputed from its examples, with its 95% interval"
    note = "the baseline is a flat one (no examples): only the candidate is drawn per category"
    return values, note


def _point(mv: MetricValue, colour: str | None = None) -> Point:
    low = mv.ci.low if mv.ci else None
    high = mv.ci.high if mv.ci else None
    if colour is None:
        return Point(mv.value, low, high)
    return Point(mv.value, low, high, colour)


def category_compare(
    result: PipelineResult, baseline: dict[str, MetricValue], metric: str
) -> Markup | None:
    """Per-category ``metric``: candidate and baseline (grey), each with its 95% interval."""
    prefix = f"{metric}["
    names = sorted(n for n in result.metric_details if n.startswith(prefix))
    if not names:
        return None
    rows = []
    for name in names:
        current = result.metric_details[name]
        before = baseline.get(name)
        points = [_point(before, BASELINE_COLOUR)] if before is not None else []
        points.append(_point(current))
        was = f" (was {before.value:.3f})" if before is not None else ""
        note = f"{current.value:.3f}{was}"
        rows.append(
            Row(label=f"{name[len(prefix) : -1]} (n={current.n})", points=points, note=note)
        )
    title = f"{metric} by category, baseline and candidate"
    return interval_rows(rows, title=title)


def gate_chart(result: PipelineResult) -> list[Markup]:
    """Each evaluated gate: the compared value and its interval against the threshold.

    Rate gates share one 0-1 axis; other gates, and the regression gates (a
    difference from the baseline with its interval), get an axis each.
    """
    rates: list[Row] = []
    charts: list[Markup] = []
    compared = result.regression.metrics if result.regression else {}
    for gate in result.gates:
        if not gate.evaluated:
            continue
        verdict = "pass" if gate.passed else "FAIL"
        comparison = compared.get(gate.metric) if gate.name.startswith("regression:") else None
        if comparison is not None:
            point = Point(comparison.difference, comparison.ci_low, comparison.ci_high)
            values = [comparison.difference, comparison.threshold]
            values += [v for v in (comparison.ci_low, comparison.ci_high) if v is not None]
            row = Row(
                label=gate.name,
                points=[point],
                threshold=comparison.threshold,
                note=f"Δ {comparison.difference:+.3f} vs {comparison.threshold:+g}: {verdict}",
            )
            charts.append(interval_rows([row], domain=_domain(values), title=f"gate {gate.name}"))
            continue
        mv = result.metric_details.get(gate.metric)
        if mv is None:
            continue
        row = Row(
            label=gate.name,
            points=[_point(mv)],
            threshold=gate.threshold,
            note=f"{mv.value:.3f} {gate.rule}: {verdict}",
        )
        if mv.unit == "rate":
            rates.append(row)
            continue
        values = [mv.value, gate.threshold] + ([mv.ci.low, mv.ci.high] if mv.ci else [])
        charts.append(interval_rows([row], domain=_domain(values), title=f"gate {gate.name}"))
    if rates:
        charts.insert(0, interval_rows(rates, title="rate gates against their thresholds"))
    return charts


def _domain(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or max(abs(hi), 1.0) * 0.1
    return lo - pad, hi + pad


def latency_chart(result: PipelineResult) -> Markup | None:
    """Histogram of per-example latency, when latency was measured."""
    values = [e.latency_s for e in result.examples if e.latency_s is not None]
    values = [v for v in values if math.isfinite(v)]
    if len(values) < 2:
        return None
    counts, labels = bins(values)
    return histogram(counts, labels, title="latency per example (seconds)")


def judge_charts(result: PipelineResult) -> list[tuple[str, Markup]]:
    """Per judge criterion: how many items got each score."""
    judge = result.judge
    if judge is None or judge.status != "success":
        return []
    per: dict[str, Counter[int]] = {}
    for item in judge.items:
        for criterion, score in (item.scores or {}).items():
            per.setdefault(criterion, Counter())[score] += 1
    charts = []
    for criterion, counter in sorted(per.items()):
        scale = range(min(*counter, 1), max(*counter, 5) + 1)
        counts = [counter.get(s, 0) for s in scale]
        charts.append(
            (criterion, histogram(counts, [str(s) for s in scale], title=f"judge {criterion}"))
        )
    return charts


def example_groups(result: PipelineResult, primary: str | None) -> list[CategoryView]:
    """Every example, by category and outcome: flipped, failed, passed."""
    flips = {f.id: f for f in (result.regression.flipped_examples if result.regression else [])}
    judged = {i.id: i for i in (result.judge.items if result.judge else [])}
    by_category: dict[str, CategoryView] = {}
    for index, example in enumerate(result.examples):
        view = by_category.setdefault(
            example.category,
            CategoryView(
                anchor=f"cat-{len(by_category)}",
                name=example.category,
                groups={o: [] for o in OUTCOMES},
            ),
        )
        flip = flips.get(example.id)
        judge = judged.get(example.id)
        outcome = "flipped" if flip else ("failed" if _failed(example, primary) else "passed")
        view.groups[outcome].append(
            ExampleView(
                anchor=f"ex-{index}",
                example=example,
                outcome=outcome if not flip else f"flipped {flip.direction.replace('_', ' ')}",
                rationale=judge.rationale if judge else None,
                scores=dict(judge.scores or {}) if judge else {},
                baseline_output=flip.baseline_output if flip else None,
            )
        )
    return sorted(by_category.values(), key=lambda c: c.name)


def _failed(example: ExampleResult, primary: str | None) -> bool:
    if example.output is None or example.error:
        return True
    if primary is not None and primary in example.outcomes:
        return example.outcomes[primary] is False
    return any(v is False for v in example.outcomes.values())
