"""Stage: the LLM judge on a seeded, stratified sample, under a budget."""

from __future__ import annotations

from pathlib import Path

from releasegate.config.schema import PipelineConfig
from releasegate.errors import StageError
from releasegate.judge.ready import DISAGREEMENT_METRIC, FLIP_METRIC, skip_reason
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
from releasegate.records.baseline import Baseline
from releasegate.records.core import PipelineStatus, StageResult
from releasegate.records.judge import JudgeOutcome
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
        _run_spec(
            FLIP_METRIC,
            "Share of per-criterion verdicts that change when a seeded few items are judged "
            "again with the criteria reordered and the fences relabelled.",
            RATE,
            Direction.LOWER,
        ),
        _run_spec(
            DISAGREEMENT_METRIC,
            "Share of items (mean over the criteria) on which the jurors' scores differ "
            "(only with judge.jury).",
            RATE,
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
        from releasegate.judge.jury import run_judge  # the judge loads only to judge

        config = inputs.config
        settings = config.judge
        cache = Path(settings.cache_path) if settings.cache_path else default_judge_cache(config)
        outcome = run_judge(
            examples=inputs.benchmark.examples,
            outputs={e.id: e.output for e in evidence.examples},
            config=settings,
            seed=config.seed,
            cache_path=cache,
            perturbation=True,
        )
        if outcome.status == "success":
            outcome = _checked(outcome, inputs, evidence, cache)
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


def _checked(
    outcome: JudgeOutcome, inputs: RunInputs, evidence: Evidence, cache: Path
) -> JudgeOutcome:
    """Re-judge the baseline if its judge config differs, then assess the judge's health."""
    from releasegate.judge.family import same_family_warning
    from releasegate.judge.health import assess_health
    from releasegate.judge.rejudge import needs_rejudge, rejudge_baseline

    settings, baseline = inputs.config.judge, inputs.baseline
    if (
        settings.rejudge_baseline
        and isinstance(baseline, Baseline)
        and needs_rejudge(baseline, outcome)
    ):
        outcome = rejudge_baseline(
            baseline,
            outcome,
            examples=inputs.benchmark.examples,
            config=settings,
            seed=inputs.config.seed,
            cache_path=cache,
        )
    info = inputs.backend.info()
    family = None
    if settings.health.same_family_warning:
        hints = [*info.details.values(), inputs.config.model.model_name or ""]
        warnings = [
            same_family_warning(
                provider=judge.provider,
                model=judge.model,
                base_url=judge.base_url,
                candidate_ref=info.ref,
                candidate_hints=hints,
            )
            for judge in settings.jurors()
        ]
        family = next((w for w in warnings if w is not None), None)
    health = assess_health(
        outcome, settings, store=calibration_store_path(inputs.config), same_family=family
    )
    if family is not None:
        evidence.warnings.append(family)
    # An unhealthy judge's note is added where its gates are downgraded (the pipeline).
    return outcome.model_copy(update={"health": health})


def calibration_store_path(config: PipelineConfig) -> Path:
    """The calibration store a run reads (``judge.calibration_store``, else beside the cache)."""
    if config.judge.calibration_store:
        return Path(config.judge.calibration_store)
    from releasegate.judge.calibration_store import STORE_FILE

    return Path(config.output.dir) / STORE_FILE


def default_judge_cache(config: PipelineConfig) -> Path:
    """Where judge verdicts are cached when ``judge.cache_path`` is not set.

    Beside the run directories, so a re-run of an unchanged model costs nothing.
    """
    return Path(config.output.dir) / "judge_cache.sqlite"
