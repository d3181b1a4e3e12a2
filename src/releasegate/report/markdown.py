"""``report.md``: the human report, sized for a GitHub job summary or PR comment.

Every piece of model output or benchmark text is escaped (``md_inline``) or fenced
(``md_code``): it is untrusted data.
"""

from __future__ import annotations

from releasegate.records.core import ExampleResult, GateResult, MetricValue
from releasegate.records.run import PipelineResult, spec_of
from releasegate.report.markdown_repeat import determinism_section, repeats_section
from releasegate.report.markdown_stages import judge_section, regression_section, safety_section
from releasegate.report.text import html_text, md_code, md_code_span, md_inline

_ICON = {"DEPLOY": "✅", "BLOCK": "❌", "ERROR": "⚠️"}


def render_markdown(result: PipelineResult) -> str:
    """The whole human report."""
    parts = [
        _header(result),
        _gates(result.gates),
        _failures(result),
        regression_section(result.regression),
        _metrics(result),
        _categories(result),
        repeats_section(result),
        determinism_section(result.determinism),
        safety_section(result.safety, safety_metrics(result)),
        judge_section(result.judge),
        _stages(result),
        _provenance(result),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _header(result: PipelineResult) -> str:
    run = result.run
    lines = [
        f"# {_ICON[result.decision.value]} releasegate: **{result.decision.value}**",
        "",
        f"Model {md_code_span(run.model_ref)} ({run.model_backend}) on benchmark "
        f"{md_code_span(run.benchmark_name)} ({run.n_examples} examples), "
        f"run `{run.run_id}`, {run.duration_seconds:.1f} s.",
        "",
        "**Why:**",
    ]
    lines += [f"- {md_inline(reason, limit=600)}" for reason in result.reasons]
    if result.warnings:
        lines += ["", "**Warnings:**"]
        lines += [f"- {md_inline(w, limit=600)}" for w in result.warnings]
    return "\n".join(lines)


def _gates(gates: list[GateResult]) -> str:
    if not gates:
        return ""
    rows = [
        "## Quality gates",
        "",
        "| Gate | Metric | Value | Rule | Type | Result |",
        "|---|---|---|---|---|---|",
    ]
    for g in gates:
        value = "—" if g.value is None else f"{g.value:.4f}"
        if g.bound != "point" and g.value is not None:
            value += f" ({g.bound})"
        outcome = "NOT EVALUATED" if not g.evaluated else ("pass" if g.passed else "**FAIL**")
        kind = str(g.gate_type)
        if g.downgraded_from is not None:  # an untrusted judge's gate (judge.health)
            kind += f" (downgraded from {g.downgraded_from})"
        rows.append(
            f"| {md_inline(g.name)} | {md_code_span(g.metric)} | {value} "
            f"| {md_inline(g.rule)} | {kind} | {outcome} |"
        )
    return "\n".join(rows)


def _failures(result: PipelineResult) -> str:
    failed = [g for g in result.gates if not g.passed and g.evaluated]
    if not failed:
        return ""
    by_id = {e.id: e for e in result.examples}
    blocks = ["## What failed and why"]
    for gate in failed:
        title = f"### {md_inline(gate.name)} ({gate.gate_type})"
        blocks.append(f"{title}\n\n{md_inline(gate.explanation, limit=1200)}")
        if gate.description:
            blocks.append(f"_Protects: {md_inline(gate.description, limit=300)}_")
        examples = [by_id[i] for i in gate.worst_examples if i in by_id][:3]
        if examples:
            blocks.append(f"Failing examples ({len(gate.worst_examples)} listed in report.json):")
            blocks.extend(_example_block(e) for e in examples)
    return "\n\n".join(blocks)


def _example_block(example: ExampleResult) -> str:
    problem = example.error or example.schema_error or example.parse_error
    lines = [
        f"<details><summary><code>{html_text(example.id)}</code> ({html_text(example.category)})"
        f"{': ' + md_inline(problem, limit=120) if problem else ''}</summary>",
        "",
        f"Input: {md_inline(example.input, limit=300)}",
        "",
        "Expected:",
        "",
        md_code(example.expected_output),
        "",
        "Got:",
        "",
        md_code(example.output),
        "",
        "</details>",
    ]
    return "\n".join(lines)


def _fmt_metric(mv: MetricValue) -> str:
    ci = f"{mv.ci.low:.3f}–{mv.ci.high:.3f}" if mv.ci else "—"
    failed = f" ({mv.n_failed} failed)" if mv.n_failed else ""
    return f"{mv.value:.4f} | {ci} | {mv.n}{failed}"


def headline_metrics(result: PipelineResult) -> list[tuple[str, MetricValue]]:
    """Overall metrics in declaration order (per-category and safety metrics left out)."""
    details = result.metric_details
    declared = [m.name for m in result.catalog if not m.safety]
    names = [n for n in declared if n in details]
    names += sorted(
        n for n in details if n not in names and "[" not in n and not _is_safety(result, n)
    )
    return [(n, details[n]) for n in names]


def safety_metrics(result: PipelineResult) -> dict[str, MetricValue]:
    """Every metric (and category variant) declared a safety metric."""
    return {n: mv for n, mv in sorted(result.metric_details.items()) if _is_safety(result, n)}


def primary_metric(result: PipelineResult) -> str | None:
    """The first declared per-example metric with categories: the report's headline."""
    return next(
        (m.name for m in result.catalog if m.per_category and m.outcome_key and not m.safety),
        None,
    )


def _is_safety(result: PipelineResult, name: str) -> bool:
    info = spec_of(result, name)
    return info is not None and info.safety


def _metrics(result: PipelineResult) -> str:
    rows = headline_metrics(result)
    if not rows:
        return ""
    lines = ["## Metrics", "", "| Metric | Value | 95% CI | n |", "|---|---|---|---|"]
    lines += [f"| {md_code_span(n)} | {_fmt_metric(mv)} |" for n, mv in rows]
    return "\n".join(lines)


def _categories(result: PipelineResult) -> str:
    details = result.metric_details
    categories = sorted({e.category for e in result.examples})
    primary = primary_metric(result)
    if len(categories) < 2 or primary is None:
        return ""
    rows = [
        "## By category",
        "",
        f"| Category | n | {primary} | 95% CI |",
        "|---|---|---|---|",
    ]
    for category in categories:
        mv = details.get(f"{primary}[{category}]")
        if mv is None:
            continue
        ci = f"{mv.ci.low:.3f}–{mv.ci.high:.3f}" if mv.ci else "—"
        rows.append(f"| {md_inline(category)} | {mv.n} | {mv.value:.3f} | {ci} |")
    return "\n".join(rows)


def _stages(result: PipelineResult) -> str:
    rows = ["## Stages", "", "| Stage | Status | Seconds | Notes |", "|---|---|---|---|"]
    for stage in result.stages:
        notes = "; ".join(
            [*stage.errors, *stage.notes] + ([stage.skip_reason] if stage.skip_reason else [])
        )
        shown = md_inline(notes, limit=300) if notes else ""
        rows.append(
            f"| {stage.name} | {stage.status.value} | {stage.duration_seconds:.2f} | {shown} |"
        )
    return "\n".join(rows)


def _provenance(result: PipelineResult) -> str:
    run = result.run
    return "\n".join(
        [
            "<details><summary>Provenance</summary>",
            "",
            f"- releasegate {run.releasegate_version}, Python {run.python}, {run.platform}",
            f"- git: `{run.git_sha or 'n/a'}`; seed {run.seed}; config `{run.config_hash}`",
            f"- benchmark `{run.benchmark_fingerprint}`",
            f"- model {md_code_span(run.model_fingerprint)}",
            *_tool_calls_line(run.model_details),
            f"- methods: {', '.join(f'{k}={v}' for k, v in run.methods.items())}",
            "",
            "</details>",
        ]
    )


def _tool_calls_line(details: dict[str, str]) -> list[str]:
    """How the run asked for function calls, where the backend records it."""
    form = details.get("tool_calls")
    return [f"- tool calls: {md_code_span(form)}"] if form else []
