"""The per-metric regression rule: candidate vs baseline, metric by metric.

Conventions, shared by every comparison:

* ``difference = current - baseline`` in the metric's own units; ``ci_low`` /
  ``ci_high`` bound it. The interval is two-sided at level ``1 - 2·alpha``, so
  each end is a one-sided ``1 - alpha`` bound (``ci_level`` records the level).
* "Worse" is a decrease for ``higher_is_better`` metrics and an increase
  otherwise. ``p_value`` is the raw one-sided p-value for H1 "the candidate is
  worse"; ``p_improvement`` the one-sided p-value for "the candidate is better";
  ``p_adjusted`` is ``p_value`` after Holm–Bonferroni (equal to it until
  :func:`apply_holm` runs).
* ``significant`` means the worsening is significant: ``p_adjusted <= alpha``.

Verdicts, mode ``significant_drop`` (seed-compatible): ``regressed`` when
significant AND the oriented difference is below ``threshold`` (e.g. a drop of
more than 5 points); ``improved`` when the improvement is significant (raw
p_improvement <= alpha); ``inconclusive`` when neither and the minimum
detectable effect (MDE) at the configured power exceeds ``|threshold|``, i.e.
the test could not have detected the drop that matters; otherwise ``no
significant change`` (this includes a statistically significant drop smaller
than the threshold, which is flagged ``significant`` and explained in ``notes``).

Mode ``non_inferiority``: ``regressed`` (the flag that blocks) is set unless the
one-sided lower bound of the oriented difference is above ``-margin``. The
verdict is then ``regressed`` if the worsening is also significant and
``inconclusive`` otherwise (non-inferiority could not be shown); a metric that
passes is ``improved`` or ``no significant change``. Non-inferiority across
several metrics is an intersection–union test, so it needs no multiplicity
adjustment; Holm only changes ``p_adjusted`` and hence the regressed /
inconclusive wording.

``n_needed`` is always the sample size that would detect a true worsening of
``|threshold|`` (non-inferiority: ``margin``) with the configured power at
``alpha``; read it when the verdict is ``inconclusive``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from releasegate.config.regression import RegressionSettings
from releasegate.records.regression import MetricComparison, Verdict
from releasegate.stats import (
    PairedTable,
    holm_adjust,
    mcnemar_p_value,
    mde_one_proportion,
    mde_paired_binary,
    mde_paired_mean,
    mde_two_proportions,
    newcombe_hybrid_interval,
    one_sample_score_test,
    paired_bootstrap_interval,
    paired_difference_interval,
    paired_t_test,
    required_n_one_proportion,
    required_n_paired_binary,
    required_n_paired_mean,
    required_n_two_proportions,
    two_proportion_score_test,
    wilcoxon_signed_rank,
    wilson_nonempty,
)

__all__ = [
    "MetricComparison",
    "Verdict",
    "apply_holm",
    "compare_paired_binary",
    "compare_paired_counts",
    "compare_paired_scores",
    "compare_unpaired",
]


def two_sided_level(alpha: float) -> float:
    """The two-sided level whose ends are one-sided ``1 - alpha`` bounds: ``1 - 2·alpha``.

    At ``alpha = 0.5`` that is 0: a one-sided 50% bound is the point estimate itself,
    computed as the limit of a vanishing interval (the interval functions need a
    level inside (0, 1)).
    """
    return max(1.0 - 2.0 * alpha, 1e-9)


@dataclass(frozen=True)
class _Decision:
    significant: bool
    regressed: bool
    improved: bool
    verdict: Verdict
    notes: list[str]


def _oriented_lower(
    ci_low: float | None, ci_high: float | None, *, higher_is_better: bool
) -> float | None:
    return ci_low if higher_is_better else (None if ci_high is None else -ci_high)


def _decide(comparison: MetricComparison, *, p_adjusted: float, alpha: float) -> _Decision:
    hib = comparison.higher_is_better
    oriented = comparison.difference if hib else -comparison.difference
    lower = _oriented_lower(comparison.ci_low, comparison.ci_high, higher_is_better=hib)
    significant = p_adjusted <= alpha
    improved = comparison.p_improvement <= alpha and not significant
    notes: list[str] = []
    if comparison.mode == "significant_drop":
        target = abs(comparison.threshold)
        underpowered = comparison.mde is None or comparison.mde > target
        # A tiny tolerance keeps a drop of exactly |threshold| (e.g. 0.80 - 0.85 in
        # floating point) from counting as 'more than' the threshold.
        regressed = significant and oriented < comparison.threshold - 1e-12
        if regressed:
            verdict: Verdict = "regressed"
        elif improved:
            verdict = "improved"
        elif significant:
            verdict = "no significant change"
            notes.append(
                f"statistically significant worsening of {abs(oriented):.4g}, "
                f"within the threshold of {target:.4g}"
            )
        elif underpowered:
            verdict = "inconclusive"
            notes.append(_underpowered_note(comparison, target))
        else:
            verdict = "no significant change"
    else:
        margin = comparison.margin
        regressed = lower is None or lower <= -margin
        if regressed:
            verdict = "regressed" if significant else "inconclusive"
            bound = "no interval" if lower is None else f"one-sided lower bound {lower:.4g}"
            notes.append(f"non-inferiority not shown: {bound} is not above -{margin:.4g}")
            if verdict == "inconclusive":
                notes.append(_underpowered_note(comparison, margin))
        elif improved:
            verdict = "improved"
        else:
            verdict = "no significant change"
            if significant:
                notes.append("statistically significant worsening, but within the margin")
    return _Decision(significant, regressed, improved, verdict, notes)


def _underpowered_note(comparison: MetricComparison, target: float) -> str:
    mde = "none within range" if comparison.mde is None else f"{comparison.mde:.4g}"
    needed = "no finite n" if comparison.n_needed is None else f"about {comparison.n_needed}"
    return (
        f"underpowered: minimum detectable effect {mde} exceeds {target:.4g} "
        f"with n={comparison.n}; {needed} items would be needed"
    )


def _finish(draft: MetricComparison) -> MetricComparison:
    decision = _decide(draft, p_adjusted=draft.p_adjusted, alpha=draft.alpha)
    return draft.model_copy(
        update={
            "significant": decision.significant,
            "regressed": decision.regressed,
            "improved": decision.improved,
            "verdict": decision.verdict,
            "reasons": decision.notes,
        }
    )


def _draft(**fields: object) -> MetricComparison:
    # Placeholder decision fields are overwritten by _finish before anyone sees them.
    return MetricComparison.model_validate(
        {
            **fields,
            "significant": False,
            "regressed": False,
            "improved": False,
            "verdict": "no significant change",
        }
    )


def _alternatives(
    higher_is_better: bool,
) -> tuple[Literal["less", "greater"], Literal["less", "greater"]]:
    """(worse, better) alternatives for a difference current - baseline."""
    return ("less", "greater") if higher_is_better else ("greater", "less")


def compare_paired_counts(
    name: str,
    table: PairedTable,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
) -> MetricComparison:
    """Paired binary comparison from the paired 2x2 table.

    ``table`` has the candidate as the first measure and the baseline as the
    second: ``b`` = candidate right / baseline wrong (flipped to right), ``c`` =
    candidate wrong / baseline right (flipped to wrong), so the difference is
    (b - c)/n. The p-value is McNemar's (``settings.mcnemar``), one-sided in the
    worsening direction; the interval is ``settings.paired_interval`` at level
    1 - 2·alpha. The MDE and n needed use Connor's formula with the observed
    discordance (b + c)/n.

    Args:
        name: Metric name.
        table: Candidate-vs-baseline paired table (candidate first).
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.

    Returns:
        The comparison (``p_adjusted`` = ``p_value`` until :func:`apply_holm`).

    Raises:
        ValueError: If the table is empty.
    """
    n = table.n
    if n == 0:
        raise ValueError(f"{name}: no paired items to compare")
    alpha = settings.alpha
    worse, better = _alternatives(higher_is_better)
    level = two_sided_level(alpha)  # each end is a one-sided (1 - alpha) bound
    p_worse = mcnemar_p_value(table.b, c=table.c, method=settings.mcnemar, alternative=worse)
    p_better = mcnemar_p_value(table.b, c=table.c, method=settings.mcnemar, alternative=better)
    interval = paired_difference_interval(table, level=level, method=settings.paired_interval)
    if interval is None:
        raise ValueError(f"{name}: a paired comparison needs at least one pair")
    discordance = (table.b + table.c) / n
    threshold = settings.threshold
    margin = settings.effective_margin
    target = abs(threshold) if settings.mode == "significant_drop" else margin
    mde = mde_paired_binary(n, discordance=discordance, alpha=alpha, power=settings.power)
    n_needed = (
        required_n_paired_binary(target, discordance=discordance, alpha=alpha, power=settings.power)
        if target > 0
        else None
    )
    return _finish(
        _draft(
            name=name,
            baseline=(table.a + table.c) / n,
            current=(table.a + table.b) / n,
            difference=table.difference,
            ci_low=interval.low,
            ci_high=interval.high,
            ci_level=level,
            interval_method=interval.method,
            p_value=p_worse,
            p_adjusted=p_worse,
            p_improvement=p_better,
            test=f"mcnemar-{settings.mcnemar}",
            mde=mde,
            n=n,
            n_needed=n_needed,
            paired=True,
            higher_is_better=higher_is_better,
            mode=settings.mode,
            alpha=alpha,
            threshold=threshold,
            margin=margin,
            notes=[f"paired on {n} items: {table.b} flipped to right, {table.c} flipped to wrong"],
        )
    )


def compare_paired_binary(
    name: str,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
) -> MetricComparison:
    """Paired binary comparison from aligned per-item outcomes.

    Builds the paired table (candidate first) and calls :func:`compare_paired_counts`.

    Args:
        name: Metric name.
        baseline: Baseline per-item outcomes (bool), aligned with ``candidate``.
        candidate: Candidate per-item outcomes (bool).
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.

    Returns:
        The comparison.
    """
    table = PairedTable.from_outcomes(candidate, second=baseline)
    return compare_paired_counts(name, table, settings=settings, higher_is_better=higher_is_better)


def compare_paired_scores(
    name: str,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    settings: RegressionSettings,
    rng: np.random.Generator,
    higher_is_better: bool = True,
    scale: float = 1.0,
) -> MetricComparison:
    """Paired comparison of continuous per-item scores (e.g. judge scores 1–5).

    The difference is the mean of per-item differences (candidate - baseline).
    The verdict is driven by the one-sided paired t-test, which tests the same
    quantity (the mean) that the threshold and the interval refer to; the
    interval is the seeded paired percentile bootstrap at level 1 - 2·alpha
    (``settings.bootstrap_resamples`` resamples from ``rng``). The Wilcoxon
    signed-rank test (Pratt zeros) is reported in ``notes`` as a robustness check.

    ``threshold`` and ``margin`` are fractions of ``scale``, the width of the
    score range: for a 1–5 judge score use ``scale=4``, so the default threshold
    -0.05 is a drop of 0.2 points. The comparison reports them in score units.
    The MDE and n needed come from the noncentral t distribution with the
    observed standard deviation of the differences.

    Args:
        name: Metric name.
        baseline: Baseline per-item scores, aligned with ``candidate``.
        candidate: Candidate per-item scores.
        settings: Rule settings.
        rng: Generator for the bootstrap (e.g. ``np.random.default_rng(settings.seed)``).
        higher_is_better: False for metrics where a rise is a regression.
        scale: Width of the score range (> 0) that the threshold is relative to.

    Returns:
        The comparison.

    Raises:
        ValueError: If there are no items or ``scale`` is not positive.
    """
    if not scale > 0.0 or not math.isfinite(scale):
        raise ValueError(f"scale must be positive, got {scale}")
    base = np.asarray(baseline, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    n = int(base.size)
    if n == 0 or cand.shape != base.shape:
        raise ValueError(f"{name}: need equal, non-empty score arrays")
    alpha = settings.alpha
    worse, better = _alternatives(higher_is_better)
    level = two_sided_level(alpha)  # each end is a one-sided (1 - alpha) bound
    t_worse = paired_t_test(cand, second=base, alternative=worse)
    t_better = paired_t_test(cand, second=base, alternative=better)
    wilcoxon = wilcoxon_signed_rank(cand, second=base, alternative=worse, zero_method="pratt")
    interval = paired_bootstrap_interval(
        cand, second=base, rng=rng, resamples=settings.bootstrap_resamples, level=level
    )
    if interval is None:
        raise ValueError(f"{name}: a paired comparison needs at least one pair")
    diffs = cand - base
    sd = float(diffs.std(ddof=1)) if n >= 2 else 0.0
    threshold = settings.threshold * scale
    margin = settings.effective_margin * scale
    target = abs(threshold) if settings.mode == "significant_drop" else margin
    mde = mde_paired_mean(n, sd=sd, alpha=alpha, power=settings.power)
    n_needed = (
        required_n_paired_mean(target, sd=sd, alpha=alpha, power=settings.power)
        if target > 0
        else None
    )
    return _finish(
        _draft(
            name=name,
            baseline=float(base.mean()),
            current=float(cand.mean()),
            difference=float(diffs.mean()),
            ci_low=interval.low,
            ci_high=interval.high,
            ci_level=level,
            interval_method=interval.method,
            p_value=t_worse.p_value,
            p_adjusted=t_worse.p_value,
            p_improvement=t_better.p_value,
            test="paired-t",
            mde=mde,
            n=n,
            n_needed=n_needed,
            paired=True,
            higher_is_better=higher_is_better,
            mode=settings.mode,
            alpha=alpha,
            threshold=threshold,
            margin=margin,
            notes=[
                f"paired scores on {n} items (scale {scale:g}); "
                f"wilcoxon-pratt one-sided p={wilcoxon.p_value:.4g}; "
                f"bootstrap {settings.bootstrap_resamples} resamples"
            ],
        )
    )


def _to_count(rate: float, n: int, label: str, notes: list[str]) -> int:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{label} rate must be in [0, 1], got {rate}")
    if n < 1:
        raise ValueError(f"{label} n must be >= 1, got {n}")
    count = round(rate * n)
    if abs(rate * n - count) > 1e-6 * max(1.0, rate * n):
        notes.append(f"{label} rate {rate:.6g} x n={n} is not a whole count; rounded to {count}")
    return count


def compare_unpaired(
    name: str,
    baseline_rate: float,
    baseline_n: int | None,
    current_rate: float,
    current_n: int,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
) -> MetricComparison:
    """Unpaired comparison of two rates: the weaker fallback analysis.

    Used when per-item outcomes cannot be matched. Rates are turned back into
    counts (``round(rate·n)``).

    * ``baseline_n`` known: two-proportion score test (pooled, one-sided in the
      worsening direction) and Newcombe's hybrid score interval at 1 - 2·alpha;
      MDE and n needed (per group) from the two-proportion normal approximation.
    * ``baseline_n`` None (a flat seed baseline stores only a number): the
      baseline is treated as a fixed reference value p0. The test is the
      one-sample score test of the candidate against p0 and the interval is the
      candidate's Wilson interval minus p0. This ignores the baseline's own
      sampling error, so it is labelled as the weakest analysis in ``notes``;
      re-baselining with per-item outputs enables the paired analysis.

    Args:
        name: Metric name.
        baseline_rate: Baseline rate in [0, 1].
        baseline_n: Baseline items, or None when unknown.
        current_rate: Candidate rate in [0, 1].
        current_n: Candidate items (>= 1).
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.

    Returns:
        The comparison (``paired`` is False).
    """
    alpha = settings.alpha
    worse, better = _alternatives(higher_is_better)
    direction: Literal["decrease", "increase"] = "decrease" if higher_is_better else "increase"
    level = two_sided_level(alpha)  # each end is a one-sided (1 - alpha) bound
    notes: list[str] = []
    x_cur = _to_count(current_rate, current_n, "current", notes)
    threshold = settings.threshold
    margin = settings.effective_margin
    target = abs(threshold) if settings.mode == "significant_drop" else margin
    p_cur = x_cur / current_n
    power = settings.power
    if baseline_n is not None:
        x_base = _to_count(baseline_rate, baseline_n, "baseline", notes)
        p_base = x_base / baseline_n
        test_w = two_proportion_score_test(x_cur, current_n, x_base, baseline_n, alternative=worse)
        test_b = two_proportion_score_test(x_cur, current_n, x_base, baseline_n, alternative=better)
        interval = newcombe_hybrid_interval(x_cur, current_n, x_base, baseline_n, level=level)
        ci_low, ci_high, method = interval.low, interval.high, interval.method
        mde = mde_two_proportions(
            baseline_n, current_n, p_reference=p_base, alpha=alpha, power=power, direction=direction
        )
        n_needed = (
            required_n_two_proportions(
                target, p_reference=p_base, alpha=alpha, power=power, direction=direction
            )
            if target > 0
            else None
        )
        test_name = "two-proportion-score"
        note = (
            f"unpaired analysis (weaker than paired): {current_n} candidate vs "
            f"{baseline_n} baseline items; n_needed is per group"
        )
    else:
        p_base = baseline_rate
        test_w = one_sample_score_test(x_cur, current_n, p0=p_base, alternative=worse)
        test_b = one_sample_score_test(x_cur, current_n, p0=p_base, alternative=better)
        wil = wilson_nonempty(x_cur, n=current_n, level=level)
        ci_low, ci_high, method = wil.low - p_base, wil.high - p_base, "wilson-minus-fixed-baseline"
        mde = mde_one_proportion(
            current_n, p0=p_base, alpha=alpha, power=power, direction=direction
        )
        n_needed = (
            required_n_one_proportion(
                target, p0=p_base, alpha=alpha, power=power, direction=direction
            )
            if target > 0
            else None
        )
        test_name = "one-sample-score-vs-fixed-baseline"
        note = (
            "unpaired analysis against a baseline without n (weakest): the baseline "
            "is treated as a fixed reference value and its own sampling error is ignored"
        )
    return _finish(
        _draft(
            name=name,
            baseline=p_base,
            current=p_cur,
            difference=p_cur - p_base,
            ci_low=ci_low,
            ci_high=ci_high,
            ci_level=level,
            interval_method=method,
            p_value=test_w.p_value,
            p_adjusted=test_w.p_value,
            p_improvement=test_b.p_value,
            test=test_name,
            mde=mde,
            n=current_n,
            n_needed=n_needed,
            paired=False,
            higher_is_better=higher_is_better,
            mode=settings.mode,
            alpha=alpha,
            threshold=threshold,
            margin=margin,
            notes=[note, *notes],
        )
    )


def apply_holm(comparisons: list[MetricComparison], *, alpha: float) -> list[MetricComparison]:
    """Holm–Bonferroni across the metrics' one-sided worsening p-values.

    Sets ``p_adjusted`` and recomputes ``significant``, ``regressed``,
    ``improved`` and ``verdict`` at ``alpha`` (which also replaces each
    comparison's ``alpha``); ``reasons`` are rebuilt. Improvement flags use raw
    p-values (they never block).

    Args:
        comparisons: Comparisons from the ``compare_*`` functions.
        alpha: One-sided family-wise level.

    Returns:
        New comparisons, in the input order.
    """
    if not 0.0 < alpha <= 0.5:
        raise ValueError(f"alpha must be in (0, 0.5], got {alpha}")
    adjusted = holm_adjust([c.p_value for c in comparisons])
    family = len(comparisons)
    out = []
    for comparison, p_adj in zip(comparisons, adjusted, strict=True):
        finished = _finish(comparison.model_copy(update={"p_adjusted": p_adj, "alpha": alpha}))
        reasons = [*finished.reasons, f"p-value Holm-adjusted across {family} metrics"]
        out.append(finished.model_copy(update={"reasons": reasons}))
    return out
