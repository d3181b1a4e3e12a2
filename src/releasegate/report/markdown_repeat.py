"""Markdown sections for repeated draws (``generation.repeats``) and the determinism check."""

from __future__ import annotations

from releasegate.records.determinism import DeterminismReport
from releasegate.records.run import PipelineResult
from releasegate.report.text import md_code_span, md_inline

MAX_CHANGES_SHOWN = 10
MAX_UNSTABLE_SHOWN = 10


def repeats_section(result: PipelineResult) -> str:
    """pass@k, mean and pass^k side by side, and the examples whose draws disagree."""
    k = repeats_of(result)
    if k < 2:
        return ""
    details = result.metric_details
    lines = [
        f"## Repeats: {k} draws per example",
        "",
        f"Every example was generated {k} times (temperature "
        f"{_temperature(result)}); rates are means over all draws with intervals "
        "clustered by example. pass@k: at least one of the k draws is accurate; "
        "pass^k: all k are. The judge and safety stages read draw 0.",
        "",
        "| Metric | Value | 95% CI | n |",
        "|---|---|---|---|",
    ]
    for name, label in (
        ("pass_at_k", f"pass@{k}"),
        ("accuracy", "accuracy (mean over draws)"),
        ("pass_hat_k", f"pass^{k}"),
    ):
        mv = details.get(name)
        if mv is None:
            continue
        ci = f"{mv.ci.low:.3f}–{mv.ci.high:.3f}" if mv.ci else "—"
        lines.append(f"| {label} | {mv.value:.3f} | {ci} | {mv.n} |")
    unstable = [
        (e.id, counts)
        for e in result.examples
        if (counts := e.draw_counts("accuracy")) is not None and 0 < counts[0] < counts[1]
    ]
    lines += ["", f"{len(unstable)} example(s) are accurate in some draws but not all."]
    for sid, (c, n) in unstable[:MAX_UNSTABLE_SHOWN]:
        lines.append(f"- {md_code_span(sid)}: {c} of {n} draws accurate")
    if len(unstable) > MAX_UNSTABLE_SHOWN:
        lines.append(f"- … and {len(unstable) - MAX_UNSTABLE_SHOWN} more (report.json)")
    return "\n".join(lines)


def determinism_section(report: DeterminismReport | None) -> str:
    """How many regenerated outputs changed, which, where, and the likely causes."""
    if report is None:
        return ""
    lines = ["## Determinism check", "", determinism_line(report) + "."]
    if report.expected_to_change:
        lines.append("Sampling is on (temperature > 0): changes are expected, and measured.")
    if report.n_failed:
        lines.append(f"{report.n_failed} sampled example(s) had no output and were not compared.")
    if report.causes:
        lines += ["", "**Likely causes:**"]
        lines += [f"- {md_inline(cause, limit=400)}" for cause in report.causes]
    if report.changed:
        lines += ["", "| Example | First difference at | Before | After |", "|---|---|---|---|"]
        for change in report.changed[:MAX_CHANGES_SHOWN]:
            before = md_code_span(change.before, limit=80)
            after = md_code_span(change.after, limit=80)
            lines.append(
                f"| {md_code_span(change.id)} | char {change.first_diff_at} | {before} | {after} |"
            )
        if len(report.changed) > MAX_CHANGES_SHOWN:
            lines.append(f"\n… and {len(report.changed) - MAX_CHANGES_SHOWN} more (report.json).")
    return "\n".join(lines)


def determinism_line(report: DeterminismReport) -> str:
    """``2 of 20 regenerated outputs changed (batch size 64 first, 1 in the check)``."""
    return (
        f"{report.n_changed} of {report.n_checked} regenerated outputs changed "
        f"(first generation in batches of {report.batch_size}, the check one at a time "
        "with the cache off)"
    )


def repeats_of(result: PipelineResult) -> int:
    """``generation.repeats`` of the run (1 when the config does not say)."""
    generation = result.run.config.get("generation")
    value = generation.get("repeats", 1) if isinstance(generation, dict) else 1
    return value if isinstance(value, int) else 1


def _temperature(result: PipelineResult) -> str:
    generation = result.run.config.get("generation")
    value = generation.get("temperature") if isinstance(generation, dict) else None
    return f"{value:g}" if isinstance(value, int | float) else "?"
