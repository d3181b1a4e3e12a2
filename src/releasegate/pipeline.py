"""The pipeline: one short function per stage; the only module that imports across stages.

::

    config ─ benchmark ─ backend ─> generations ─> automated metrics ─┐
                                                   judge (sampled) ────┤─> gates ─> decision
                                  baseline ─> regression comparison ──┘
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

import numpy as np
from jsonschema.protocols import Validator

from releasegate import __version__
from releasegate.backends.base import Backend, Generation, GenerationParams, Prompt
from releasegate.backends.registry import load_backend
from releasegate.benchmark.load import load_benchmark
from releasegate.benchmark.model import Benchmark, Example
from releasegate.config.gates import GateType
from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError, InputError, ReleaseGateError
from releasegate.gate import evaluate_gates
from releasegate.generate import run_generation
from releasegate.manifest import (
    config_dict,
    config_hash,
    git_sha,
    package_versions,
    python_platform,
)
from releasegate.progress import NullProgress, Progress
from releasegate.record import (
    ExampleResult,
    GateResult,
    PipelineResult,
    RunManifest,
    flatten_metrics,
)
from releasegate.results import Decision, MetricValue, PipelineStatus, StageResult
from releasegate.scoring.aggregate import aggregate
from releasegate.scoring.schema import load_validator
from releasegate.scoring.task import RATE_METRICS, ExampleScore, score_example

log = logging.getLogger(__name__)
_T = TypeVar("_T")

FIELD_METRICS = ("field_precision", "field_recall", "field_f1")


@dataclass
class _RunState:
    """Mutable bookkeeping of one run (never leaves this module)."""

    started: float
    started_at: str
    stages: list[StageResult] = field(default_factory=list)
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    examples: list[ExampleResult] = field(default_factory=list)
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

        Setup problems (bad benchmark, config, model reference) raise before any model
        runs; a stage that fails later makes the decision ERROR and is recorded.

        Raises:
            ReleaseGateError: invalid input or configuration.
        """
        state = _RunState(started=time.perf_counter(), started_at=_now())
        benchmark = load_benchmark(benchmark_path)
        validator, _ = load_validator(self.config.metrics.schema_path)
        check_gate_metrics(self.config, benchmark)
        backend = load_backend(model_path, self.config.model)

        generations = self._stage(state, "generation", lambda: self._generate(backend, benchmark))
        if generations is not None:
            self._stage(
                state,
                "automated_metrics",
                lambda: self._score(state, benchmark, generations, validator),
            )
        gates = self._gates(state)
        return self._finish(state, benchmark, backend, gates, baseline_path)

    def _stage(self, state: _RunState, name: str, fn: Callable[[], _T]) -> _T | None:
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
        if isinstance(value, StageResult):
            state.stages.append(
                value.model_copy(update={"duration_seconds": time.perf_counter() - t0})
            )
        return value

    def _generate(self, backend: Backend, benchmark: Benchmark) -> dict[str, Generation]:
        model = self.config.model
        prompts = [
            Prompt(sample_id=e.id, input=e.input, system_prompt=model.system_prompt)
            for e in benchmark.examples
        ]
        gen = self.config.generation
        params = GenerationParams(
            max_new_tokens=gen.max_new_tokens,
            temperature=gen.temperature,
            stop=tuple(gen.stop),
            batch_size=gen.batch_size,
            seed=self.config.seed,
        )
        outputs, _wall = run_generation(
            backend,
            prompts,
            params=params,
            max_output_chars=gen.max_output_chars,
            progress=self.progress,
        )
        missing = [g for g in outputs.values() if g.error is not None]
        if missing and model.on_missing == "error":
            first = ", ".join(repr(g.sample_id) for g in missing[:3])
            raise InputError(
                f"{len(missing)} of {len(prompts)} examples have no output (e.g. {first}): "
                f"{missing[0].error}. Set model.on_missing: fail_example to score them as failures"
            )
        return outputs

    def _score(
        self,
        state: _RunState,
        benchmark: Benchmark,
        generations: dict[str, Generation],
        validator: Validator,
    ) -> StageResult:
        strip = self.config.metrics.strip_code_fences
        for example in benchmark.examples:
            generation = generations[example.id]
            score = score_example(
                example, generation.text, validator=validator, strip_code_fences=strip
            )
            state.examples.append(_example_result(example, generation, score))
        rng = np.random.default_rng(self.config.seed)
        metrics = aggregate(state.examples, rng=rng)
        state.metrics.update(metrics)
        failed = sum(1 for e in state.examples if e.output is None)
        notes = [f"{failed} example(s) had no output and count as failures"] if failed else []
        return StageResult(
            name="automated_metrics", status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes
        )

    def _gates(self, state: _RunState) -> list[GateResult]:
        if state.errors:
            return []
        try:
            return evaluate_gates(
                self.config.quality_gates,
                state.metrics,
                examples=state.examples,
                skipped_metric_prefixes=state.skipped_prefixes,
                max_examples=self.config.output.max_examples_in_report,
            )
        except ConfigError as exc:
            state.errors.append(f"gates: {exc}")
            return []

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
        return PipelineResult(
            decision=decision,
            deploy_allowed=decision is Decision.DEPLOY,
            exit_code=decision.exit_code,
            reasons=reasons,
            warnings=state.warnings
            + [g.explanation for g in gates if not g.passed and g.gate_type == "warning"],
            metrics=flat,
            metrics_ci=cis,
            metric_details=state.metrics,
            gates=gates,
            stages=state.stages,
            examples=state.examples,
            run=self._manifest(state, benchmark, backend, baseline_path),
            errors=state.errors,
        )

    def _manifest(
        self, state: _RunState, benchmark: Benchmark, backend: Backend, baseline_path: str | None
    ) -> RunManifest:
        info = backend.info()
        python, plat = python_platform()
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
            methods={
                "rate_ci": "wilson",
                "field_ci": "bootstrap-percentile (seeded, 2000 resamples)",
            },
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


