"""The pipeline: calls one stage function after another; the only cross-stage importer.

::

    config ─ benchmark ─ backend ─> generations ─> automated metrics ─┐
                                                   judge (sampled) ────┤─> gates ─> decision
                                  baseline ─> regression comparison ──┘

Everything that can be checked before a model runs (config, benchmark, baseline,
the metrics that gates read) is checked first, so a typo never costs a GPU hour.
"""

from __future__ import annotations

import difflib
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

from jsonschema.protocols import Validator

from releasegate import __version__, stages
from releasegate.backends.base import Backend, Generation
from releasegate.backends.registry import load_backend
from releasegate.benchmark.load import load_benchmark
from releasegate.benchmark.model import Benchmark
from releasegate.config.gates import GateType
from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError, ReleaseGateError
from releasegate.gate import evaluate_gates
from releasegate.judge.providers import default_api_key_env
from releasegate.manifest import (
    config_dict,
    config_hash,
    git_sha,
    package_versions,
    python_platform,
)
from releasegate.progress import NullProgress, Progress
from releasegate.records.baseline import Baseline, FlatBaseline
from releasegate.records.core import (
    Decision,
    ExampleResult,
    GateResult,
    MetricValue,
    PipelineStatus,
    StageResult,
)
from releasegate.records.judge import JudgeOutcome
from releasegate.records.regression import RegressionReport
from releasegate.records.run import PipelineResult, RunManifest, flatten_metrics
from releasegate.records.safety import SafetyReport
from releasegate.safety.suite import RedTeamItem, load_suite
from releasegate.scoring.schema import load_validator
from releasegate.scoring.task import RATE_METRICS
from releasegate.store.baseline import load_baseline

log = logging.getLogger(__name__)
_T = TypeVar("_T")

FIELD_METRICS = ("field_precision", "field_recall", "field_f1")
GENERATION_METRICS = (
    "tokens_in_mean",
    "cost_per_1k_requests_usd",
    "gpu_cost_per_1k_requests_usd",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "generation_seconds",
    "throughput_examples_per_s",
    "tokens_out_mean",
    "throughput_tokens_per_s",
)


@dataclass
class _RunState:
    """Mutable bookkeeping of one run (never leaves this module)."""

    started: float
    started_at: str
    stages: list[StageResult] = field(default_factory=list)
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    examples: list[ExampleResult] = field(default_factory=list)
    judge: JudgeOutcome | None = None
    regression: RegressionReport | None = None
    safety: SafetyReport | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped_prefixes: dict[str, str] = field(default_factory=dict)


