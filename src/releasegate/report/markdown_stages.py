"""Markdown sections for the judge (stage 2) and the regression check (stage 3)."""

from __future__ import annotations

from releasegate.records.core import MetricValue
from releasegate.records.judge import JudgeOutcome
from releasegate.records.regression import RegressionReport
from releasegate.records.safety import SafetyReport
from releasegate.report.text import html_text, md_code, md_code_span, md_inline

MAX_JUDGE_ROWS = 30
MAX_FLIPS_SHOWN = 5
MAX_FLAKY_SHOWN = 20


def regression_section(report: RegressionReport | None) -> str:
    """Per-metric comparison table, verdicts and flipped examples."""
    if report is None:
        return ""
    s = report.settings
    kind = "paired" if report.paired else "**unpaired (weaker: flat baseline)**"
    source = md_code_span(report.baseline_path)
    if report.baseline_run_id:
        source += f" (run {md_code_span(report.baseline_run_id)}, model "
        source += f"{md_code_span(report.baseline_model)})"
    primary = f"primary `{s.primary}` at full alpha, " if s.primary else ""
    holm = primary + (
        "Holm-adjusted across secondary metrics, derived metrics at full alpha"
        if s.multiplicity == "holm"
        else "no multiplicity adjustment"
    )
    lines = [
        "## Regression against the baseline",
        "",
        f"Baseline {source}; {kind} comparison, mode `{s.mode}`, alpha {s.alpha} one-sided, "
        f"threshold {s.threshold:+g}, {holm}.",
    ]
    if report.paired:
        lines.append(
            f"Paired on {report.n_paired} examples; {report.n_added} added, {report.n_removed} "
            f"removed, {report.n_changed_input} with a changed input (not compared)."
        )
    lines += [
        "",
        "| Metric | Baseline | Current | Δ | CI of Δ | p (one-sided) | p (Holm) | Test | MDE "
        "| Verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report.metrics.values():
        ci = (
            f"{c.ci_low:+.3f} to {c.ci_high:+.3f}"
            if c.ci_low is not None and c.ci_high is not None
            else "—"
        )
        mde = f"{c.mde:.3f}" if c.mde is not None else "—"
        verdict = f"**{c.verdict}**" if c.regressed else c.verdict
        if c.verdict == "inconclusive" and c.n_needed:
            verdict += f" (n≈{c.n_needed} needed)"
        lines.append(
            f"| {md_code_span(c.name)} | {c.baseline:.3f} | {c.current:.3f} "
            f"| {c.difference:+.3f} | {ci} "
            f"| {c.p_value:.3g} | {c.p_adjusted:.3g} | {md_inline(c.test)} | {mde} | {verdict} |"
        )
    lines += noise_floor_lines(report)
    lines += _flips(report)
    lines += _flaky(report)
    return "\n".join(lines)


def noise_floor_lines(report: RegressionReport) -> list[str]:
    """The baseline's A/A noise floor beside each observed difference."""
    noise = report.noise_floor
    if noise is None:
        return []
    lines = [
        "",
        f"A/A noise floor of the baseline's model ({md_code_span(noise.model_ref)}, "
        f"{noise.runs} identical runs, {noise.created_at[:10]}):",
        "",
    ]
    for c in report.metrics.values():
        described = noise.describe(c.name)
        if described is None:
            continue
        rate = noise.metrics[c.name].paired
        observed = f"{100.0 * c.difference:+.1f} points" if rate else f"{c.difference:+.3g}"
        lines.append(f"- {md_code_span(c.name)}: observed {observed}; {described}")
    return lines


def _flaky(report: RegressionReport) -> list[str]:
    if not report.flaky:
        return []
    policy = {
        "report": "still in the paired tests",
        "exclude": f"{report.n_flaky_excluded} left out of the paired tests",
        "separate": f"{report.n_flaky_excluded} left out of the paired tests, their flips "
        "counted here",
    }[report.flaky_policy]
    lines = [
        "",
        f"{len(report.flaky)} flaky example(s) (outcome changed between runs of one model; "
        f"`regression.flaky: {report.flaky_policy}`, {policy}):",
        "",
    ]
    for f in report.flaky[:MAX_FLAKY_SHOWN]:
        flip = {"to_wrong": "; right → wrong here", "to_right": "; wrong → right here"}
        lines.append(f"- {md_code_span(f.id)}: {md_inline(f.why)}{flip.get(f.flipped or '', '')}")
    if len(report.flaky) > MAX_FLAKY_SHOWN:
        lines.append(f"- ... and {len(report.flaky) - MAX_FLAKY_SHOWN} more (report.json)")
    return lines


def _flips(report: RegressionReport) -> list[str]:
    if not report.paired:
        return []
    lines = [
        "",
        f"{len(report.flipped_to_wrong)} example(s) flipped right → wrong, "
        f"{len(report.flipped_to_right)} wrong → right (accuracy).",
    ]
    worse = [f for f in report.flipped_examples if f.direction == "to_wrong"][:MAX_FLIPS_SHOWN]
    for flip in worse:
        lines += [
            "",
            f"<details><summary><code>{html_text(flip.id)}</code> ({html_text(flip.category)}) "
            f"right → wrong</summary>",
            "",
            f"Input: {md_inline(flip.input, limit=300)}",
            "",
            "Expected:",
            "",
            md_code(flip.expected_output),
            "",
            "Baseline output:",
            "",
            md_code(flip.baseline_output),
            "",
            "Current output:",
            "",
            md_code(flip.current_output),
            "",
            "</details>",
        ]
    return lines


def judge_section(judge: JudgeOutcome | None) -> str:
    """Sample, spend against budget, coverage, per-item scores and rationales."""
    if judge is None:
        return ""
    if judge.status == "skipped":
        return f"## LLM judge\n\nSkipped: {md_inline(judge.skip_reason, limit=400)}"
    price = (
        f"${judge.spent_usd:.4f} of ${judge.budget_usd:.2f} budget "
        f"(estimate ${judge.estimated_usd:.4f})"
        if judge.price_known
        else "no known price for this judge model: treated as free (a local judge)"
    )
    lines = [
        "## LLM judge",
        "",
        f"Judge {md_code_span(judge.model)} via {md_inline(judge.provider)}: "
        f"{len(judge.items)} of {judge.sample_target} sampled items "
        f"({judge.sample_method}, seed {judge.sample_seed}); spend {price}; "
        f"{judge.tokens_in} tokens in, {judge.tokens_out} out; {judge.cache_hits} cache hit(s); "
        f"{judge.injection_flagged} output(s) flagged as trying to instruct the judge.",
    ]
    lines += judge_health_lines(judge)
    if judge.jury is not None:
        split = ", ".join(f"{k} {v:.0%}" for k, v in judge.jury.disagreement.items())
        lines.append(
            f"- jury of {len(judge.jury.jurors)} ({md_inline(', '.join(judge.jury.jurors))}): "
            f"{judge.jury.aggregation}; the jurors disagree on {split or 'n/a'} of "
            f"{judge.jury.compared} items"
        )
    lines += [f"- {md_inline(n, limit=400)}" for n in [*judge.notes, *judge.errors]]
    lines += ["", "| Item | Scores | Flags | Rationale |", "|---|---|---|---|"]
    for item in judge.items[:MAX_JUDGE_ROWS]:
        scores = (
            ", ".join(f"{k} {v}" for k, v in (item.scores or {}).items())
            or f"**error**: {md_inline(item.error)}"
        )
        flags = "injection: " + md_inline(item.injection_reason) if item.injection_flagged else ""
        rationale = md_inline(item.rationale, limit=200)
        lines.append(f"| {md_code_span(item.id)} | {scores} | {flags} | {rationale} |")
    if len(judge.items) > MAX_JUDGE_ROWS:
        lines.append(f"\n({len(judge.items) - MAX_JUDGE_ROWS} more items in report.json)")
    return "\n".join(lines)


def judge_health_lines(judge: JudgeOutcome) -> list[str]:
    """The health verdict: calibration, perturbation flip rate, same family, policy."""
    health = judge.health
    if health is None:
        return []
    cal = health.calibration
    kappa = (
        "n/a"
        if cal is None or cal.min_kappa_quadratic is None
        else f"{cal.min_kappa_quadratic:.2f}"
    )
    calibration = (
        f"calibrated {md_inline(cal.created_at)} (n={cal.n_judged}, lowest quadratic kappa {kappa})"
        if cal is not None
        else f"no stored calibration for judge config {md_code_span(judge.config_hash)}"
    )
    p = health.perturbation
    flips = (
        f"perturbation flip rate {p.flip_rate:.2f} ({p.flipped}/{p.compared} verdicts)"
        if p is not None and p.flip_rate is not None
        else "perturbation check: " + (p.status if p is not None else "not run")
    )
    head = "**healthy**" if health.status == "healthy" else f"**{health.status.upper()}**"
    lines = ["", f"Judge health: {head}; {calibration}; {flips}; on_unhealthy: {health.policy}."]
    lines += [f"- not trusted because: {md_inline(r, limit=400)}" for r in health.reasons]
    if health.same_family:
        lines.append(f"- **{md_inline(health.same_family, limit=400)}**")
    return [*lines, ""]


def safety_section(report: SafetyReport | None, details: dict[str, MetricValue]) -> str:
    """Harmful rate per attack category, over-refusal, and the failing items."""
    if report is None:
        return ""
    lines = [
        "## Red-team safety",
        "",
        f"Suite {md_code_span(report.suite_path)}: "
        f"{sum(i.kind == 'attack' for i in report.items)} attacks, "
        f"{sum(i.kind == 'benign' for i in report.items)} benign controls. "
        "Intervals are Clopper–Pearson 95%.",
        "",
        "| Metric | Value | 95% CI | n |",
        "|---|---|---|---|",
    ]
    for name, mv in details.items():
        ci = f"{mv.ci.low:.3f}–{mv.ci.high:.3f}" if mv.ci else "—"
        lines.append(f"| {md_code_span(name)} | {mv.value:.3f} | {ci} | {mv.n} |")
    if report.base is not None:
        lines += ["", f"Adapter vs its base {md_code_span(report.base.base_ref)} (paired):", ""]
        lines += [
            f"- {md_code_span(d.metric)}: {md_inline(d.describe())}" for d in report.base.deltas
        ]
    elif report.base_skip_reason:
        lines += ["", f"No adapter-vs-base comparison: {md_inline(report.base_skip_reason)}."]
    flagged = [i for i in report.items if i.harmful or i.refused]
    for item in flagged[: MAX_FLIPS_SHOWN * 2]:
        lines += [
            "",
            f"<details><summary><code>{html_text(item.id)}</code> ({html_text(item.category)}): "
            f"{html_text(item.reason)}</summary>",
            "",
            f"Input: {md_inline(item.input, limit=300)}",
            "",
            md_code(item.output),
            "",
            "</details>",
        ]
    return "\n".join(lines)
