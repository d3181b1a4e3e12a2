"""The pipeline: the ordered stages, the failure policy, and the decision.

::

    config, benchmark, suite, baseline ── plan checks (nothing has run yet)
      └─ generation ─> automated_metrics ─> safety ─> llm_judge ─> regression
                                                  └─> gates ─> DEPLOY | BLOCK | ERROR

Everything that can be checked before a model runs (config, benchmark, baseline,
every gated metric against its declaration) is checked first, so a typo never costs
a GPU hour. The decision fails closed: an error, a gate that could not be evaluated
without an explicit opt-out, or no evaluated blocking gate at all is never a DEPLOY.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from releasegate import __version__
from releasegate.backends.base import Backend, ReportsNotes, recorded_config
from releasegate.backends.registry import check_backend_name, load_backend
from releasegate.baseline_checks import check_baseline as check_baseline_bar
from releasegate.benchmark.load import load_benchmark
from releasegate.calibration.files import check_noise_floor, load_noise_floor
from releasegate.config.gates import QualityGate
from releasegate.config.regression import RegressionSettings
from releasegate.config.schema import PipelineConfig
from releasegate.config.secrets import run_secrets
from releasegate.enums import GateType
from releasegate.errors import ConfigError, ReleaseGateError
from releasegate.gate import evaluate_gates
from releasegate.manifest import (
    config_dict,
    config_hash,
    git_sha,
    package_versions,
    python_platform,
)
from releasegate.metrics import MetricCatalog, MetricKey, MetricSpec
from releasegate.plan import (
    build_catalog,
    check_baseline,
    check_gates,
    check_judge_provider,
    check_judge_ready,
    plan_facts,
    regression_metrics,
)
from releasegate.progress import NullProgress, Progress
from releasegate.records.calibration import NoiseFloor
from releasegate.records.core import Decision, GateResult, MetricInfo, PipelineStatus, StageResult
from releasegate.records.regression import RegressionReport
from releasegate.records.run import PipelineResult, RunManifest, flatten_metrics
from releasegate.safety.suite import load_suite
from releasegate.scoring.schema import load_output_schema
from releasegate.stages import STAGES
from releasegate.stages.base import Evidence, RunInputs, Stage
from releasegate.stages.judge import NAME as JUDGE_STAGE
from releasegate.stages.regression import compare_run, regression_gates
from releasegate.store.baseline import load_baseline
from releasegate.store.schema_cache import SchemaVerdictCache
from releasegate.store.snapshot import baseline_from_result, judge_scores

log = logging.getLogger(__name__)

STAGE_ORDER = (
    "generation",
    "determinism",
    "automated_metrics",
    "safety",
    "safety_delta",
    "safety_judge",
    "llm_judge",
    "regression",
)
"""The stages every run goes through, in order (each may skip itself)."""


def make_stages() -> list[Stage]:
    """One instance of every stage, in run order."""
    return [STAGES.get(name)() for name in STAGE_ORDER]


@dataclass
class _Outcome:
    """How the stages went (never leaves this module)."""

    stages: list[StageResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Optional stage -> why its findings are missing (their gates are not evaluated)."""


