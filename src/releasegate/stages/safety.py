"""Stage: the red-team suite — harmful actions on attacks, over-refusal on benign controls."""

from __future__ import annotations

from releasegate.config.schema import PipelineConfig
from releasegate.errors import StageError
from releasegate.metrics import RATE, Direction, Kind, MetricSpec, Need
from releasegate.records.core import PipelineStatus, StageResult
from releasegate.safety.delta import describe
from releasegate.safety.run import run_safety
from releasegate.stages.base import Evidence, RunInputs
from releasegate.stages.common import run_backend

NAME = "safety"

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        name="harmful_rate",
        description="Share of answered attacks that led to a forbidden action or an echoed "
        "secret (per attack category too).",
        range=RATE,
        direction=Direction.LOWER,
        kind=Kind.BINARY,
        stage=NAME,
        per_category=True,
        has_interval=True,
        needs=(Need.ATTACKS,),
        safety=True,
        fix_hint="the model performs forbidden actions on red-team prompts: add refusals for "
        "these attack categories to the training data, or a policy layer in front of the API",
    ),
    MetricSpec(
        name="over_refusal_rate",
        description="Share of answered benign look-alikes that the model refused.",
        range=RATE,
        direction=Direction.LOWER,
        kind=Kind.BINARY,
        stage=NAME,
        has_interval=True,
        needs=(Need.BENIGN,),
        safety=True,
        fix_hint="the model refuses benign requests that look like attacks: add such near-miss "
        "examples with their proper actions to the training data",
    ),
    MetricSpec(
        name="safe_response_rate",
        description="Share of answered attacks that got the safe response they expect "
        "(refuse, ask, or a constrained action; suites that name expected_behavior).",
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.BINARY,
        stage=NAME,
        has_interval=True,
        needs=(Need.ATTACKS,),
        safety=True,
        fix_hint="the model answers attacks with something other than the expected safe "
        "response: add refusals and clarifying questions for these requests to the training "
        "data",
    ),
    MetricSpec(
        name="safety_coverage",
        description="Share of red-team items (attacks and controls) that got an output.",
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        needs=(Need.ATTACKS,),
        safety=True,
        fix_hint="red-team requests failed: check the backend errors listed in the report",
    ),
)


class SafetyStage:
    """Generates for every red-team item, then scores it by the item's rules.

    For a PEFT adapter it also runs the suite on the base (``safety.compare_base``); a
    base that cannot be loaded fails this stage, so a delta is never silently missing.
    The deltas are published by the ``safety_delta`` stage.
    """

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """``harmful_rate``, ``over_refusal_rate``, ``safe_response_rate``, ``safety_coverage``."""
        return METRICS

    def optional(self, config: PipelineConfig) -> bool:
        """Never: a configured suite must be answered."""
        return False

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Skipped when no suite is configured."""
        if not inputs.suite:
            return "no red-team suite configured (safety.suite_path is not set)"
        return None

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Run the suite through the backend and score it.

        Raises:
            StageError: fewer items answered than ``safety.min_coverage`` requires
                (with ``safety.on_low_coverage: error``).
            BackendError: the candidate is an adapter whose base cannot be run.
        """
        config, suite = inputs.config, inputs.suite
        outcome = run_safety(
            inputs.backend,
            suite,
            config=config,
            generate=lambda backend, pairs: run_backend(
                backend, pairs, config=config, progress=inputs.progress
            )[0],
        )
        evidence.safety = outcome.report
        items = outcome.report.items
        metrics = outcome.metrics
        answered = sum(1 for i in items if i.output is not None)
        coverage = answered / len(items)
        notes = []
        if coverage < config.safety.min_coverage:
            message = (
                f"only {answered} of {len(items)} red-team items got an output (coverage "
                f"{coverage:.3f} < safety.min_coverage {config.safety.min_coverage:g}); "
                "unanswered attacks prove nothing"
            )
            if config.safety.on_low_coverage == "error":
                raise StageError(message)
            evidence.warnings.append(f"safety: {message}; rates cover the answered items only")
            notes.append(message)
        attacks = [i for i in items if i.kind == "attack" and i.output is not None]
        notes.insert(
            0,
            f"{sum(bool(i.harmful) for i in attacks)} of {len(attacks)} answered "
            "attacks led to harm",
        )
        base = outcome.report.base
        if base is not None:
            notes.extend(f"adapter vs base: {describe(d)}" for d in base.deltas)
        return StageResult(name=NAME, status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes)
