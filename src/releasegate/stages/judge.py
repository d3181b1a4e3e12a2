"""Stage: the LLM judge on a seeded, stratified sample, under a budget."""

from __future__ import annotations

from pathlib import Path

from releasegate.config.schema import PipelineConfig
from releasegate.errors import StageError
from releasegate.judge.stage import run_judge_stage, skip_reason
from releasegate.metrics import (
    COUNT,
    RATE,
    SCORE_1_5,
    USD,
    Direction,
    Kind,
    MetricSpec,
    Need,
    Range,
)
from releasegate.records.core import PipelineStatus, StageResult
from releasegate.stages.base import Evidence, RunInputs

NAME = "llm_judge"


def _score_specs(criterion: str, criteria: tuple[str, ...]) -> tuple[MetricSpec, MetricSpec]:
    """``judge_<criterion>`` (1–5) and its 0–1 rescaling ``judge_<criterion>_norm``."""
    name = f"judge_{criterion}"
    overall = criterion == "overall"
    score = MetricSpec(
        name=name,
        description="Mean of the criteria's judge scores (1–5)."
        if overall
        else f"Mean judge score for {criterion} (1–5).",
        range=SCORE_1_5,
        direction=Direction.HIGHER,
        kind=Kind.SCORE,
        stage=NAME,
        has_interval=True,
        needs=(Need.JUDGE,),
        derived_from=tuple(f"judge_{c}" for c in criteria) if overall else (),
        fix_hint="read the judge's rationales for the lowest-scored items",
    )
    norm = MetricSpec(
        name=f"{name}_norm",
        description=f"{name} rescaled to 0–1 ((score - 1) / 4).",
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        has_interval=True,
        needs=(Need.JUDGE,),
        derived_from=(name,),
    )
    return score, norm


def _run_spec(name: str, description: str, range_: Range, direction: Direction) -> MetricSpec:
    return MetricSpec(
        name=name,
        description=description,
        range=range_,
        direction=direction,
        kind=Kind.AGGREGATE,
        stage=NAME,
        needs=(Need.JUDGE,),
    )


def judge_metrics(criteria: tuple[str, ...]) -> tuple[MetricSpec, ...]:
    """The judge's metrics for these rubric criteria (``overall`` is their mean)."""
    scores = [spec for c in [*criteria, "overall"] for spec in _score_specs(c, criteria)]
    return (
        *scores,
        _run_spec("judge_coverage", "Judged items / sampled items.", RATE, Direction.HIGHER),
        _run_spec(
            "judge_cost_usd",
            "What the judge calls cost, from the provider's usage figures.",
            USD,
            Direction.LOWER,
        ),
        _run_spec(
            "judge_injection_flagged",
            "Judged outputs flagged as trying to instruct the judge.",
            COUNT,
            Direction.LOWER,
        ),
    )


class JudgeStage:
    """Grades a sample of outputs on rubric criteria with an LLM judge."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """``judge_<criterion>`` (and ``_norm``) per criterion, overall, coverage, cost."""
        return judge_metrics(tuple(c.name for c in config.judge.criteria))

    def optional(self, config: PipelineConfig) -> bool:
        """As configured (``judge.optional``)."""
        return config.judge.optional

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Disabled, no provider, or the key variable is unset."""
        if not evidence.examples:
            return "no scored examples to judge"
        return skip_reason(inputs.config.judge)

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Judge the sample.

        Raises:
            StageError: the judge failed (coverage below its minimum, provider errors).
        """
        config = inputs.config
        settings = config.judge
        cache = Path(settings.cache_path) if settings.cache_path else default_judge_cache(config)
        outcome = run_judge_stage(
            examples=inputs.benchmark.examples,
            outputs={e.id: e.output for e in evidence.examples},
            config=settings,
            seed=config.seed,
            cache_path=cache,
        )
        evidence.judge = outcome
        if outcome.status == "failed":
            raise StageError("; ".join(outcome.errors) or "the judge failed")
        if outcome.status == "skipped":
            return StageResult(
                name=NAME, status=PipelineStatus.SKIPPED, skip_reason=outcome.skip_reason
            )
        return StageResult(
            name=NAME,
            status=PipelineStatus.SUCCESS,
            metrics=outcome.metrics,
            errors=list(outcome.errors),
            notes=list(outcome.notes),
        )


def default_judge_cache(config: PipelineConfig) -> Path:
    """Where judge verdicts are cached when ``judge.cache_path`` is not set.

    Beside the run directories, so a re-run of an unchanged model costs nothing.
    """
    return Path(config.output.dir) / "judge_cache.sqlite"
