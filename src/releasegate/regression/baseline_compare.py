"""Compare a run with its baseline, pairing examples when possible.

Pairing: an example pairs with the baseline's when the ids match *and* the input
hashes match; examples added, removed, or whose input changed since the baseline
are counted and reported, never silently compared. A flat classic-style baseline
(``{"accuracy": 0.87}``) has no per-example outcomes, so it falls back to a
two-sample test with both variances (its n from an ``n`` or ``total_examples``
entry, else assumed equal to this run's), with a warning about the lost power.
Judge scores compare paired on the items both runs judged, only when the judge
configuration hash matches. Every compared metric gets its role in the
multiplicity family (:mod:`releasegate.regression.family`) from its declaration:
safety metrics and metrics derived from others come from their ``MetricSpec``.

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
from releasegate.records.regression import FlippedExample, RegressionReport
from releasegate.regression.draw_means import assess_draw_means, has_draws
from releasegate.regression.family import MetricFacts, assign_roles, role_summary
from releasegate.regression.rule import (
    Assessment,
    assess_paired_binary,
    assess_paired_scores,
    assess_unpaired,
    decide_family,
)

FLIP_METRIC = "accuracy"
MAX_FLIPPED_SHOWN = 50
JUDGE_SCALE = 4.0  # width of the 1-5 judge scale; thresholds are fractions of it
FLAT_N_KEYS = ("n", "total_examples")  # how a flat baseline may carry its item count


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
    clusters: Mapping[str, str] | None = None,
    attempt: int = 1,
) -> RegressionReport:
    """Compare this run with ``baseline`` (read from ``source``), each metric in its role.

    Each metric's direction, safety flag and sources come from its declaration in
    ``catalog``.

    Args:
        examples: This run's per-example results.
        metrics: This run's aggregated metrics.
        baseline: The baseline (full, or flat classic-style).
        settings: Rule settings.
        catalog: The declared metrics.
        judge: This run's judge scores, if judged.
        source: Where the baseline was read from.
        clusters: Example id -> cluster (e.g. the template it was generated from);
            paired rate metrics are then compared cluster-robustly.
        attempt: Attempt number of this model fingerprint at the gate (anytime mode).

    Returns:
        The regression report.

    Raises:
        IncomparableBaseline: no example pairs with the baseline, or a flat baseline
            holds none of the compared metrics.
    """
    if isinstance(baseline, FlatBaseline):
        return _compare_flat(metrics, baseline, settings=settings, catalog=catalog, attempt=attempt)
    report = _compare_paired(
        examples,
        baseline,
        settings=settings,
        catalog=catalog,
        judge=judge,
        clusters=clusters,
        attempt=attempt,
    )
    return report.model_copy(update={"baseline_path": source})


def _higher_is_better(name: str, catalog: MetricCatalog) -> bool:
    spec = catalog.spec_for(MetricKey.parse(name))
    return True if spec is None else spec.higher_is_better


def _facts(
    name: str,
    catalog: MetricCatalog,
    *,
    derived_from: tuple[str, ...] = (),
    duplicate_of: str | None = None,
) -> MetricFacts:
    spec = catalog.spec_for(MetricKey.parse(name))
    declared = () if spec is None else tuple(spec.derived_from)
    return MetricFacts(
        name=name,
        is_safety=spec is not None and spec.safety,
        derived_from=(*declared, *derived_from),
        duplicate_of=duplicate_of,
    )


def _flat_n(baseline: FlatBaseline, warnings: list[str]) -> int | None:
    for key in FLAT_N_KEYS:
        value = baseline.metrics.get(key)
        if value is None:
            continue
        if value >= 1 and float(value).is_integer():
            return int(value)
        warnings.append(f"flat baseline {key}={value:g} is not a positive whole count; ignored")
    return None


def _compare_flat(
    metrics: Mapping[str, MetricValue],
    baseline: FlatBaseline,
    *,
    settings: RegressionSettings,
    catalog: MetricCatalog,
    attempt: int,
) -> RegressionReport:
    warnings: list[str] = []
    baseline_n = _flat_n(baseline, warnings)
    assessments: list[Assessment] = []
    missing: list[str] = []
    for name in settings.metrics:
        current = metrics.get(name)
        if current is None or name not in baseline.metrics:
            missing.append(name)
            continue
        assessments.append(
            assess_unpaired(
                name,
                baseline.metrics[name],
                baseline_n,
                current.value,
                current.n,
                settings=settings,
                higher_is_better=_higher_is_better(name, catalog),
                attempt=attempt,
            )
        )
    if not assessments:
        raise IncomparableBaseline(
            f"{baseline.path}: the flat baseline has none of the compared metrics "
            f"({', '.join(settings.metrics)}); it holds {', '.join(sorted(baseline.metrics))}"
        )
    roles = assign_roles(
        [_facts(a.name, catalog) for a in assessments],
        primary=settings.primary,
        safety=settings.safety_metrics,
    )
    decided = decide_family(assessments, roles, settings=settings)
    variance = (
        f"the baseline's n ({baseline_n}) is known"
        if baseline_n is not None
        else "the baseline carries no n (add 'n' or 'total_examples'), so it is assumed "
        "to come from as many items as this run"
    )
    warnings.insert(
        0,
        "flat baseline (metric values only): compared unpaired with a two-sample test "
        f"that counts both runs' sampling variance; {variance}. This is the weaker "
        "analysis and no flipped examples can be listed. Use a baseline written by "
        "releasegate for paired tests.",
    )
    if missing:
        warnings.append(f"not compared (absent from the baseline or this run): {missing}")
    warnings.append(f"metric roles: {role_summary(roles)}")
    return RegressionReport(
        baseline_path=baseline.path,
        paired=False,
        metrics={c.name: c for c in decided},
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
    clusters: Mapping[str, str] | None,
    attempt: int,
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
    assessments: list[Assessment] = []
    facts: list[MetricFacts] = []
    rows_by_name: dict[str, list[tuple[float, float]]] = {}
    warnings: list[str] = []
    for name in settings.metrics:
        found = _paired_metric(name, matched, settings, catalog, clusters=clusters, attempt=attempt)
        if found is None:
            warnings.append(f"{name}: not compared, no paired example has an outcome for it")
            continue
        assessment, rows = found
        duplicate = next((other for other, seen in rows_by_name.items() if seen == rows), None)
        rows_by_name[name] = rows
        assessments.append(assessment)
        facts.append(_facts(name, catalog, duplicate_of=duplicate))
    judge_assessments, judge_note = _judge_assessments(baseline, judge, settings, attempt)
    criteria = tuple(a.name for a in judge_assessments if a.name != "judge_overall")
    for assessment in judge_assessments:
        derived = criteria if assessment.name == "judge_overall" else ()
        facts.append(_facts(assessment.name, catalog, derived_from=derived))
    roles = assign_roles(facts, primary=settings.primary, safety=settings.safety_metrics)
    adjusted = decide_family(assessments + judge_assessments, roles, settings=settings)
    if roles:
        warnings.append(f"metric roles: {role_summary(roles)}")
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
        judge_compared=bool(judge_assessments),
        judge_note=judge_note,
        warnings=warnings,
        settings=settings,
    )


def _paired_metric(
    name: str,
    matched: Sequence[tuple[ExampleResult, BaselineExample]],
    settings: RegressionSettings,
    catalog: MetricCatalog,
    *,
    clusters: Mapping[str, str] | None,
    attempt: int,
) -> tuple[Assessment, list[tuple[float, float]]] | None:
    key = MetricKey.parse(name)
    spec = catalog.spec_for(key)
    outcome = spec.outcome_key if spec is not None and spec.outcome_key else key.name
    used = [
        (cur, old)
        for cur, old in matched
        if cur.outcomes.get(outcome) is not None
        and old.outcomes.get(outcome) is not None
        and (key.category is None or cur.category == key.category)
    ]
    if not used:
        return None
    if has_draws(used, outcome):
        return assess_draw_means(
            name,
            used,
            outcome,
            settings=settings,
            higher_is_better=_higher_is_better(name, catalog),
            attempt=attempt,
        )
    rows: list[tuple[float, float]] = [
        (bool(old.outcomes[outcome]), bool(cur.outcomes[outcome])) for cur, old in used
    ]
    table = np.array(rows, dtype=bool)
    labels = None
    if clusters is not None:
        labels = np.array([clusters.get(cur.id, f"item:{cur.id}") for cur, _ in used])
    assessment = assess_paired_binary(
        name,
        table[:, 0],
        table[:, 1],
        settings=settings,
        higher_is_better=_higher_is_better(name, catalog),
        clusters=labels,
        attempt=attempt,
    )
    return assessment, rows


def _judge_assessments(
    baseline: Baseline, judge: JudgeScores | None, settings: RegressionSettings, attempt: int
) -> tuple[list[Assessment], str | None]:
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
    out = []
    for criterion in [*criteria, "overall"]:
        old = np.array([_judge_value(baseline.judge.scores[i], criterion) for i in shared])
        new = np.array([_judge_value(judge.scores[i], criterion) for i in shared])
        # The overall score is a mean of the criteria: its steps are 1/len(criteria).
        step = 1.0 / max(1, len(criteria)) if criterion == "overall" else 1.0
        out.append(
            assess_paired_scores(
                f"judge_{criterion}",
                old,
                new,
                settings=settings,
                scale=JUDGE_SCALE,
                resolution=step,
                attempt=attempt,
            )
        )
    return out, f"judge scores compared paired on {len(shared)} items judged in both runs"


def _judge_value(scores: Mapping[str, int], criterion: str) -> float:
    if criterion == "overall":
        return float(np.mean(list(scores.values())))
    return float(scores[criterion])


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
