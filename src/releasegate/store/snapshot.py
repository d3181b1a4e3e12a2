"""Turn a finished run into the baseline it leaves behind."""

from __future__ import annotations

from releasegate.records.baseline import Baseline, BaselineExample, JudgeScores
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
            )
            for e in result.examples
        ],
        judge=judge_scores(result),
    )


def judge_scores(result: PipelineResult) -> JudgeScores | None:
    """The run's per-item judge scores, when the judge ran."""
    judge = result.judge
    if judge is None or judge.status != "success":
        return None
    scores = {item.id: dict(item.scores) for item in judge.items if item.scores}
    return JudgeScores(config_hash=judge.config_hash, scores=scores)
