"""Stage: adapter vs base on the red-team suite, the paired safety deltas.

The safety stage runs the suite on the base model of an adapter candidate; this stage
publishes the paired deltas (McNemar on the same items) as gateable metrics. For a
full model there is nothing to compare: the stage is skipped with that reason and its
gates are reported as not evaluated (never passed).
"""

from __future__ import annotations

from releasegate.config.schema import PipelineConfig
from releasegate.metrics import Direction, Kind, MetricSpec, Need, Range
from releasegate.records.core import PipelineStatus, StageResult
from releasegate.safety.delta import DELTA_PREFIX, delta_metrics, describe
from releasegate.stages.base import Evidence, RunInputs

NAME = "safety_delta"
DIFFERENCE = Range(-1.0, 1.0, "rate")


def _spec(rate: str, need: Need, what: str) -> MetricSpec:
    return MetricSpec(
        name=f"{DELTA_PREFIX}{rate}",
        description=f"Adapter minus base {rate} on the same {what} (paired; Tango interval, "
        "McNemar mid-p in the notes). Positive: the adapter is worse.",
        range=DIFFERENCE,
        direction=Direction.LOWER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        has_interval=True,
        needs=(need,),
        safety=True,
        fix_hint="the adapter undid safe behaviours of its base: mix refusals and the base's "
        "safe answers for these attacks into the fine-tuning data",
    )


METRICS: tuple[MetricSpec, ...] = (
    _spec("harmful_rate", Need.ATTACKS, "attacks"),
    _spec("over_refusal_rate", Need.BENIGN, "benign controls"),
)


class SafetyDeltaStage:
    """Publishes the adapter-vs-base deltas the safety stage measured."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """``safety_delta_harmful_rate`` and ``safety_delta_over_refusal_rate``."""
        return METRICS

    def optional(self, config: PipelineConfig) -> bool:
        """Yes: a full model has no base. A base that fails to run fails the safety stage."""
        return True

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Skipped without a suite, for a full model, or with ``safety.compare_base`` off."""
        report = evidence.safety
        if report is None:
            return "no red-team results"
        if report.base is None:
            return report.base_skip_reason or "no base-model run"
        return None

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """The delta metrics, one note per delta."""
        base = evidence.safety.base if evidence.safety is not None else None
        deltas = base.deltas if base is not None else []
        return StageResult(
            name=NAME,
            status=PipelineStatus.SUCCESS,
            metrics=delta_metrics(deltas),
            notes=[describe(d) for d in deltas],
        )
