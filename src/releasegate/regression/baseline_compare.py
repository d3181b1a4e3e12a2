"""Stage 3: compare a run with its baseline (SPEC §5), pairing examples when possible.

Pairing: an example pairs with the baseline's when the ids match *and* the input
hashes match; examples added, removed, or whose input changed since the baseline
are counted and reported, never silently compared. A flat seed-style baseline
(``{"accuracy": 0.87}``) has no per-example outcomes, so it falls back to the
unpaired test, with a warning about the lost power. Judge scores compare paired on
the items both runs judged, only when the judge configuration hash matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from releasegate.config.regression import RegressionSettings
from releasegate.records.baseline import Baseline, BaselineExample, FlatBaseline, JudgeScores
from releasegate.records.core import ExampleResult, MetricValue
from releasegate.records.regression import FlippedExample, MetricComparison, RegressionReport
from releasegate.regression.rule import (
    apply_holm,
    compare_paired_binary,
    compare_paired_scores,
    compare_unpaired,
)

FLIP_METRIC = "accuracy"
MAX_FLIPPED_SHOWN = 50
JUDGE_SCALE = 4.0  # width of the 1-5 judge scale; thresholds are fractions of it


def compare_with_baseline(
    examples: Sequence[ExampleResult],
    metrics: Mapping[str, MetricValue],
    baseline: Baseline | FlatBaseline,
    *,
    settings: RegressionSettings,
    judge: JudgeScores | None,
    source: str,
) -> RegressionReport:
    """Compare this run with ``baseline`` (read from ``source``), Holm-adjusted."""
    if isinstance(baseline, FlatBaseline):
        return _compare_flat(metrics, baseline, settings=settings)
    report = _compare_paired(examples, baseline, settings=settings, judge=judge)
    return report.model_copy(update={"baseline_path": source})


def _compare_flat(
    metrics: Mapping[str, MetricValue], baseline: FlatBaseline, *, settings: RegressionSettings
) -> RegressionReport:
    comparisons: list[MetricComparison] = []
    for name in settings.metrics:
        current = metrics.get(name)
        if current is None or name not in baseline.metrics:
            continue
        comparisons.append(
            compare_unpaired(
                name, baseline.metrics[name], None, current.value, current.n, settings=settings
            )
        )
    adjusted = _holm(comparisons, settings)
    return RegressionReport(
        baseline_path=baseline.path,
        paired=False,
        metrics={c.name: c for c in adjusted},
        warnings=[
            "flat baseline (metric values only): compared unpaired against the baseline "
            "value as a fixed reference; this is the weaker analysis and no flipped "
            "examples can be listed. Use a baseline written by releasegate for paired tests."
        ],
        settings=settings,
    )


def _compare_paired(
    examples: Sequence[ExampleResult],
    baseline: Baseline,
    *,
    settings: RegressionSettings,
    judge: JudgeScores | None,
) -> RegressionReport:
    base_by_id = {e.id: e for e in baseline.examples}
    current_ids = {e.id for e in examples}
    pairs = [(e, base_by_id[e.id]) for e in examples if e.id in base_by_id]
    matched = [(cur, old) for cur, old in pairs if cur.input_hash == old.input_hash]
    comparisons = [
        comparison
        for name in settings.metrics
        if (comparison := _paired_metric(name, matched, settings)) is not None
    ]
    judge_comparisons, judge_note = _judge_comparisons(baseline, judge, settings)
    adjusted = _holm(comparisons + judge_comparisons, settings)
    to_wrong, to_right, flipped = _flips(matched)
    warnings = []
    if len(matched) < len(examples):
        warnings.append(
            f"only {len(matched)} of {len(examples)} examples pair with the baseline "
            "(added, removed or changed examples are not compared)"
        )
    return RegressionReport(
        baseline_path="",
        baseline_run_id=baseline.run_id,
        baseline_model=baseline.model_ref,
        paired=True,
        n_paired=len(matched),
        n_added=len(current_ids - set(base_by_id)),
        n_removed=len(set(base_by_id) - current_ids),
        n_changed_input=len(pairs) - len(matched),
        metrics={c.name: c for c in adjusted},
        flipped_to_wrong=to_wrong,
        flipped_to_right=to_right,
        flipped_examples=flipped,
        judge_compared=bool(judge_comparisons),
        judge_note=judge_note,
        warnings=warnings,
        settings=settings,
    )


def _paired_metric(
    name: str,
    matched: Sequence[tuple[ExampleResult, BaselineExample]],
    settings: RegressionSettings,
) -> MetricComparison | None:
    key, category = split_metric_name(name)
    rows = [
        (bool(old.outcomes[key]), bool(cur.outcomes[key]))
        for cur, old in matched
        if cur.outcomes.get(key) is not None
        and old.outcomes.get(key) is not None
        and (category is None or cur.category == category)
    ]
    if not rows:
        return None
    table = np.array(rows, dtype=bool)
    return compare_paired_binary(name, table[:, 0], table[:, 1], settings=settings)


def split_metric_name(name: str) -> tuple[str, str | None]:
    """``accuracy[create]`` -> (``accuracy``, ``create``); ``accuracy`` -> (``accuracy``, None)."""
    if name.endswith("]") and "[" in name:
        base, _, category = name[:-1].partition("[")
        return base, category
    return name, None


def _judge_comparisons(
    baseline: Baseline, judge: JudgeScores | None, settings: RegressionSettings
) -> tuple[list[MetricComparison], str | None]:
    if judge is None:
        return [], "this run has no judge scores"
    if baseline.judge is None:
        return [], "the baseline has no judge scores"
    if baseline.judge.config_hash != judge.config_hash:
        return [], (
            "judge scores not compared: the judge configuration changed since the baseline "
            f"({baseline.judge.config_hash} -> {judge.config_hash})"
        )
    shared = sorted(set(baseline.judge.scores) & set(judge.scores))
    if len(shared) < 2:
        return [], f"judge scores not compared: only {len(shared)} item(s) judged in both runs"
    criteria = sorted(set.intersection(*(set(judge.scores[i]) for i in shared)))
    rng = np.random.default_rng(settings.seed)
    out = []
    for criterion in [*criteria, "overall"]:
        old = np.array([_judge_value(baseline.judge.scores[i], criterion) for i in shared])
        new = np.array([_judge_value(judge.scores[i], criterion) for i in shared])
        out.append(
            compare_paired_scores(
                f"judge_{criterion}", old, new, settings=settings, rng=rng, scale=JUDGE_SCALE
            )
        )
    return out, f"judge scores compared paired on {len(shared)} items judged in both runs"


def _judge_value(scores: Mapping[str, int], criterion: str) -> float:
    if criterion == "overall":
        return float(np.mean(list(scores.values())))
    return float(scores[criterion])


def _holm(
    comparisons: list[MetricComparison], settings: RegressionSettings
) -> list[MetricComparison]:
    if settings.multiplicity == "none" or len(comparisons) < 2:
        return comparisons
    return apply_holm(comparisons, alpha=settings.alpha)


def _flips(
    matched: Sequence[tuple[ExampleResult, BaselineExample]],
) -> tuple[list[str], list[str], list[FlippedExample]]:
    to_wrong: list[FlippedExample] = []
    to_right: list[FlippedExample] = []
    for cur, old in matched:
        before, after = old.outcomes.get(FLIP_METRIC), cur.outcomes.get(FLIP_METRIC)
        if before is None or after is None or before == after:
            continue
        flipped = FlippedExample(
            id=cur.id,
            category=cur.category,
            direction="to_wrong" if before else "to_right",
            input=cur.input,
            expected_output=cur.expected_output,
            baseline_output=old.output,
            current_output=cur.output,
        )
        (to_wrong if before else to_right).append(flipped)
    shown = (to_wrong + to_right)[:MAX_FLIPPED_SHOWN]
    return [f.id for f in to_wrong], [f.id for f in to_right], shown