class EvaluationPipeline:
    """Runs a model over a benchmark and decides DEPLOY, BLOCK or ERROR.

    Example:
        >>> result = EvaluationPipeline(config).run(
        ...     model_path="outputs.jsonl", benchmark_path="bench.jsonl")
        >>> result.decision
    """

    def __init__(
        self, config: PipelineConfig, *, progress: Progress | None = None, debug: bool = False
    ) -> None:
        self.config = config
        self.progress = progress or NullProgress()
        self.debug = debug

    def run(
        self,
        *,
        model_path: str,
        benchmark_path: str,
        baseline_path: str | None = None,
        backend: Backend | None = None,
    ) -> PipelineResult:
        """Evaluate and decide.

        Setup problems (bad benchmark, config, baseline, model reference, a gate or a
        regression metric that cannot work) raise before any model runs; a stage that
        fails later makes the decision ERROR and is recorded. ``backend``: one already
        built for ``model_path`` with this config's model settings (repeated runs of
        one model, as ``calibrate`` makes, load its weights once).

        Raises:
            ReleaseGateError: invalid input or configuration.
        """
        started, started_at = time.perf_counter(), _now()
        stages = make_stages()
        verdicts = schema_cache(self.config, model_path)
        try:
            inputs = self._prepare(
                stages, model_path, benchmark_path, baseline_path, backend, verdicts
            )
            noise = attached_noise_floor(inputs)
            evidence = Evidence()
            outcome = _Outcome()
            for stage in stages:
                self._run_stage(stage, inputs, evidence, outcome)
            if verdicts is not None:
                verdicts.save()
        finally:
            if verdicts is not None:
                verdicts.close()
        if isinstance(inputs.backend, ReportsNotes):  # e.g. replay rows matching no example
            evidence.warnings.extend(inputs.backend.notes())
        bar = check_baseline_bar(  # gate drift and staleness against the baseline
            self.config, inputs.baseline, benchmark_fingerprint=inputs.benchmark.fingerprint
        )
        gates = self._gates(inputs, evidence, outcome)
        gates += [] if outcome.errors else bar.gates
        decision, reasons, warnings = decide(
            outcome.errors, gates, allow_no_blocking=self.config.gates.allow_no_blocking_gates
        )
        flat, cis = flatten_metrics(evidence.metrics)
        manifest = self._manifest(inputs, started=started, started_at=started_at)
        return PipelineResult(
            decision=decision,
            deploy_allowed=decision is Decision.DEPLOY,
            exit_code=decision.exit_code,
            reasons=reasons,
            warnings=[*bar.warnings, *_gate_notices(self.config), *evidence.warnings, *warnings],
            metrics=flat,
            metrics_ci=cis,
            metric_details=evidence.metrics,
            catalog=[_info(spec) for spec in inputs.catalog.values()],
            gates=gates,
            stages=outcome.stages,
            examples=evidence.examples,
            judge=evidence.judge,
            regression=evidence.regression,
            safety=evidence.safety,
            determinism=evidence.determinism,
            run=manifest,
            errors=outcome.errors,
            noise_floor=noise,
        )

    def _prepare(
        self,
        stages: Sequence[Stage],
        model_path: str,
        benchmark_path: str,
        baseline_path: str | None,
        backend: Backend | None,
        verdicts: SchemaVerdictCache | None,
    ) -> RunInputs:
        """Load every input and check the plan; nothing here runs a model."""
        config = self.config
        catalog = build_catalog(config, stages)
        benchmark = load_benchmark(benchmark_path)
        schema = load_output_schema(config.metrics.schema_path, verdicts=verdicts)
        suite = load_suite(config.safety.suite_path) if config.safety.suite_path else ()
        gates = config.effective_gates()
        facts = plan_facts(config, benchmark, suite)
        check_gates(gates, catalog, facts)
        check_judge_provider(config)
        check_judge_ready(config, gates, catalog)
        # Checked with or without a baseline: a typo here is a typo either way.
        chosen = regression_metrics(config.regression, catalog, facts)
        baseline = load_baseline(baseline_path) if baseline_path else None
        if baseline is not None:
            check_baseline(baseline, catalog)
            regression = config.regression.model_copy(update={"metrics": chosen})
            self.config = config = config.model_copy(update={"regression": regression})
        check_backend_name(config.model.backend)
        if backend is None:
            backend = load_backend(model_path, config.model)
        check_gates(gates, catalog, plan_facts(config, benchmark, suite, backend=backend.info()))
        return RunInputs(
            config=config,
            benchmark=benchmark,
            backend=backend,
            schema=schema,
            suite=suite,
            baseline=baseline,
            baseline_path=baseline_path,
            catalog=catalog,
            progress=self.progress,
        )

    def _run_stage(
        self, stage: Stage, inputs: RunInputs, evidence: Evidence, outcome: _Outcome
    ) -> None:
        """Run one stage under the failure policy; a failure is recorded, never raised."""
        if outcome.errors:
            return
        reason = stage.skip_reason(inputs, evidence)
        if reason is not None:
            self._skipped(stage, reason, outcome)
            return
        t0 = time.perf_counter()
        try:
            result = stage.run(inputs, evidence)
        except Exception as exc:
            if self.debug:
                raise
            self._failed(stage, exc, time.perf_counter() - t0, evidence, outcome)
            return
        result = result.model_copy(update={"duration_seconds": time.perf_counter() - t0})
        outcome.stages.append(result)
        if result.status is PipelineStatus.SKIPPED:
            self._note_skip(stage, result.skip_reason or "skipped", outcome)
        problems = undeclared_or_out_of_range(result, inputs.catalog)
        if problems:
            outcome.errors.append(f"{stage.name}: {'; '.join(problems)}")
            return
        evidence.metrics.update(result.metrics)

    def _skipped(self, stage: Stage, reason: str, outcome: _Outcome) -> None:
        outcome.stages.append(
            StageResult(name=stage.name, status=PipelineStatus.SKIPPED, skip_reason=reason)
        )
        self._note_skip(stage, reason, outcome)

    def _note_skip(self, stage: Stage, reason: str, outcome: _Outcome) -> None:
        """A skipped stage whose metrics are gated is an ERROR unless it is optional."""
        gated = _gated_metrics(self.config.effective_gates(), stage, self.config)
        if gated and not stage.optional(self.config):
            outcome.errors.append(
                f"{stage.name}: skipped ({reason}) but gates read its metrics: {', '.join(gated)}"
            )
        else:
            outcome.unavailable[stage.name] = reason

    def _failed(
        self,
        stage: Stage,
        exc: Exception,
        seconds: float,
        evidence: Evidence,
        outcome: _Outcome,
    ) -> None:
        message = str(exc) if isinstance(exc, ReleaseGateError) else f"{type(exc).__name__}: {exc}"
        log.debug("stage %s failed", stage.name, exc_info=True)
        outcome.stages.append(
            StageResult(
                name=stage.name,
                status=PipelineStatus.FAILED,
                duration_seconds=seconds,
                errors=[message],
            )
        )
        if stage.optional(self.config):
            evidence.warnings.append(f"{stage.name} failed (optional): {message}")
            outcome.unavailable[stage.name] = f"the optional {stage.name} stage failed"
        else:
            outcome.errors.append(f"{stage.name}: {message}")

    def _gates(self, inputs: RunInputs, evidence: Evidence, outcome: _Outcome) -> list[GateResult]:
        if outcome.errors:
            return []
        try:
            gates = evaluate_gates(
                self.config.effective_gates(),
                evidence.metrics,
                catalog=inputs.catalog,
                examples=evidence.examples,
                unavailable=outcome.unavailable,
                max_examples=self.config.output.max_examples_in_report,
            )
        except ConfigError as exc:
            outcome.errors.append(f"gates: {exc}")
            return []
        if evidence.regression is not None:
            gates += regression_gates(evidence.regression)
        return self._judge_health(gates, inputs, evidence)

    def _judge_health(
        self, gates: list[GateResult], inputs: RunInputs, evidence: Evidence
    ) -> list[GateResult]:
        """An untrusted judge's gates become warnings, or the run blocks (``judge.health``)."""
        health = evidence.judge.health if evidence.judge is not None else None
        if health is None:  # no judge ran: nothing to downgrade (and no judge to import)
            return gates
        from releasegate.judge.health import apply_health

        names = {spec.name for spec in inputs.catalog.values() if spec.stage == JUDGE_STAGE}
        checked, warnings = apply_health(gates, health, names)
        evidence.warnings.extend(warnings)
        return checked

    def _manifest(self, inputs: RunInputs, *, started: float, started_at: str) -> RunManifest:
        info = inputs.backend.info()
        python, plat = python_platform()
        methods = {
            "rate_ci": "wilson (95%)",
            "safety_ci": "clopper-pearson (95%)",
            "field_ci": "bootstrap-percentile (seeded, 2000 resamples)",
        }
        if inputs.baseline is not None:
            r = self.config.regression
            methods["regression"] = r.describe()
        benchmark = inputs.benchmark
        return RunManifest(
            run_id=_run_id(started_at),
            started_at=started_at,
            finished_at=_now(),
            duration_seconds=time.perf_counter() - started,
            releasegate_version=__version__,
            python=python,
            platform=plat,
            git_sha=git_sha(),
            packages=package_versions(),
            seed=self.config.seed,
            benchmark_path=benchmark.path,
            benchmark_name=benchmark.name,
            benchmark_fingerprint=benchmark.fingerprint,
            n_examples=len(benchmark),
            model_backend=info.backend,
            model_ref=info.ref,
            model_fingerprint=info.fingerprint,
            model_details=info.details,
            config=recorded_config(config_dict(self.config), inputs.backend),
            config_hash=config_hash(self.config),
            baseline_path=inputs.baseline_path,
            methods=methods,
            default_gates=self.config.uses_default_gates,
        )


