"""The stage contract: what every stage declares, receives and returns.

A stage is one module under ``stages/`` with one class that

* declares the metrics it can produce under a config (:meth:`Stage.declare`), so that
  gates, the regression check and ``validate`` can be checked before any model runs;
* says why it does not apply to a run, if it does not (:meth:`Stage.skip_reason`);
* runs: reads the run's inputs and what earlier stages found, records its own
  finding on :class:`Evidence`, and returns a :class:`StageResult`.

``pipeline.py`` runs the registered stages in order and applies the failure policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from releasegate.config.schema import PipelineConfig
from releasegate.metrics import MetricCatalog, MetricSpec, Need
from releasegate.records.core import ExampleResult, MetricValue, StageResult

if TYPE_CHECKING:
    from releasegate.backends.base import Backend, Generation
    from releasegate.benchmark.model import Benchmark
    from releasegate.progress import Progress
    from releasegate.records.baseline import Baseline, FlatBaseline
    from releasegate.records.determinism import DeterminismReport
    from releasegate.records.judge import JudgeOutcome
    from releasegate.records.regression import RegressionReport
    from releasegate.records.safety import SafetyReport
    from releasegate.safety.suite import RedTeamItem
    from releasegate.scoring.schema import OutputSchema


@dataclass(frozen=True)
class RunInputs:
    """Everything a run reads, loaded and checked before any model runs."""

    config: PipelineConfig
    benchmark: Benchmark
    backend: Backend
    schema: OutputSchema
    """The JSON Schema behind ``schema_valid_rate`` (verdicts remembered in the schema cache)."""
    suite: Sequence[RedTeamItem]
    baseline: Baseline | FlatBaseline | None
    baseline_path: str | None
    catalog: MetricCatalog
    progress: Progress


@dataclass
class Evidence:
    """What the stages found so far. Each stage fills in only its own fields."""

    generations: dict[str, Generation] = field(default_factory=dict)
    """Draw 0 of every example (what the judge and safety stages read)."""
    draws: dict[str, list[Generation]] = field(default_factory=dict)
    """With ``generation.repeats`` k > 1: all k draws per example, draw 0 first."""
    examples: list[ExampleResult] = field(default_factory=list)
    safety: SafetyReport | None = None
    judge: JudgeOutcome | None = None
    regression: RegressionReport | None = None
    determinism: DeterminismReport | None = None
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """Findings every report must show (missing outputs, partial coverage, ...)."""


class Stage(Protocol):
    """One step of the evaluation."""

    name: str
    """Stage name in reports (``generation``, ``automated_metrics``, ...)."""

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """Every metric this stage can produce under ``config`` (cheap; no I/O)."""
        ...

    def optional(self, config: PipelineConfig) -> bool:
        """True when the run may go on without this stage's findings.

        Its gates are then reported as not evaluated; False makes a failure an ERROR.
        """
        ...

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Why the stage does not apply to this run, or None to run it."""
        ...

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Run, record findings on ``evidence``, and report.

        Raises:
            ReleaseGateError: the stage could not run (the run's decision is ERROR
                unless the stage is optional).
        """
        ...


@dataclass(frozen=True)
class PlanFacts:
    """What is known about a run before any model runs, to check metric needs.

    ``per_request_timing`` and ``token_counts`` are None when no backend is known yet
    (``validate`` without ``--model``): such needs are then not held against a gate.
    """

    config: PipelineConfig
    has_expected_action: bool
    has_expected_object: bool
    categories: frozenset[str]
    attack_categories: frozenset[str]
    has_benign: bool
    per_request_timing: bool | None = None
    token_counts: bool | None = None
    check_categories: bool = True
    """False when no benchmark is known: named categories cannot be checked."""

    def satisfies(self, need: Need) -> bool:
        """Whether this run provides ``need``."""
        cost = self.config.cost
        checks = {
            Need.EXPECTED_ACTION: self.has_expected_action,
            Need.EXPECTED_OBJECT: self.has_expected_object,
            Need.ATTACKS: bool(self.attack_categories),
            Need.BENIGN: self.has_benign,
            Need.JUDGE: self.config.judge.provider is not None and self.config.judge.enabled,
            Need.TOKEN_PRICES: cost.input_price_per_mtok is not None
            and cost.output_price_per_mtok is not None,
            Need.GPU_PRICE: cost.gpu_usd_per_hour is not None,
            Need.TOKEN_COUNTS: self.token_counts is not False,
            Need.REQUEST_TIMING: self.per_request_timing is not False,
            Need.REPEATS: self.config.generation.repeats > 1,
            Need.DETERMINISM_CHECK: self.config.determinism.enabled,
        }
        return checks[need]


def unmet_needs(needs: Sequence[Need], facts: PlanFacts) -> list[Need]:
    """The needs in ``needs`` that this run cannot satisfy."""
    return [n for n in needs if not facts.satisfies(n)]