def promised_metrics(config: PipelineConfig, benchmark: Benchmark) -> set[str]:
    """Every metric name the configured stages can produce on this benchmark."""
    base = [*RATE_METRICS, *FIELD_METRICS]
    names = set(base)
    for category in benchmark.categories:
        names.update(f"{m}[{category}]" for m in base)
    return names


def check_gate_metrics(config: PipelineConfig, benchmark: Benchmark) -> None:
    """Fail before any model runs when a gate reads a metric no stage can produce.

    Raises:
        ConfigError: naming the gate, the metric and the closest known name.
    """
    import difflib

    known = promised_metrics(config, benchmark)
    for gate in config.quality_gates:
        if gate.metric not in known:
            close = difflib.get_close_matches(gate.metric, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"quality_gates: gate {gate.name!r} reads metric {gate.metric!r}, which no "
                f"configured stage produces{hint}"
            )


def _example_result(example: Example, generation: Generation, score: ExampleScore) -> ExampleResult:
    fields = score.fields
    return ExampleResult(
        id=example.id,
        category=example.category,
        input_hash=example.input_hash,
        input=example.input_text,
        expected_output=example.expected_output,
        output=generation.text,
        error=generation.error,
        outcomes=score.outcomes,
        field_tp=None if fields is None else fields.tp,
        field_predicted=None if fields is None else fields.predicted,
        field_expected=None if fields is None else fields.expected,
        parse_error=score.parse_error,
        schema_error=score.schema_error,
        truncated=generation.finish_reason == "truncated_by_releasegate",
        latency_s=generation.latency_s,
        tokens_in=generation.tokens_in,
        tokens_out=generation.tokens_out,
        finish_reason=generation.finish_reason,
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _run_id(started_at: str) -> str:
    stamp = started_at[:19].replace(":", "").replace("-", "")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"
