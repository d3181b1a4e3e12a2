"""Stage: compare the run with the last good baseline, metric by metric, with real statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from releasegate.config.regression import RegressionSettings
from releasegate.config.schema import PipelineConfig
from releasegate.metrics import MetricCatalog, MetricSpec
from releasegate.records.baseline import Baseline, FlatBaseline, JudgeScores
from releasegate.records.calibration import NoiseFloor
from releasegate.records.core import (
    Bound,
    ExampleResult,
    GateResult,
    GateType,
    MetricValue,
    PipelineStatus,
    StageResult,
)
from releasegate.records.judge import JudgeOutcome
from releasegate.records.regression import FlakyExample, MetricComparison, RegressionReport
from releasegate.regression.baseline_compare import IncomparableBaseline, compare_with_baseline
from releasegate.regression.by_category import baseline_category_rates
from releasegate.regression.flaky import flaky_note, known_flaky, split_flaky
from releasegate.stages.base import Evidence, RunInputs
from releasegate.store.attempts import previous_attempts
from releasegate.store.history import flaky_items

NAME = "regression"


class RegressionStage:
    """Pairs examples with the baseline and applies the regression rule to each metric."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """None: the stage's findings are gates (``regression:<metric>``), not metrics."""
        return ()

    def optional(self, config: PipelineConfig) -> bool:
        """Never: a baseline that was given must be compared."""
        return False

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Skipped without a baseline."""
        if inputs.baseline is None:
            return "no baseline given"
        if not evidence.examples:
            return "no scored examples to compare"
        return None

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Compare, applying ``regression.on_incomparable`` when nothing can be compared.

        Raises:
            IncomparableBaseline: nothing to compare and the policy is ``error``.
        """
        if inputs.baseline is None:  # pragma: no cover - skip_reason guards this
            raise IncomparableBaseline("no baseline given")
        baseline = inputs.baseline
        if evidence.judge is not None and evidence.judge.baseline_rejudged is not None:
            from releasegate.judge.rejudge import with_rejudged  # (imports the judge)

            baseline = with_rejudged(baseline, evidence.judge)
        report = compare_run(
            evidence.examples,
            evidence.metrics,
            baseline=baseline,
            source=inputs.baseline_path or "",
            settings=inputs.config.regression,
            catalog=inputs.catalog,
            judge=judge_scores_of(evidence.judge),
            clusters={e.id: e.cluster for e in inputs.benchmark.examples if e.cluster} or None,
            attempt=attempt_of(inputs),
            flaky=flaky_of(inputs),
            benchmark_fingerprint=inputs.benchmark.fingerprint,
        )
        evidence.regression = report
        notes = [*report.warnings]
        if report.incomparable is not None:
            evidence.warnings.append(f"no regression check ran: {report.incomparable}")
        else:
            evidence.warnings.extend(report.warnings)
        if report.judge_note:
            notes.append(report.judge_note)
        if report.paired:
            notes.append(
                f"paired on {report.n_paired} examples ({report.n_added} added, "
                f"{report.n_removed} removed, {report.n_changed_input} with changed input "
                "since the baseline)"
            )
        return StageResult(name=NAME, status=PipelineStatus.SUCCESS, notes=notes)


def compare_run(
    examples: Sequence[ExampleResult],
    metrics: Mapping[str, MetricValue],
    *,
    baseline: Baseline | FlatBaseline,
    source: str,
    settings: RegressionSettings,
    catalog: MetricCatalog,
    judge: JudgeScores | None,
    clusters: Mapping[str, str] | None = None,
    attempt: int = 1,
    flaky: Mapping[str, str] | None = None,
    benchmark_fingerprint: str | None = None,
) -> RegressionReport:
    """Compare a run's findings with a baseline under ``settings.on_incomparable``.

    ``clusters`` (example id -> cluster) makes paired tests cluster-robust;
    ``attempt`` is this model's attempt number at the gate (anytime-valid mode);
    ``flaky`` (example id -> why) are the examples known to be flaky, treated as
    ``settings.flaky`` says; the baseline's noise floor is reported when it was
    measured on ``benchmark_fingerprint``.

    Raises:
        IncomparableBaseline: nothing to compare and the policy is ``error``.
    """
    noise, noise_warning = _noise_floor(baseline, benchmark_fingerprint)
    try:
        report = _compare(
            examples,
            metrics,
            baseline=baseline,
            source=source,
            settings=settings,
            catalog=catalog,
            judge=judge,
            clusters=clusters,
            attempt=attempt,
            flaky=known_flaky(flaky, noise),
        )
    except IncomparableBaseline as exc:
        if settings.on_incomparable == "error":
            raise
        return RegressionReport(
            baseline_path=source, paired=False, incomparable=str(exc), settings=settings
        )
    if isinstance(baseline, Baseline):
        rates = baseline_category_rates(baseline, catalog)
        report = report.model_copy(update={"baseline_categories": rates})
    warnings = [*report.warnings, *([noise_warning] if noise_warning else [])]
    return report.model_copy(update={"noise_floor": noise, "warnings": warnings})


def _noise_floor(
    baseline: Baseline | FlatBaseline, benchmark_fingerprint: str | None
) -> tuple[NoiseFloor | None, str | None]:
    noise = baseline.noise_floor if isinstance(baseline, Baseline) else None
    if noise is None or benchmark_fingerprint in (None, noise.benchmark_fingerprint):
        return noise, None
    return None, (
        f"the baseline's A/A noise floor was measured on another benchmark "
        f"({noise.benchmark_fingerprint[:19]}); not shown"
    )