class EvaluationPipeline:
    """Runs a model over a benchmark and decides DEPLOY or BLOCK (the seed's name).

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
        self, *, model_path: str, benchmark_path: str, baseline_path: str | None = None
    ) -> PipelineResult:
        """Evaluate and decide.

        Setup problems (bad benchmark, config, baseline, model reference) raise before
        any model runs; a stage that fails later makes the decision ERROR and is recorded.

        Raises:
            ReleaseGateError: invalid input or configuration.
        """
        state = _RunState(started=time.perf_counter(), started_at=_now())
        benchmark = load_benchmark(benchmark_path)
        validator, _ = load_validator(self.config.metrics.schema_path)
        suite = load_suite(self.config.safety.suite_path) if self.config.safety.suite_path else ()
        check_gate_metrics(self.config, benchmark, suite=suite)
        check_judge_ready(self.config)
        baseline = load_baseline(baseline_path) if baseline_path else None
        backend = load_backend(model_path, self.config.model)

        generated = self._stage(
            state,
            lambda: stages.generate(backend, benchmark, self.config, self.progress),
            "generation",
        )
        if generated is not None:
            self._stage(
                state,
                lambda: self._score(state, benchmark, generated[0], validator),
                "automated_metrics",
            )
        if state.examples:
            self._safety(state, backend, suite)
            self._stage(state, lambda: self._judge(state, benchmark), "llm_judge")
            self._regression(state, baseline, baseline_path)
        gates = self._gates(state)
        return self._finish(state, benchmark, backend, gates, baseline_path)

    def _stage(self, state: _RunState, fn: Callable[[], _T], name: str) -> _T | None:
        """Run one stage; a failure is recorded (decision ERROR), never raised past here."""
        t0 = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:
            if self.debug:
                raise
            message = (
                str(exc) if isinstance(exc, ReleaseGateError) else f"{type(exc).__name__}: {exc}"
            )
            log.debug("stage %s failed", name, exc_info=True)
            state.errors.append(f"{name}: {message}")
            state.stages.append(
                StageResult(
                    name=name,
                    status=PipelineStatus.FAILED,
                    duration_seconds=time.perf_counter() - t0,
                    errors=[message],
                )
            )
            return None
        stage = value[-1] if isinstance(value, tuple) else value
        if isinstance(stage, StageResult):
            state.stages.append(
                stage.model_copy(update={"duration_seconds": time.perf_counter() - t0})
            )
            state.metrics.update(stage.metrics)
        return value

    def _score(
        self,
        state: _RunState,
        benchmark: Benchmark,
        generations: dict[str, Generation],
        validator: Validator,
    ) -> StageResult:
        examples, stage = stages.score(
            benchmark, generations, validator=validator, config=self.config
        )
        state.examples = examples
        return stage

    def _safety(self, state: _RunState, backend: Backend, suite: Sequence[RedTeamItem]) -> None:
        if not suite:
            reason = "no red-team suite configured (safety.suite_path is not set)"
            state.stages.append(
                StageResult(name="safety", status=PipelineStatus.SKIPPED, skip_reason=reason)
            )
            return

        def run() -> StageResult:
            report, stage = stages.safety(
                backend, suite, config=self.config, progress=self.progress
            )
            state.safety = report
            return stage

        self._stage(state, run, "safety")

    def _judge(self, state: _RunState, benchmark: Benchmark) -> StageResult:
        outcome, stage = stages.judge(benchmark, state.examples, self.config)
        state.judge = outcome
        if stage.status is PipelineStatus.SKIPPED:
            reason = stage.skip_reason or "skipped"
            if self.config.judge.optional or not _gated(self.config, stages.JUDGE_PREFIX):
                state.skipped_prefixes[stages.JUDGE_PREFIX] = reason
            else:
                state.errors.append(f"llm_judge: skipped ({reason}) but gates read judge_* metrics")
        elif stage.status is PipelineStatus.FAILED:
            if self.config.judge.optional:
                state.warnings.append(f"llm_judge failed (optional): {'; '.join(stage.errors)}")
                state.skipped_prefixes[stages.JUDGE_PREFIX] = "the optional judge stage failed"
            else:
                state.errors.append(f"llm_judge: {'; '.join(stage.errors)}")
        return stage

    def _regression(
        self, state: _RunState, baseline: Baseline | FlatBaseline | None, source: str | None
    ) -> None:
        if baseline is None or source is None:
            state.stages.append(
                StageResult(
                    name="regression",
                    status=PipelineStatus.SKIPPED,
                    skip_reason="no baseline given",
                )
            )
            return

        def run() -> StageResult:
            report, stage = stages.regression(
                state.examples,
                state.metrics,
                baseline=baseline,
                source=source,
                config=self.config,
                judge_outcome=state.judge,
            )
            state.regression = report
            state.warnings.extend(report.warnings)
            return stage

        self._stage(state, run, "regression")

    def _gates(self, state: _RunState) -> list[GateResult]:
        if state.errors:
            return []
        try:
            gates = evaluate_gates(
                self.config.quality_gates,
                state.metrics,
                examples=state.examples,
                skipped_metric_prefixes=state.skipped_prefixes,
                max_examples=self.config.output.max_examples_in_report,
            )
        except ConfigError as exc:
            state.errors.append(f"gates: {exc}")
            return []
        if state.regression is not None:
            gates += stages.regression_gates(state.regression)
        return gates

    def _finish(
        self,
        state: _RunState,
        benchmark: Benchmark,
        backend: Backend,
        gates: list[GateResult],
        baseline_path: str | None,
    ) -> PipelineResult:
        decision, reasons = decide(state.errors, gates)
        flat, cis = flatten_metrics(state.metrics)
        warned = [
            g.explanation
            for g in gates
            if not g.passed and not g.skipped and g.gate_type == "warning"
        ]
        return PipelineResult(
            decision=decision,
            deploy_allowed=decision is Decision.DEPLOY,
            exit_code=decision.exit_code,
            reasons=reasons,
            warnings=state.warnings + warned,
            metrics=flat,
            metrics_ci=cis,
            metric_details=state.metrics,
            gates=gates,
            stages=state.stages,
            examples=state.examples,
            judge=state.judge,
            regression=state.regression,
            safety=state.safety,
            run=self._manifest(state, benchmark, backend, baseline_path),
            errors=state.errors,
        )

    def _manifest(
        self, state: _RunState, benchmark: Benchmark, backend: Backend, baseline_path: str | None
    ) -> RunManifest:
        info = backend.info()
        python, plat = python_platform()
        methods = {
            "rate_ci": "wilson (95%)",
            "field_ci": "bootstrap-percentile (seeded, 2000 resamples)",
        }
        if state.regression is not None:
            r = self.config.regression
            methods["regression"] = (
                f"{r.mode}, alpha={r.alpha} one-sided, McNemar {r.mcnemar}, {r.paired_interval} "
                f"interval, multiplicity={r.multiplicity}, seed={r.seed}"
            )
        return RunManifest(
            run_id=_run_id(state.started_at),
            started_at=state.started_at,
            finished_at=_now(),
            duration_seconds=time.perf_counter() - state.started,
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
            config=config_dict(self.config),
            config_hash=config_hash(self.config),
            baseline_path=baseline_path,
            methods=methods,
        )


def decide(errors: list[str], gates: list[GateResult]) -> tuple[Decision, list[str]]:
    """ERROR if anything needed is missing; BLOCK if a blocking gate failed; else DEPLOY."""
    if errors:
        return Decision.ERROR, list(errors)
    failed = [
        g
        for g in gates
        if not g.passed and not g.skipped and g.gate_type == GateType.BLOCKING.value
    ]
    if failed:
        return Decision.BLOCK, [f"gate {g.name!r} failed: {g.explanation}" for g in failed]
    return Decision.DEPLOY, ["all blocking gates passed"]


def promised_metrics(
    config: PipelineConfig, benchmark: Benchmark, *, suite: Sequence[RedTeamItem] = ()
) -> set[str]:
    """Every metric name the configured stages can produce on this benchmark (and suite)."""
    base = [*RATE_METRICS, *FIELD_METRICS]
    names = set(base) | set(GENERATION_METRICS)
    for category in benchmark.categories:
        names.update(f"{m}[{category}]" for m in base)
    if config.judge.provider is not None and config.judge.enabled:
        for criterion in [*(c.name for c in config.judge.criteria), "overall"]:
            names.update({f"judge_{criterion}", f"judge_{criterion}_norm"})
        names.update({"judge_coverage", "judge_cost_usd", "judge_injection_flagged"})
    if any(i.kind == "attack" for i in suite):
        names.add("harmful_rate")
        names.update(f"harmful_rate[{i.category}]" for i in suite if i.kind == "attack")
    if any(i.kind == "benign" for i in suite):
        names.add("over_refusal_rate")
    return names


def check_gate_metrics(
    config: PipelineConfig, benchmark: Benchmark, *, suite: Sequence[RedTeamItem] = ()
) -> None:
    """Fail before any model runs when a gate reads a metric no stage can produce.

    Raises:
        ConfigError: naming the gate, the metric and the closest known name.
    """
    known = promised_metrics(config, benchmark, suite=suite)
    for gate in config.quality_gates:
        if gate.metric in known:
            continue
        if gate.metric.startswith(("harmful_rate", "over_refusal_rate")) and not suite:
            raise ConfigError(
                f"quality_gates: gate {gate.name!r} reads {gate.metric!r} but no red-team "
                "suite is configured (set safety.suite_path, or remove the gate)"
            )
        if gate.metric.startswith(stages.JUDGE_PREFIX) and config.judge.provider is None:
            raise ConfigError(
                f"quality_gates: gate {gate.name!r} reads {gate.metric!r} but no judge is "
                "configured (set judge.provider, or remove the gate)"
            )
        close = difflib.get_close_matches(gate.metric, sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"quality_gates: gate {gate.name!r} reads metric {gate.metric!r}, which no "
            f"configured stage produces{hint}"
        )


def check_judge_ready(config: PipelineConfig) -> None:
    """Fail before any model runs when required judge gates cannot be evaluated.

    Raises:
        ConfigError: gates read ``judge_*`` metrics, the judge is not optional, and
            the variable that holds its API key is not set.
    """
    judge = config.judge
    if judge.provider is None or judge.optional or not _gated(config, stages.JUDGE_PREFIX):
        return
    env = default_api_key_env(judge)
    if env is not None and not os.environ.get(env):
        raise ConfigError(
            f"judge: gates read judge_* metrics but the judge's key variable {env} is not "
            "set; set it, or mark the judge optional (judge.optional: true)"
        )


def _gated(config: PipelineConfig, prefix: str) -> bool:
    return any(g.metric.startswith(prefix) for g in config.quality_gates)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _run_id(started_at: str) -> str:
    stamp = started_at[:19].replace(":", "").replace("-", "")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"
