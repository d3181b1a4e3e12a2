"""A small static-SVG helper for report.html: interval rows and histograms.

Every label passes through ``markupsafe.escape`` and every number through a format
spec, so the returned ``Markup`` holds no untrusted markup. No script, no external
reference: the page's Content-Security-Policy allows inline SVG only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

LABEL_W, PLOT_W, VALUE_W, ROW_H = 190, 380, 150, 22
BASELINE_COLOUR, CANDIDATE_COLOUR, THRESHOLD_COLOUR = "#8c959f", "#0969da", "#cf222e"


@dataclass(frozen=True)
class Point:
    """A value with an optional interval, drawn as a dot with whiskers."""

    value: float
    low: float | None = None
    high: float | None = None
    colour: str = CANDIDATE_COLOUR


@dataclass(frozen=True)
class Row:
    """One labelled row: one or more points (e.g. baseline and candidate), and a mark."""

    label: str
    points: Sequence[Point]
    note: str = ""
    """Text right of the plot (e.g. ``0.912 vs 0.880``)."""
    threshold: float | None = None
    """A vertical threshold mark on this row."""


def _x(value: float, lo: float, hi: float) -> float:
    span = hi - lo or 1.0
    return LABEL_W + (min(max(value, lo), hi) - lo) / span * PLOT_W


def interval_rows(
    rows: Sequence[Row], *, domain: tuple[float, float] = (0.0, 1.0), title: str
) -> Markup:
    """Rows of dots with interval whiskers over a shared axis, with threshold marks."""
    lo, hi = domain
    width = LABEL_W + PLOT_W + VALUE_W
    height = ROW_H * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
    ]
    for i, row in enumerate(rows):
        y = i * ROW_H + 12
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + 4}" text-anchor="end" font-size="12">'
            f"{escape(row.label)}</text>"
            f'<line x1="{LABEL_W}" x2="{LABEL_W + PLOT_W}" y1="{y}" y2="{y}" stroke="#eaeef2"/>'
        )
        offsets = _offsets(len(row.points))
        for point, dy in zip(row.points, offsets, strict=True):
            parts.append(_point(point, y + dy, lo, hi))
        if row.threshold is not None:
            tx = _x(row.threshold, lo, hi)
            parts.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 9}" y2="{y + 9}" '
                f'stroke="{THRESHOLD_COLOUR}" stroke-width="2"/>'
            )
        if row.note:
            parts.append(
                f'<text x="{LABEL_W + PLOT_W + 8}" y="{y + 4}" font-size="11">'
                f"{escape(row.note)}</text>"
            )
    parts.append(_axis(len(rows) * ROW_H + 6, lo, hi))
    parts.append("</svg>")
    return Markup("".join(parts))


def _offsets(n: int) -> list[float]:
    if n <= 1:
        return [0.0] * n
    step = 8.0 / (n - 1)
    return [-4.0 + i * step for i in range(n)]


def _point(point: Point, y: float, lo: float, hi: float) -> str:
    out = ""
    if point.low is not None and point.high is not None:
        x1, x2 = _x(point.low, lo, hi), _x(point.high, lo, hi)
        out += (
            f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{point.colour}" stroke-width="2"/>'
        )
    cx = _x(point.value, lo, hi)
    return out + f'<circle cx="{cx:.1f}" cy="{y:.1f}" r="4" fill="{point.colour}"/>'


def _axis(y: float, lo: float, hi: float) -> str:
    ticks = "".join(
        f'<text x="{_x(v, lo, hi):.1f}" y="{y + 16}" font-size="10" text-anchor="middle">'
        f"{v:.3g}</text>"
        for v in (lo, (lo + hi) / 2, hi)
    )
    return f'<line x1="{LABEL_W}" x2="{LABEL_W + PLOT_W}" y1="{y}" y2="{y}" stroke="#888"/>' + ticks


def histogram(
    counts: Sequence[int], labels: Sequence[str], *, title: str, colour: str = CANDIDATE_COLOUR
) -> Markup:
    """Vertical bars, one per bin, with its count above and its label below."""
    bar_w, gap, plot_h = 34, 6, 90
    width = max(len(counts), 1) * (bar_w + gap) + 20
    height = plot_h + 40
    top = max(counts, default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
    ]
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        x = 10 + i * (bar_w + gap)
        h = count / top * plot_h
        y = 14 + plot_h - h
        parts.append(
            f'<rect x="{x}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" fill="{colour}"/>'
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
            f'text-anchor="middle">{count}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{plot_h + 28}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bins(values: Sequence[float], n: int = 12) -> tuple[list[int], list[str]]:
    """Equal-width bins over the range of ``values`` (counts and lower-edge labels)."""
    if not values:
        return [], []
    lo, hi = min(values), max(values)
    width = (hi - lo) / n if hi > lo else 1.0
    counts = [0] * n
    for v in values:
        counts[min(int((v - lo) / width), n - 1)] += 1
    return counts, [f"{lo + i * width:.3g}" for i in range(n)]
