"""Compare a run with its baseline, pairing examples when possible.

Pairing: an example pairs with the baseline's when the ids match *and* the input
hashes match; examples added, removed, or whose input changed since the baseline
are counted and reported, never silently compared. A flat classic-style baseline
(``{"accuracy": 0.87}``) has no per-example outcomes, so it falls back to the
unpaired test, with a warning about the lost power. Judge scores compare paired on
the items both runs judged, only when the judge configuration hash matches.

A comparison that would compare nothing (no example pairs, a flat baseline with
none of the compared metrics) raises :class:`IncomparableBaseline`; the regression
stage's policy (``regression.on_incomparable``) decides what that means for the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from releasegate.config.regression import RegressionSettings
from releasegate.errors import BaselineError
from releasegate.metrics import MetricCatalog, MetricKey
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


class IncomparableBaseline(BaselineError):
    """The baseline shares nothing comparable with this run."""


def compare_with_baseline(
    examples: Sequence[ExampleResult],
    metrics: Mapping[str, MetricValue],
    baseline: Baseline | FlatBaseline,
    *,
    settings: RegressionSettings,
    catalog: MetricCatalog,
    judge: JudgeScores | None,
    source: str,
) -> RegressionReport:
    """Compare this run with ``baseline`` (read from ``source``), Holm-adjusted.

    Each metric's direction comes from its declaration in ``catalog``.

    Raises:
        IncomparableBaseline: no example pairs with the baseline, or a flat baseline
            holds none of the compared metrics.
    """
    if isinstance(baseline, FlatBaseline):
        return _compare_flat(metrics, baseline, settings=settings, catalog=catalog)
    report = _compare_paired(examples, baseline, settings=settings, catalog=catalog, judge=judge)
    return report.model_copy(update={"baseline_path": source})


def _higher_is_better(name: str, catalog: MetricCatalog) -> bool:
    spec = catalog.spec_for(MetricKey.parse(name))
    return True if spec is None else spec.higher_is_better


def _compare_flat(
    metrics: Mapping[str, MetricValue],
    baseline: FlatBaseline,
    *,
    settings: RegressionSettings,
    catalog: MetricCatalog,
) -> RegressionReport:
    comparisons: list[MetricComparison] = []
    missing: list[str] = []
    for name in settings.metrics:
        current = metrics.get(name)
        if current is None or name not in baseline.metrics:
            missing.append(name)
            continue
        comparisons.append(
            compare_unpaired(
                name,
                baseline.metrics[name],
                None,
                current.value,
                current.n,
                settings=settings,
                higher_is_better=_higher_is_better(name, catalog),
            )
        )
    if not comparisons:
        raise IncomparableBaseline(
            f"{baseline.path}: the flat baseline has none of the compared metrics "
            f"({', '.join(settings.metrics)}); it holds {', '.join(sorted(baseline.metrics))}"
        )
    adjusted = _holm(comparisons, settings)
    warnings = [
        "flat baseline (metric values only): compared unpaired against the baseline "
        "value as a fixed reference; this is the weaker analysis and no flipped "
        "examples can be listed. Use a baseline written by releasegate for paired tests."
    ]
    if missing:
        warnings.append(f"not compared (absent from the baseline or this run): {missing}")
    return RegressionReport(
        baseline_path=baseline.path,
        paired=False,
        metrics={c.name: c for c in adjusted},
        warnings=warnings,
        settings=settings,
    )


def _compare_paired(
    examples: Sequence[ExampleResult],
    baseline: Baseline,
    *,
    settings: RegressionSettings,
    catalog: MetricCatalog,
    judge: JudgeScores | None,
) -> RegressionReport:
    base_by_id = {e.id: e for e in baseline.examples}
    current_ids = {e.id for e in examples}
    pairs = [(e, base_by_id[e.id]) for e in examples if e.id in base_by_id]
    matched = [(cur, old) for cur, old in pairs if cur.input_hash == old.input_hash]
    if not matched:
        why = (
            "no example id is shared: the baseline is from another benchmark"
            if not pairs
            else f"all {len(pairs)} shared ids changed their input since the baseline"
        )
        raise IncomparableBaseline(
            f"the baseline (run {baseline.run_id}, benchmark {baseline.benchmark_name}) pairs "
            f"with none of this run's {len(examples)} examples: {why}"
        )
    comparisons: list[MetricComparison] = []
    warnings: list[str] = []
    for name in settings.metrics:
        comparison = _paired_metric(name, matched, settings, catalog)
        if comparison is None:
            warnings.append(f"{name}: not compared, no paired example has an outcome for it")
        else:
            comparisons.append(comparison)
    judge_comparisons, judge_note = _judge_comparisons(baseline, judge, settings)
    adjusted = _holm(comparisons + judge_comparisons, settings)
    to_wrong, to_right, flipped = _flips(matched)
    if len(matched) < len(examples):
        warnings.insert(
            0,
            f"only {len(matched)} of {len(examples)} examples pair with the baseline "
            "(added, removed or changed examples are not compared)",
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
    catalog: MetricCatalog,
) -> MetricComparison | None:
    key = MetricKey.parse(name)
    spec = catalog.spec_for(key)
    outcome = spec.outcome_key if spec is not None and spec.outcome_key else key.name
    rows = [
        (bool(old.outcomes[outcome]), bool(cur.outcomes[outcome]))
        for cur, old in matched
        if cur.outcomes.get(outcome) is not None
        and old.outcomes.get(outcome) is not None
        and (key.category is None or cur.category == key.category)
    ]
    if not rows:
        return None
    table = np.array(rows, dtype=bool)
    return compare_paired_binary(
        name,
        table[:, 0],
        table[:, 1],
        settings=settings,
        higher_is_better=_higher_is_better(name, catalog),
    )


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
