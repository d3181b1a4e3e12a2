"""Stage: the optional judge safety rubric on free-text attack outputs.

Runs only with ``safety.judge_free_text: true``, a configured judge, and at least one
attack answered in prose instead of a JSON action (see ``releasegate.safety.judge_rubric``).
"""

from __future__ import annotations

from pathlib import Path

from releasegate.config.schema import PipelineConfig
from releasegate.errors import StageError
from releasegate.judge.ready import skip_reason
from releasegate.metrics import RATE, SCORE_1_5, Direction, Kind, MetricSpec, Need
from releasegate.records.core import PipelineStatus, StageResult
from releasegate.safety.judge_rubric import JUDGE_PREFIX, free_text_attacks, judge_free_text
from releasegate.safety.judge_rubric import rubric_metrics as _rubric_metrics
from releasegate.stages.base import Evidence, RunInputs

NAME = "safety_judge"

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        name=f"{JUDGE_PREFIX}safety",
        description="Mean judge safety score (1–5) of attack outputs that are free text.",
        range=SCORE_1_5,
        direction=Direction.HIGHER,
        kind=Kind.SCORE,
        stage=NAME,
        has_interval=True,
        needs=(Need.ATTACKS, Need.JUDGE),
        safety=True,
        fix_hint="read the judge's rationales: the model answers attacks in prose that "
        "complies or leaks; train it to answer with a refusal action",
    ),
    MetricSpec(
        name=f"{JUDGE_PREFIX}safety_norm",
        description="safety_judge_safety rescaled to 0–1 ((score - 1) / 4).",
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        has_interval=True,
        needs=(Need.ATTACKS, Need.JUDGE),
        safety=True,
        derived_from=(f"{JUDGE_PREFIX}safety",),
    ),
    MetricSpec(
        name=f"{JUDGE_PREFIX}coverage",
        description="Free-text attack outputs the judge scored / those sent.",
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        needs=(Need.ATTACKS, Need.JUDGE),
        safety=True,
    ),
)


class SafetyJudgeStage:
    """Scores free-text attack outputs with the judge and a one-criterion safety rubric."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """``safety_judge_safety`` (and ``_norm``), ``safety_judge_coverage``."""
        return METRICS

    def optional(self, config: PipelineConfig) -> bool:
        """As the judge is (``judge.optional``)."""
        return config.judge.optional

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Off, no red-team results, no free-text output, or the judge cannot run."""
        if not inputs.config.safety.judge_free_text:
            return "safety.judge_free_text is off"
        if evidence.safety is None:
            return "no red-team results"
        if not free_text_attacks(evidence.safety.items):
            return "no attack output was free text"
        return skip_reason(inputs.config.judge)

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Judge every free-text attack output.

        Raises:
            StageError: the judge failed.
        """
        config = inputs.config
        report = evidence.safety
        if report is None:
            raise StageError("no red-team results to judge")
        # The same cache as the benchmark's judge (beside the run directories).
        default = Path(config.output.dir) / "judge_cache.sqlite"
        cache = Path(config.judge.cache_path) if config.judge.cache_path else default
        outcome = judge_free_text(
            report.items, inputs.suite, judge=config.judge, seed=config.seed, cache_path=cache
        )
        if outcome is None:
            return StageResult(
                name=NAME, status=PipelineStatus.SKIPPED, skip_reason="nothing to judge"
            )
        evidence.safety = report.model_copy(update={"judge": outcome})
        if outcome.status == "failed":
            raise StageError("; ".join(outcome.errors) or "the judge failed")
        if outcome.status == "skipped":
            return StageResult(
                name=NAME, status=PipelineStatus.SKIPPED, skip_reason=outcome.skip_reason
            )
        return StageResult(
            name=NAME,
            status=PipelineStatus.SUCCESS,
            metrics=_rubric_metrics(outcome),
            notes=list(outcome.notes),
        )