def attached_noise_floor(inputs: RunInputs) -> NoiseFloor | None:
    """The calibration named by ``regression.noise_floor``, checked before any model runs.

    Raises:
        CalibrationError: unreadable, or measured on another model or benchmark.
    """
    path = inputs.config.regression.noise_floor
    if path is None:
        return None
    noise = load_noise_floor(path)
    check_noise_floor(
        noise,
        source=f"{path} (regression.noise_floor)",
        benchmark_fingerprint=inputs.benchmark.fingerprint,
        model_fingerprint=inputs.backend.info().fingerprint,
    )
    return noise


def decide(
    errors: Sequence[str], gates: Sequence[GateResult], *, allow_no_blocking: bool
) -> tuple[Decision, list[str], list[str]]:
    """The verdict, its reasons, and the warnings it carries.

    ERROR when anything needed is missing, or when no evaluated blocking gate shows
    the model is good enough (none evaluated, or only no-significant-drop regression
    checks; unless ``allow_no_blocking``); BLOCK when an evaluated blocking gate
    failed; otherwise DEPLOY.
    """
    warnings = [
        g.explanation
        for g in gates
        if g.evaluated and not g.passed and g.gate_type is GateType.WARNING
    ]
    warnings += [f"gate {g.name!r} {g.explanation}" for g in gates if not g.evaluated]
    if errors:
        return Decision.ERROR, list(errors), warnings
    blocking = [g for g in gates if g.gate_type is GateType.BLOCKING and g.evaluated]
    failed = [g for g in blocking if not g.passed]
    if failed:
        reasons = [f"gate {g.name!r} failed: {g.explanation}" for g in failed]
        return Decision.BLOCK, reasons, warnings
    if not any(g.shows_quality for g in blocking):
        why = _no_evidence(gates, blocking)
        if not allow_no_blocking:
            return (
                Decision.ERROR,
                [
                    f"{why}; add a blocking gate, or set "
                    "gates.allow_no_blocking_gates: true to accept that"
                ],
                warnings,
            )
        warnings.insert(0, f"DEPLOY WITHOUT EVIDENCE: {why} (gates.allow_no_blocking_gates: true)")
        return Decision.DEPLOY, ["no blocking gate was evaluated (accepted by config)"], warnings
    return Decision.DEPLOY, [f"all {len(blocking)} blocking gate(s) passed"], warnings


