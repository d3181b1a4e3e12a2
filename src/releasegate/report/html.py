"""``report.html``: one self-contained page (inline CSS, inline SVG, no script).

Jinja2 autoescaping escapes every model output and benchmark text, and a
Content-Security-Policy forbids scripts and external loads, so an output that
contains markup is shown, never run.

The template is compiled once per process, and its compiled code is kept in jinja2's
per-user bytecode cache (a private folder in the temp directory), so a re-run skips
the ~0.1 s compile. An entry is used only for the same template source, jinja2
version and autoescaping; a cache that cannot be read or written is a miss,
never an error.
"""

from __future__ import annotations

import contextlib
import functools

import jinja2
from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, Template
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from releasegate.records.core import MetricValue
from releasegate.records.run import PipelineResult
from releasegate.report.html_views import html_views
from releasegate.report.markdown import headline_metrics, primary_metric, safety_metrics
from releasegate.report.markdown_repeat import repeats_of

MAX_FAILING = 25
_BAR_W, _ROW_H, _LABEL_W = 420, 22, 170
_AUTOESCAPE = True
"""Escape every value in the page. Compiled into the template's code, so it is part of
the bytecode cache key too."""


def render_html(result: PipelineResult) -> str:
    """The whole page."""
    primary = primary_metric(result)
    failing = [e for e in result.examples if primary and e.outcomes.get(primary) is False]
    return _template().render(
        r=result,
        chart=category_chart(result),
        headline=headline_metrics(result),
        safety_metrics=sorted(safety_metrics(result).items()),
        failing=failing[:MAX_FAILING],
        primary=primary,
        repeats=repeats_of(result),
        **html_views(result, primary=primary),
    )


@functools.cache
def _template() -> Template:
    return load_template(_default_cache())


def load_template(cache: BytecodeCache | None) -> Template:
    """The page template, its compiled code taken from ``cache`` when it holds it."""
    env = Environment(
        loader=PackageLoader("releasegate"), autoescape=_AUTOESCAPE, bytecode_cache=cache
    )
    return env.get_template("report.html.j2")


class TemplateCache(FileSystemBytecodeCache):
    """jinja2's file cache, keyed also by jinja2's version and the options; failures are misses."""

    def get_source_checksum(self, source: str) -> str:
        """The checksum of the source together with what else its compiled code depends on."""
        salt = f"jinja2 {jinja2.__version__}, autoescape={_AUTOESCAPE}\n"
        return super().get_source_checksum(salt + source)

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill ``bucket`` from its file; a missing, unreadable or damaged file leaves it empty."""
        try:
            super().load_bytecode(bucket)
        except Exception:  # whatever a damaged entry raises, the template is compiled instead
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Write ``bucket`` to its file (atomically); if that fails the next run compiles."""
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _default_cache() -> TemplateCache | None:
    try:
        return TemplateCache()  # jinja2 makes (or checks) a folder only this user can use
    except (OSError, RuntimeError):  # no safe folder: compile on every run
        return None


def category_chart(result: PipelineResult) -> Markup | None:
    """Horizontal bars of the primary metric per category with CI whiskers, as inline SVG."""
    primary = primary_metric(result)
    prefix = f"{primary}["
    rows: list[tuple[str, MetricValue]] = [
        (name[len(prefix) : -1], mv)
        for name, mv in sorted(result.metric_details.items())
        if primary is not None and name.startswith(prefix)
    ]
    if len(rows) < 2:
        return None
    height = _ROW_H * len(rows) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LABEL_W + _BAR_W + 70}" '
        f'height="{height}" role="img" aria-label="{escape(primary)} by category">'
    ]
    for i, (category, mv) in enumerate(rows):
        y = i * _ROW_H + 4
        width = mv.value * _BAR_W
        parts.append(
            f'<text x="{_LABEL_W - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(category)} (n={mv.n})</text>"
            f'<rect x="{_LABEL_W}" y="{y}" width="{width:.1f}" height="16" fill="#4c8bf5"/>'
        )
        if mv.ci is not None:
            lo, hi = _LABEL_W + mv.ci.low * _BAR_W, _LABEL_W + mv.ci.high * _BAR_W
            parts.append(
                f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + 8}" y2="{y + 8}" '
                'stroke="#1d2430" stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{_LABEL_W + _BAR_W + 6}" y="{y + 14}" font-size="12">{mv.value:.3f}</text>'
        )
    axis_y = len(rows) * _ROW_H + 8
    parts.append(
        f'<line x1="{_LABEL_W}" x2="{_LABEL_W + _BAR_W}" y1="{axis_y}" y2="{axis_y}" '
        'stroke="#888"/>'
        f'<text x="{_LABEL_W}" y="{axis_y + 14}" font-size="11">0</text>'
        f'<text x="{_LABEL_W + _BAR_W}" y="{axis_y + 14}" font-size="11" '
        'text-anchor="end">1</text></svg>'
    )
    # Safe to mark: built only from escaped category names and formatted numbers.
    return Markup("".join(parts))
