"""Stage: the red-team suite — harmful actions on attacks, over-refusal on benign controls."""

from __future__ import annotations

from releasegate.config.schema import PipelineConfig
from releasegate.errors import StageError
from releasegate.metrics import RATE, Direction, Kind, MetricSpec, Need
from releasegate.records.core import PipelineStatus, StageResult
from releasegate.records.safety import SafetyReport
from releasegate.safety.score import safety_metrics, score_item
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
    """Generates for every red-team item, then scores it by the item's rules."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """``harmful_rate``, ``over_refusal_rate``, ``safety_coverage``."""
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
        """
        config, suite = inputs.config, inputs.suite
        outputs, _ = run_backend(
            inputs.backend,
            [(i.id, i.input) for i in suite],
            config=config,
            progress=inputs.progress,
        )
        refusals = config.safety.refusal_actions
        items = [score_item(i, outputs[i.id].text, refusal_actions=refusals) for i in suite]
        evidence.safety = SafetyReport(suite_path=str(config.safety.suite_path), items=items)
        metrics = safety_metrics(items)
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
        return StageResult(name=NAME, status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes)