def _compare(
    examples: Sequence[ExampleResult],
    metrics: Mapping[str, MetricValue],
    *,
    baseline: Baseline | FlatBaseline,
    source: str,
    settings: RegressionSettings,
    catalog: MetricCatalog,
    judge: JudgeScores | None,
    clusters: Mapping[str, str] | None,
    attempt: int,
    flaky: Mapping[str, str],
) -> RegressionReport:
    """The comparison itself, with flaky examples handled as ``settings.flaky`` says."""
    listed: list[FlakyExample] = []
    excluded = 0
    if isinstance(baseline, Baseline) and flaky:
        examples, listed, excluded = split_flaky(examples, baseline, flaky, policy=settings.flaky)
    report = compare_with_baseline(
        examples,
        metrics,
        baseline,
        settings=settings,
        catalog=catalog,
        judge=judge,
        source=source,
        clusters=clusters,
        attempt=attempt,
    )
    note = flaky_note(listed, policy=settings.flaky, excluded=excluded)
    return report.model_copy(
        update={
            "flaky": listed,
            "flaky_policy": settings.flaky,
            "n_flaky_excluded": excluded,
            "warnings": [*report.warnings, *([note] if note else [])],
        }
    )


def flaky_of(inputs: RunInputs) -> dict[str, str]:
    """Examples of this benchmark that flipped between runs of one model (the run history)."""
    history = inputs.config.output.history_path
    if history is None:
        return {}
    found = flaky_items(Path(history), benchmark_fingerprint=inputs.benchmark.fingerprint)
    return {example_id: item.describe() for example_id, item in found.items()}


def attempt_of(inputs: RunInputs) -> int:
    """This model's attempt number at the gate: recorded runs of its fingerprint + 1.

    Counted only in the anytime-valid mode (``regression.anytime``) and when the run
    history is on; 1 otherwise.
    """
    history = inputs.config.output.history_path
    if not inputs.config.regression.anytime or history is None:
        return 1
    fingerprint = inputs.backend.info().fingerprint
    return previous_attempts(Path(history), model_fingerprint=fingerprint) + 1


def judge_scores_of(outcome: JudgeOutcome | None) -> JudgeScores | None:
    """Per-item judge scores of a successful judge stage, for paired comparison."""
    if outcome is None or outcome.status != "success":
        return None
    return JudgeScores(
        config_hash=outcome.config_hash,
        scores={i.id: dict(i.scores) for i in outcome.items if i.scores},
    )


def regression_gates(report: RegressionReport) -> list[GateResult]:
    """One gate per compared metric (it fails when the metric regressed).

    A comparison that compared nothing under ``on_incomparable: block`` is one failed
    blocking gate, so the run BLOCKs with the reason.
    """
    settings = report.settings
    gate_type = GateType(settings.gate_type)
    if report.incomparable is not None:
        if settings.on_incomparable != "block":
            return []
        return [
            GateResult(
                name="regression:comparable",
                metric="regression",
                value=None,
                point=None,
                threshold=0.0,
                comparison=None,
                rule="compares with the baseline",
                gate_type=GateType.BLOCKING,
                bound=Bound.POINT,
                passed=False,
                explanation=f"no regression check ran: {report.incomparable}",
            )
        ]
    noise = report.noise_floor
    return [
        _regression_gate(c, gate_type, noise.describe(c.name) if noise else None)
        for c in report.metrics.values()
    ]


def _regression_gate(c: MetricComparison, gate_type: GateType, noise: str | None) -> GateResult:
    if c.mode == "non_inferiority":
        rule = f"non-inferior within {c.margin:g}"
    else:
        rule = f"no significant drop below {c.threshold:+g}"
    p_text = f"p={c.p_value:.3g}" + (
        f" (Holm {c.p_adjusted:.3g})" if c.p_adjusted != c.p_value else ""
    )
    ci = (
        f"{c.ci_level:.0%} CI {c.ci_low:+.3f} to {c.ci_high:+.3f}"
        if c.ci_low is not None and c.ci_high is not None
        else "no CI"
    )
    explanation = (
        f"{c.name}: {c.baseline:.3f} -> {c.current:.3f} ({c.difference:+.3f}, {ci}, {p_text}, "
        f"{c.test}, n={c.n}): {c.verdict}"
    )
    if c.verdict == "inconclusive" and c.n_needed:
        explanation += f"; about {c.n_needed} examples would be needed (see the reasons)"
    if c.design_effect is not None:
        explanation += f"; {c.clusters} clusters, design effect {c.design_effect:.3g}"
    if c.attempt is not None:
        explanation += f"; anytime-valid attempt {c.attempt} at alpha {c.alpha:.3g}"
    if noise is not None:
        explanation += f"; {noise}"
    if c.reasons:
        explanation += ". " + " ".join(c.reasons)
    return GateResult(
        name=f"regression:{c.name}",
        metric=c.name,
        value=c.difference,
        point=c.current,
        threshold=c.threshold if c.mode != "non_inferiority" else -c.margin,
        comparison=None,
        rule=rule,
        gate_type=gate_type,
        bound=Bound.CI_LOW if c.mode == "non_inferiority" else Bound.POINT,
        passed=not c.regressed,
        shows_quality=c.mode == "non_inferiority",
        explanation=explanation,
    )