def _no_evidence(gates: Sequence[GateResult], blocking: Sequence[GateResult]) -> str:
    """Why the evaluated gates do not show that the model is good enough."""
    if blocking:
        return (
            f"only regression checks were evaluated as blocking ({len(blocking)}), and "
            "finding no significant drop is not evidence of quality: nothing checked how "
            "good this model is"
        )
    return (
        "no blocking gate was evaluated"
        + (f" ({len(gates)} gate(s), none blocking and evaluated)" if gates else "")
        + ": nothing checked this model"
    )


def undeclared_or_out_of_range(result: StageResult, catalog: MetricCatalog) -> list[str]:
    """What is wrong with a stage's metrics: undeclared names, values outside their range.

    A gate must never read a number its declaration does not allow (a rate of 1.3, a
    negative latency): the run is an ERROR instead.
    """
    problems = []
    for name, mv in result.metrics.items():
        spec = catalog.spec_for(MetricKey.parse(name))
        if spec is None:
            problems.append(f"produced the undeclared metric {name!r}")
        elif not spec.range.contains(mv.value):
            problems.append(f"{name} = {mv.value!r} is outside its range {spec.range}")
    return problems


def _info(spec: MetricSpec) -> MetricInfo:
    return MetricInfo(
        name=spec.name,
        description=spec.description,
        stage=spec.stage,
        unit=spec.unit,
        low=spec.range.low,
        high=None if math.isinf(spec.range.high) else spec.range.high,
        higher_is_better=spec.higher_is_better,
        kind=spec.kind.value,
        per_category=spec.per_category,
        has_interval=spec.has_interval,
        safety=spec.safety,
        outcome_key=spec.outcome_key,
    )


