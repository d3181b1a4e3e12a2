"""The A/A noise floor of a model: spread, flips and false-BLOCK figures across identical runs.

Given the runs of one model on one benchmark (``releasegate calibrate``), each
metric gets the spread of its values; each per-example binary metric also gets
the examples whose outcome was not the same in every run, the share of examples
that changed (the A/A discordance, with a one-sided 95% Clopper–Pearson upper
bound, so that 0 flips in n examples is read as "at most about 3/n", not as
"never"), and the regression rule's exact false-BLOCK probability for two runs
of such a model (:func:`releasegate.stats.rule_power.paired_rule_probability`
at no true change). From that: the smallest threshold, and for the configured
threshold the smallest n, that keep a false BLOCK under a target probability.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from releasegate.config.regression import RegressionSettings
from releasegate.metrics import MetricKey
from releasegate.records.calibration import MetricNoise, NoiseFloor
from releasegate.records.core import ExampleResult
from releasegate.records.run import PipelineResult
from releasegate.stats.intervals import clopper_pearson_bound
from releasegate.stats.rule_power import MAX_PLANNING_N, paired_rule_probability

FLAKY_METRIC = "accuracy"
THRESHOLD_STEP = 0.005
MAX_THRESHOLD = 0.5
SKIPPED_STAGES = frozenset({"generation"})
"""Throughput and latency vary with the machine, not the model: not part of the floor."""


@dataclass(frozen=True)
class Rule:
    """The regression rule the false-BLOCK figures are computed for."""

    settings: RegressionSettings
    target: float
    """The false-BLOCK probability to stay under."""

    def applies_to(self, name: str) -> bool:
        """Whether a regression check compares ``name`` (only those get the figures)."""
        return name in self.settings.metrics

    def false_block(self, n: int, discordance: float, threshold: float) -> float:
        """P(BLOCK) for two runs of an unchanged model with this discordance at n pairs."""
        s = self.settings
        if s.mode == "non_inferiority":
            margin = abs(threshold) if threshold != s.threshold else s.effective_margin
            passes = paired_rule_probability(
                n,
                drop=0.0,
                discordance=discordance,
                alpha=s.alpha,
                mode="non_inferiority",
                threshold=threshold,
                margin=margin,
                correction=s.correction,
            )
            return max(0.0, 1.0 - passes)
        return paired_rule_probability(
            n,
            drop=0.0,
            discordance=discordance,
            alpha=s.alpha,
            mode="significant_drop",
            threshold=threshold,
            margin=s.effective_margin,
            correction=s.correction,
        )


def measure_noise(
    results: Sequence[PipelineResult],
    *,
    rule: Rule,
    created_at: str,
    seconds: float,
    cache_bypassed: bool,
) -> NoiseFloor:
    """The noise floor of identical runs of one model on one benchmark.

    Args:
        results: Two or more runs of the same model on the same benchmark.
        rule: The regression rule and the false-BLOCK target.
        created_at: Timestamp of the calibration.
        seconds: Wall-clock time of all runs.
        cache_bypassed: Whether every run generated its outputs again.

    Raises:
        ValueError: fewer than two runs, or runs of different models or benchmarks.
    """
    _check_same(results)
    first = results[0]
    paired_keys = _paired_keys(first)
    names = [
        name
        for name in first.metric_details
        if all(name in r.metric_details for r in results) and _included(first, name)
    ]
    metrics = {
        name: _metric_noise(name, results, paired_keys.get(MetricKey.parse(name).name), rule)
        for name in names
    }
    run = first.run
    return NoiseFloor(
        created_at=created_at,
        model_ref=run.model_ref,
        model_backend=run.model_backend,
        model_fingerprint=run.model_fingerprint,
        benchmark_name=run.benchmark_name,
        benchmark_fingerprint=run.benchmark_fingerprint,
        n_examples=run.n_examples,
        runs=len(results),
        run_ids=[r.run.run_id for r in results],
        temperature=_temperature(first),
        cache_bypassed=cache_bypassed,
        alpha=rule.settings.alpha,
        threshold=rule.settings.threshold,
        correction=rule.settings.correction,
        target_false_block=rule.target,
        metrics=metrics,
        flaky_examples=flaky_ids(results, FLAKY_METRIC),
        seconds=seconds,
    )


def _check_same(results: Sequence[PipelineResult]) -> None:
    if len(results) < 2:
        raise ValueError(f"a noise floor needs at least 2 runs, got {len(results)}")
    models = {r.run.model_fingerprint for r in results}
    benchmarks = {r.run.benchmark_fingerprint for r in results}
    if len(models) > 1 or len(benchmarks) > 1:
        raise ValueError("the runs are not of one model on one benchmark")


def _paired_keys(result: PipelineResult) -> dict[str, str]:
    """Metric name -> per-example outcome key, for metrics that have per-example outcomes."""
    return {info.name: info.outcome_key for info in result.catalog if info.outcome_key}


def _included(result: PipelineResult, name: str) -> bool:
    base = MetricKey.parse(name).name
    stage = next((info.stage for info in result.catalog if info.name == base), None)
    return stage not in SKIPPED_STAGES


def _temperature(result: PipelineResult) -> float:
    generation = result.run.config.get("generation")
    value = generation.get("temperature") if isinstance(generation, dict) else None
    return float(value) if isinstance(value, int | float) else 0.0


def outcome_table(
    results: Sequence[PipelineResult], outcome: str, category: str | None = None
) -> dict[str, list[bool]]:
    """Example id -> its outcome in each run, for examples with an outcome in every run."""
    per_run: list[Mapping[str, ExampleResult]] = [{e.id: e for e in r.examples} for r in results]
    table: dict[str, list[bool]] = {}
    for example_id, example in per_run[0].items():
        if category is not None and example.category != category:
            continue
        values = [run.get(example_id) for run in per_run]
        found = [None if e is None else e.outcomes.get(outcome) for e in values]
        if all(v is not None for v in found):
            table[example_id] = [bool(v) for v in found]
    return table


def flaky_ids(results: Sequence[PipelineResult], outcome: str) -> list[str]:
    """Ids whose ``outcome`` was not the same in every run, in benchmark order."""
    return [i for i, row in outcome_table(results, outcome).items() if len(set(row)) > 1]


def _metric_noise(
    name: str, results: Sequence[PipelineResult], outcome: str | None, rule: Rule
) -> MetricNoise:
    values = [r.metric_details[name].value for r in results]
    spread = {
        "name": name,
        "values": values,
        "low": min(values),
        "high": max(values),
        "sd": statistics.stdev(values),
        "max_difference": max(values) - min(values),
    }
    if outcome is None:
        return MetricNoise(**spread, paired=False)
    table = outcome_table(results, outcome, MetricKey.parse(name).category)
    n = len(table)
    flipped = sum(1 for row in table.values() if len(set(row)) > 1)
    if n == 0:
        return MetricNoise(**spread, paired=True)
    upper = clopper_pearson_bound(flipped, n=n, confidence=0.95, side="upper")
    assert upper is not None  # n > 0
    if not rule.applies_to(name):
        return MetricNoise(
            **spread,
            paired=True,
            n=n,
            flipped=flipped,
            discordance=flipped / n,
            discordance_upper=upper,
        )
    return MetricNoise(
        **spread,
        paired=True,
        n=n,
        flipped=flipped,
        discordance=flipped / n,
        discordance_upper=upper,
        false_block=rule.false_block(n, upper, rule.settings.threshold),
        safe_threshold=_safe_threshold(n, upper, max(values) - min(values), rule),
        n_for_threshold=_n_for_threshold(upper, rule),
    )


def _safe_threshold(n: int, discordance: float, observed: float, rule: Rule) -> float | None:
    """The smallest |threshold| on the grid beyond ``observed`` whose false BLOCK <= target."""
    start = max(1, math.ceil(round(observed / THRESHOLD_STEP, 9)) + (observed > 0))
    steps = round(MAX_THRESHOLD / THRESHOLD_STEP)
    for k in range(start, steps + 1):
        threshold = -k * THRESHOLD_STEP
        if rule.false_block(n, discordance, threshold) <= rule.target:
            return round(threshold, 6)
    return None


def _n_for_threshold(discordance: float, rule: Rule) -> int | None:
    """The smallest n from which on the configured threshold keeps a false BLOCK <= target.

    A false BLOCK is rare at small n too (nothing reaches significance), rises, and
    falls again once the A/A difference rarely passes the threshold; the answer is
    where it falls for good: past the last n of a geometric grid above the target.
    """
    threshold = rule.settings.threshold
    if threshold == 0.0 and rule.settings.mode == "significant_drop":
        return None

    def above(n: int) -> bool:
        return rule.false_block(n, discordance, threshold) > rule.target

    # Beyond this n an A/A difference reaches the threshold with probability < 1e-9
    # (6 standard deviations of a difference with variance ψ/n): no need to look further.
    settled = math.ceil(36.0 * max(discordance, 1e-9) / threshold**2) + 1
    grid = _geometric_grid(2, min(MAX_PLANNING_N, max(settled, 3)))
    last = max((i for i, n in enumerate(grid) if above(n)), default=None)
    if last is None:
        return grid[0]
    if last == len(grid) - 1:
        return None if grid[-1] == MAX_PLANNING_N else grid[-1] + 1
    lo, hi = grid[last], grid[last + 1]  # above at lo, not above at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if above(mid) else (lo, mid)
    return hi


def _geometric_grid(start: int, stop: int, ratio: float = 1.5) -> list[int]:
    grid = [start]
    while grid[-1] < stop:
        grid.append(min(stop, max(grid[-1] + 1, round(grid[-1] * ratio))))
    return grid
