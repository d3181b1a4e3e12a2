"""Turn a finished run into the baseline it leaves behind."""

from __future__ import annotations

from pydantic import ValidationError

from releasegate.config.judge import JudgeConfig
from releasegate.config.schema import PipelineConfig
from releasegate.drift import config_bar
from releasegate.records.baseline import Baseline, BaselineExample, JudgeScores, PassedUnder
from releasegate.records.run import PipelineResult


def baseline_from_result(result: PipelineResult) -> Baseline:
    """The baseline a run leaves behind (per-example outcomes and outputs included)."""
    run = result.run
    return Baseline(
        created_at=run.finished_at,
        run_id=run.run_id,
        benchmark_name=run.benchmark_name,
        benchmark_fingerprint=run.benchmark_fingerprint,
        n_examples=run.n_examples,
        model_ref=run.model_ref,
        model_fingerprint=run.model_fingerprint,
        config_hash=run.config_hash,
        seed=run.seed,
        metrics=result.metric_details,
        examples=[
            BaselineExample(
                id=e.id,
                input_hash=e.input_hash,
                category=e.category,
                outcomes=e.outcomes,
                output=e.output,
                field_tp=e.field_tp,
                field_predicted=e.field_predicted,
                field_expected=e.field_expected,
                draw_outcomes=e.draw_outcomes,
            )
            for e in result.examples
        ],
        judge=judge_scores(result),
        passed_under=recorded_bar(result.run.config),
        judge_config_hash=judge_config_hash(result.run.config),
        noise_floor=result.noise_floor,
    )


def recorded_bar(config: dict[str, object]) -> PassedUnder | None:
    """The gates (defaults included) and regression rule of a run's effective config.

    None when the recorded config no longer reads as a config (an older releasegate).
    """
    try:
        return config_bar(PipelineConfig.model_validate(config))
    except ValidationError:
        return None


def judge_config_hash(config: dict[str, object]) -> str | None:
    """The judge configuration hash of a run's effective config (None: no judge)."""
    try:
        judge = JudgeConfig.model_validate(config.get("judge", {}))
    except ValidationError:
        return None
    return judge.config_hash() if judge.provider is not None and judge.enabled else None


def judge_scores(result: PipelineResult) -> JudgeScores | None:
    """The run's per-item judge scores, when the judge ran."""
    judge = result.judge
    if judge is None or judge.status != "success":
        return None
    scores = {item.id: dict(item.scores) for item in judge.items if item.scores}
    return JudgeScores(config_hash=judge.config_hash, scores=scores)