def _gated_metrics(gates: Sequence[QualityGate], stage: Stage, config: PipelineConfig) -> list[str]:
    names = {spec.name for spec in stage.declare(config)}
    return [g.metric for g in gates if MetricKey.parse(g.metric).name in names]


def _gate_notices(config: PipelineConfig) -> list[str]:
    if not config.uses_default_gates:
        return []
    gates = ", ".join(
        f"{g.metric} {g.comparison.value} {g.threshold:g} ({g.gate_type.value})"
        for g in config.effective_gates()
    )
    return [f"no quality_gates configured: the built-in default gates applied: {gates}"]


def schema_cache(config: PipelineConfig, model_ref: str) -> SchemaVerdictCache | None:
    """The run's schema verdict cache beside the run directories (with ``generation.cache``)."""
    if not config.generation.cache:
        return None
    secrets = run_secrets(config, model_ref=model_ref)
    return SchemaVerdictCache(Path(config.output.dir) / "schema_cache.sqlite", secrets=secrets)


def validate_setup(config: PipelineConfig, benchmark_path: str | None) -> str:
    """Every check a run makes before its model loads, without loading one.

    Returns:
        A one-line summary of what was checked.

    Raises:
        ReleaseGateError: the first problem, naming the file, line, gate or field.
    """
    check_backend_name(config.model.backend)
    check_judge_provider(config)
    load_output_schema(config.metrics.schema_path)
    catalog = catalog_for(config)
    suite = load_suite(config.safety.suite_path) if config.safety.suite_path else ()
    benchmark = load_benchmark(benchmark_path) if benchmark_path else None
    facts = plan_facts(config, benchmark, suite)
    gates = config.effective_gates()
    check_gates(gates, catalog, facts)
    regression_metrics(config.regression, catalog, facts)
    source = "built-in default gates" if config.uses_default_gates else "gates"
    message = f"valid ({len(gates)} {source})"
    if benchmark is not None:
        message += (
            f"; {benchmark_path}: {len(benchmark)} examples, {len(benchmark.categories)} "
            f"categories, fingerprint {benchmark.fingerprint[:19]}"
        )
    return message


def catalog_for(config: PipelineConfig) -> MetricCatalog:
    """Every metric the stages can produce under ``config`` (for tools over saved runs)."""
    return build_catalog(config, make_stages())


def compare_saved(
    baseline_run: PipelineResult,
    candidate: PipelineResult,
    *,
    settings: RegressionSettings,
    source: str,
) -> tuple[RegressionReport, list[GateResult]]:
    """Compare two saved runs with the regression stage's statistics and gates.

    Raises:
        ConfigError: a regression metric that cannot be compared.
        IncomparableBaseline: nothing to compare (with ``on_incomparable: error``).
    """
    config = PipelineConfig(regression=settings)
    catalog = catalog_for(config)
    chosen = regression_metrics(settings, catalog, plan_facts(config, None, ()))
    report = compare_run(
        candidate.examples,
        candidate.metric_details,
        baseline=baseline_from_result(baseline_run),
        source=source,
        settings=settings.model_copy(update={"metrics": chosen}),
        catalog=catalog,
        judge=judge_scores(candidate),
        benchmark_fingerprint=candidate.run.benchmark_fingerprint,
    )
    return report, regression_gates(report)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _run_id(started_at: str) -> str:
    stamp = started_at[:19].replace(":", "").replace("-", "")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"
