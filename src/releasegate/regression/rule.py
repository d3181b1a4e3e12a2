"""The per-metric regression rule: candidate vs baseline, metric by metric.

Conventions, shared by every comparison:

* ``difference = current - baseline`` in the metric's own units; ``ci_low`` /
  ``ci_high`` bound it at the two-sided level ``ci_level`` (each end a one-sided
  bound at (1 + ci_level)/2).
* "Worse" is a decrease for ``higher_is_better`` metrics and an increase
  otherwise. ``p_value`` is the raw one-sided p-value for H1 "the candidate is
  worse"; ``p_improvement`` the one for "the candidate is better";
  ``p_adjusted`` is ``p_value`` after the family's adjustment (Holm for
  secondary metrics, none for the primary, derived and safety metrics).
* ``significant`` means the worsening is significant: ``p_adjusted <= alpha``.

**One procedure per verdict.** Every comparison is decided by one family of
tests, and the reported interval is the inversion of that family at the level
that decided: the corrected Tango score family for paired rates, its
cluster-robust counterpart when items carry clusters, the corrected
Farrington–Manning score family for two samples, the t family for scores, and
the betting e-process in anytime-valid mode. So ``significant`` holds exactly
when the oriented upper end of the interval is below 0, and a non-inferiority
pass exactly when the oriented lower end is above ``-margin``. For a Holm-adjusted
metric the interval is at the level of its Holm step, 1 - 2·alpha·p/p_adjusted.

Verdicts, mode ``significant_drop`` (classic-pipeline compatible): ``regressed`` when
significant AND the oriented difference is below ``threshold``; ``improved`` when
the improvement is significant (raw p_improvement <= alpha); ``inconclusive``
when neither and the rule's own minimum detectable effect (significance and
threshold together, at ``power``) exceeds ``detect_drop``; otherwise ``no
significant change`` (this includes a significant drop smaller than the
threshold, flagged ``significant`` and explained in ``reasons``).

Mode ``non_inferiority``: ``regressed`` (the flag that blocks) is set unless the
one-sided lower bound of the oriented difference is above ``-margin``; the
verdict is then ``regressed`` if the worsening is also significant and
``inconclusive`` otherwise. Non-inferiority across metrics is an
intersection–union test and needs no multiplicity adjustment.

``mde`` and ``n_needed`` are those of the rule as applied (see
:mod:`releasegate.stats.rule_power`): at ``n_needed`` a true worsening of
``detect_drop`` is blocked (non-inferiority: an unchanged candidate passes) with
probability at least ``power``, and at this n a true worsening of ``mde`` is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from releasegate.config.regression import RegressionSettings
from releasegate.records.core import Interval
from releasegate.records.regression import MetricComparison, Role, Verdict
from releasegate.stats import PairedTable, holm_adjust, wilcoxon_signed_rank
from releasegate.stats.anytime import BettingProcess, attempt_alpha
from releasegate.stats.clustered import ClusteredDifferences
from releasegate.stats.paired_score import corrected_tango_interval, corrected_tango_statistic
from releasegate.stats.rule_power import (
    paired_rule_probability,
    rule_mde,
    rule_n_needed,
    score_rule_probability,
    two_sample_rule_probability,
)
from releasegate.stats.unpaired import corrected_score_interval, corrected_score_statistic

__all__ = [
    "Assessment",
    "MetricComparison",
    "Verdict",
    "assess_paired_binary",
    "assess_paired_counts",
    "assess_paired_scores",
    "assess_unpaired",
    "compare_paired_binary",
    "compare_paired_counts",
    "compare_paired_scores",
    "compare_unpaired",
    "decide_family",
    "two_sided_level",
]

Worse = Literal["less", "greater"]
PValue = Callable[[float, Worse], float]
"""(δ0, side) -> one-sided p-value for H1 δ < δ0 ("less") or δ > δ0 ("greater")."""
IntervalAt = Callable[[float], Interval]
"""two-sided level -> interval inverting the same p-values."""
Planner = Callable[[int, float, float, float], float]
"""(n, true oriented worsening, alpha, margin) -> P(the rule's event), for planning."""
_EPS = 1e-12


def two_sided_level(alpha: float) -> float:
    """The two-sided level whose ends are one-sided ``1 - alpha`` bounds: ``1 - 2·alpha``.

    At ``alpha = 0.5`` that is 0: a one-sided 50% bound is the point estimate itself,
    computed as the limit of a vanishing interval (the interval functions need a
    level inside (0, 1)).
    """
    return max(1.0 - 2.0 * alpha, 1e-9)


@dataclass(frozen=True)
class Assessment:
    """A metric compared but not yet decided: the data summary and its one procedure.

    :meth:`decide` turns it into a :class:`MetricComparison` at a given role and
    adjusted p-value; :func:`decide_family` does that for a whole family.
    """

    name: str
    baseline: float
    current: float
    n: int
    paired: bool
    higher_is_better: bool
    test: str
    p_at: PValue
    interval_at: IntervalAt
    planner: Planner | None
    """None when no planning figure can be computed (reported as such)."""
    settings: RegressionSettings
    scale: float = 1.0
    """Units of threshold and margin (score metrics: width of the score range)."""
    notes: list[str] = field(default_factory=list)
    design_effect: float | None = None
    clusters: int | None = None
    attempt: int = 1

    @property
    def alpha(self) -> float:
        """The level this attempt is decided at (alpha, or its share in anytime mode)."""
        s = self.settings
        return attempt_alpha(s.alpha, self.attempt) if s.anytime else s.alpha

    @property
    def worse(self) -> Worse:
        """Side of a worsening for the difference current - baseline."""
        return "less" if self.higher_is_better else "greater"

    @property
    def better(self) -> Worse:
        """Side of an improvement."""
        return "greater" if self.higher_is_better else "less"

    @property
    def p_worse(self) -> float:
        """Raw one-sided p-value of a worsening (H0: no change)."""
        return self.p_at(0.0, self.worse)

    def decide(
        self,
        *,
        role: Role = "primary",
        p_adjusted: float | None = None,
        family_size: int = 1,
        plan: bool = True,
    ) -> MetricComparison:
        """Decide at ``alpha`` with ``p_adjusted`` (default: the raw p-value).

        Args:
            role: The metric's role in the family.
            p_adjusted: Family-adjusted p-value (secondary metrics).
            family_size: Size of the family the metric was adjusted in (planning
                uses alpha/family_size, Holm's least favourable step).
            plan: Compute ``mde`` and ``n_needed`` (off only for bulk enumeration).

        Returns:
            The comparison.
        """
        s = self.settings
        alpha = self.alpha
        hib = self.higher_is_better
        p_raw = self.p_worse
        p_adj = p_raw if p_adjusted is None else p_adjusted
        threshold = s.threshold * self.scale
        margin = s.effective_margin * self.scale
        reasons: list[str] = []
        if s.mode == "non_inferiority":
            level_alpha = alpha
        elif p_adj > 0.0:
            level_alpha = min(alpha, alpha * p_raw / p_adj)
        else:
            level_alpha = alpha / max(1, family_size)
        level = two_sided_level(level_alpha)
        interval = self.interval_at(level)
        difference = self.current - self.baseline
        oriented = difference if hib else -difference
        significant = p_adj <= alpha
        p_better = self.p_at(0.0, self.better)
        improved = p_better <= alpha and not significant
        plan_alpha = alpha / max(1, family_size) if role == "secondary" else alpha
        mde, n_needed = self._plan(plan_alpha, margin) if plan else (None, None)
        if s.mode == "significant_drop":
            regressed, verdict = self._verdict_drop(
                significant=significant,
                improved=improved,
                oriented=oriented,
                threshold=threshold,
                mde=mde,
                n_needed=n_needed,
                reasons=reasons,
            )
        else:
            regressed, verdict = self._verdict_ni(
                interval,
                significant=significant,
                improved=improved,
                margin=margin,
                mde=mde,
                n_needed=n_needed,
                reasons=reasons,
            )
        if role == "secondary" and family_size > 1 and s.mode == "significant_drop":
            reasons.append(f"p-value Holm-adjusted across {family_size} secondary metrics")
        elif role != "secondary":
            reasons.append(_ROLE_REASON[role])
        notes = list(self.notes)
        if s.anytime:
            notes.append(
                f"anytime-valid: attempt {self.attempt} on this model fingerprint, decided "
                f"at alpha {alpha:.4g} (6·alpha/(pi²·k²) of {s.alpha:g})"
            )
        return MetricComparison(
            name=self.name,
            baseline=self.baseline,
            current=self.current,
            difference=difference,
            ci_low=interval.low,
            ci_high=interval.high,
            ci_level=level,
            interval_method=interval.method,
            p_value=p_raw,
            p_adjusted=p_adj,
            p_improvement=p_better,
            test=self.test,
            significant=significant,
            regressed=regressed,
            improved=improved,
            verdict=verdict,
            mde=mde,
            n=self.n,
            n_needed=n_needed,
            paired=self.paired,
            higher_is_better=hib,
            mode=s.mode,
            alpha=alpha,
            threshold=threshold,
            margin=margin,
            role=role,
            design_effect=self.design_effect,
            clusters=self.clusters,
            attempt=self.attempt if s.anytime else None,
            notes=notes,
            reasons=reasons,
        )

    def _verdict_drop(
        self,
        *,
        significant: bool,
        improved: bool,
        oriented: float,
        threshold: float,
        mde: float | None,
        n_needed: int | None,
        reasons: list[str],
    ) -> tuple[bool, Verdict]:
        # A tiny tolerance keeps a drop of exactly |threshold| from counting as 'more'.
        regressed = significant and oriented < threshold - _EPS
        if regressed:
            return True, "regressed"
        if improved:
            return False, "improved"
        if significant:
            reasons.append(
                f"statistically significant worsening of {abs(oriented):.4g}, "
                f"within the threshold of {abs(threshold):.4g}"
            )
            return False, "no significant change"
        target = self.settings.effective_detect_drop * self.scale
        if mde is None or mde > target:
            reasons.append(self._underpowered(mde, n_needed, target, blocks=True))
            return False, "inconclusive"
        return False, "no significant change"

    def _verdict_ni(
        self,
        interval: Interval,
        *,
        significant: bool,
        improved: bool,
        margin: float,
        mde: float | None,
        n_needed: int | None,
        reasons: list[str],
    ) -> tuple[bool, Verdict]:
        hib = self.higher_is_better
        p_ni = self.p_at(-margin if hib else margin, self.better)
        if p_ni <= self.alpha:
            if improved:
                return False, "improved"
            if significant:
                reasons.append("statistically significant worsening, but within the margin")
            return False, "no significant change"
        lower = interval.low if hib else -interval.high
        reasons.append(
            f"non-inferiority not shown: one-sided lower bound {lower:.4g} "
            f"is not above -{margin:.4g}"
        )
        if significant:
            return True, "regressed"
        reasons.append(self._underpowered(mde, n_needed, margin, blocks=False))
        return True, "inconclusive"

    def _plan(self, alpha: float, margin: float) -> tuple[float | None, int | None]:
        planner = self.planner
        if planner is None:
            return None, None
        s = self.settings
        n, scale = self.n, self.scale
        if s.mode == "significant_drop":
            floor = abs(s.threshold) * scale
            mde = rule_mde(
                lambda d: planner(n, d * scale, alpha, margin), power=s.power, lower=floor / scale
            )
            target = s.effective_detect_drop * scale
            needed = rule_n_needed(lambda m: planner(m, target, alpha, margin), power=s.power)
        else:
            mde = rule_mde(lambda mg: planner(n, 0.0, alpha, mg * scale), power=s.power, lower=0.0)
            needed = rule_n_needed(lambda m: planner(m, 0.0, alpha, margin), power=s.power)
        return (None if mde is None else mde * scale), needed

    def _underpowered(
        self, mde: float | None, n_needed: int | None, target: float, *, blocks: bool
    ) -> str:
        what = (
            f"a true worsening of {target:.4g} is blocked"
            if blocks
            else f"an unchanged candidate is shown non-inferior at margin {target:.4g}"
        )
        shown = "none within range" if mde is None else f"{mde:.4g}"
        needed = "no n up to 200,000" if n_needed is None else f"about {n_needed} items"
        return (
            f"underpowered: the rule's minimum detectable effect at power "
            f"{self.settings.power:g} is {shown} with n={self.n}; {what} with that "
            f"probability at {needed}"
        )


_ROLE_REASON: Mapping[Role, str] = {
    "primary": "primary metric: tested at full alpha",
    "secondary": "secondary metric",
    "derived": "derived metric: tested at full alpha outside the family",
    "safety": "safety metric: tested at full alpha, never in a family",
}


# ---- paired binary ----------------------------------------------------------------


def _paired_planner(
    settings: RegressionSettings, discordance: float, *, n_scale: float = 1.0
) -> Planner:
    def planner(n: int, drop: float, alpha: float, margin: float) -> float:
        n_eff = max(1, round(n / n_scale))
        return paired_rule_probability(
            n_eff,
            drop=drop,
            discordance=discordance,
            alpha=alpha,
            mode=settings.mode,
            threshold=settings.threshold,
            margin=margin,
            correction=settings.correction,
        )

    return planner


def _score_family(table: PairedTable, correction: float) -> tuple[PValue, IntervalAt]:
    def p_at(delta: float, side: Worse) -> float:
        z = float(
            corrected_tango_statistic(table.b, table.c, table.n, delta=delta, correction=correction)
        )
        return float(special.ndtr(z if side == "less" else -z))

    def interval_at(level: float) -> Interval:
        return corrected_tango_interval(table, level=level, correction=correction)

    return p_at, interval_at


def _betting_family(process: BettingProcess, tune: float) -> tuple[PValue, IntervalAt]:
    def p_at(delta: float, side: Worse) -> float:
        return process.p_value(delta=delta, worse=side, a=tune)

    def interval_at(level: float) -> Interval:
        return process.interval(level=level, a=tune)

    return p_at, interval_at


def assess_paired_counts(
    name: str,
    table: PairedTable,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    attempt: int = 1,
) -> Assessment:
    """Paired binary comparison from the paired 2x2 table (candidate first).

    ``b`` = candidate right / baseline wrong (flipped to right), ``c`` =
    candidate wrong / baseline right (flipped to wrong); the difference is
    (b - c)/n. Decided by the corrected Tango score family (continuity
    correction ``settings.correction``), or in anytime mode by the betting
    e-process on the differences in a seeded order. Planning enumerates the
    trinomial with the observed discordance (b + c)/n.

    Args:
        name: Metric name.
        table: Candidate-vs-baseline paired table.
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.
        attempt: Attempt number on this model fingerprint (anytime mode).

    Returns:
        The assessment.

    Raises:
        ValueError: If the table is empty.
    """
    n = table.n
    if n == 0:
        raise ValueError(f"{name}: no paired items to compare")
    notes = [f"paired on {n} items: {table.b} flipped to right, {table.c} flipped to wrong"]
    if settings.anytime:
        rng = np.random.default_rng(settings.seed)
        process = BettingProcess.from_counts(table.b, table.c, n, rng=rng)
        tune = attempt_alpha(settings.alpha, attempt)
        p_at, interval_at = _betting_family(process, tune)
        test = "e-process-betting"
        planner = _anytime_planner(settings, (table.b + table.c) / n, tune)
    else:
        p_at, interval_at = _score_family(table, settings.correction)
        test = f"tango-score-cc{settings.correction:g}"
        planner = _paired_planner(settings, (table.b + table.c) / n)
    return Assessment(
        name=name,
        baseline=(table.a + table.c) / n,
        current=(table.a + table.b) / n,
        n=n,
        paired=True,
        higher_is_better=higher_is_better,
        test=test,
        p_at=p_at,
        interval_at=interval_at,
        planner=planner,
        settings=settings,
        notes=notes,
        attempt=attempt,
    )


def _anytime_planner(settings: RegressionSettings, discordance: float, tune: float) -> Planner:
    """Monte Carlo planning for the e-process (256 seeded draws, common random numbers)."""

    def planner(n: int, drop: float, alpha: float, margin: float) -> float:
        return anytime_rule_probability(
            n,
            drop=drop,
            discordance=discordance,
            alpha=alpha,
            tune=tune,
            settings=settings,
            margin=margin,
        )

    return planner


def anytime_rule_probability(
    n: int,
    *,
    drop: float,
    discordance: float,
    alpha: float,
    tune: float,
    settings: RegressionSettings,
    margin: float,
    reps: int = 256,
) -> float:
    """P(the rule's event) for the e-process, by seeded simulation of ``reps`` draws.

    Uniforms are drawn once per n (seed ``settings.seed + n``), so the estimate is
    monotone in ``drop`` and planning searches are stable.
    """
    from releasegate.stats.anytime import bets, max_log_wealth

    psi = min(1.0, max(discordance, abs(drop)))
    p_b, p_c = (psi - drop) / 2.0, (psi + drop) / 2.0
    rng = np.random.default_rng(settings.seed + n)
    u = rng.random((reps, n))
    d = np.where(u < p_c, -1.0, np.where(u < p_c + p_b, 1.0, 0.0))
    x = (d + 1.0) / 2.0
    lam = bets(x, a=tune)
    bar = math.log(1.0 / alpha)
    if settings.mode == "significant_drop":
        wealth = max_log_wealth(x, lam, m0=0.5, sign=-1.0)
        event = (wealth >= bar) & (d.mean(axis=1) < settings.threshold - _EPS)
    else:
        wealth = max_log_wealth(x, lam, m0=(1.0 - margin) / 2.0, sign=1.0)
        event = wealth >= bar
    return float(event.mean())


def assess_paired_binary(
    name: str,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    clusters: npt.ArrayLike | None = None,
    attempt: int = 1,
) -> Assessment:
    """Paired binary comparison from aligned per-item outcomes, cluster-robust when clustered.

    Without ``clusters`` (or when every cluster holds one item) this is
    :func:`assess_paired_counts`. With clusters the cluster-robust score family
    of :mod:`releasegate.stats.clustered` decides and gives the interval; planning
    uses the trinomial enumeration at the effective size n/DE (DE the observed
    design effect, an approximation). In anytime mode with clusters the e-process
    runs on the cluster means (independent units; the estimand is then the mean
    over clusters).

    Args:
        name: Metric name.
        baseline: Baseline per-item outcomes (bool), aligned with ``candidate``.
        candidate: Candidate per-item outcomes (bool).
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.
        clusters: Cluster label per item, aligned (None: items are independent).
        attempt: Attempt number on this model fingerprint (anytime mode).

    Returns:
        The assessment.
    """
    table = PairedTable.from_outcomes(candidate, second=baseline)
    if clusters is None:
        return assess_paired_counts(
            name, table, settings=settings, higher_is_better=higher_is_better, attempt=attempt
        )
    grouped = ClusteredDifferences.from_outcomes(candidate, second=baseline, clusters=clusters)
    if not grouped.clustered:
        return assess_paired_counts(
            name, table, settings=settings, higher_is_better=higher_is_better, attempt=attempt
        )
    base = assess_paired_counts(
        name, table, settings=settings, higher_is_better=higher_is_better, attempt=attempt
    )
    de = grouped.design_effect
    notes = [
        *base.notes,
        f"cluster-robust: {grouped.k} clusters, design effect {de:.3g} "
        f"(effective n about {table.n / max(de, 1e-12):.0f})",
    ]
    if settings.anytime:
        means = grouped.sums / grouped.sizes
        process = BettingProcess.from_differences(means, rng=np.random.default_rng(settings.seed))
        p_at, interval_at = _betting_family(process, attempt_alpha(settings.alpha, attempt))
        test = "e-process-betting-cluster-means"
        notes.append("anytime-valid e-process on cluster means (clusters as independent units)")
    else:

        def p_at(delta: float, side: Worse) -> float:
            return grouped.p_value(delta=delta, worse=side)

        def interval_at(level: float) -> Interval:
            return grouped.interval(level=level)

        test = "cluster-robust-score-t"
    planner = _paired_planner(settings, (table.b + table.c) / table.n, n_scale=max(de, 1.0))
    return Assessment(
        name=name,
        baseline=base.baseline,
        current=base.current,
        n=table.n,
        paired=True,
        higher_is_better=higher_is_better,
        test=test,
        p_at=p_at,
        interval_at=interval_at,
        planner=planner,
        settings=settings,
        notes=notes,
        design_effect=de,
        clusters=grouped.k,
        attempt=attempt,
    )


# ---- paired scores ----------------------------------------------------------------


def assess_paired_scores(
    name: str,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    scale: float = 1.0,
    resolution: float = 1.0,
    attempt: int = 1,
) -> Assessment:
    """Paired comparison of per-item scores (e.g. judge scores 1–5), by the t family.

    The difference is the mean of per-item differences. p-values and the
    interval come from one t family: for δ0, t(δ0) = (d̄ - δ0)/(s/√n) with n - 1
    degrees of freedom, the interval d̄ ± t_{(1+level)/2, n-1}·s/√n. The standard
    deviation is floored at s_min = resolution/√n (as if one more item had differed
    by one step of the score), so identical scores on two items never claim
    certainty: with zero spread at n = 2 the interval is wide and the verdict
    inconclusive rather than "no significant change" with an MDE of 0. The
    Wilcoxon signed-rank test (Pratt zeros) is in ``notes`` as a robustness check.

    ``threshold`` and ``margin`` are fractions of ``scale``, the width of the
    score range (a 1–5 judge score: ``scale=4``, so -0.05 is a drop of 0.2 points).
    In anytime mode the e-process runs on the differences divided by ``scale``.

    Args:
        name: Metric name.
        baseline: Baseline per-item scores, aligned with ``candidate``.
        candidate: Candidate per-item scores.
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.
        scale: Width of the score range (> 0).
        resolution: Smallest step between scores (> 0), for the spread floor.
        attempt: Attempt number on this model fingerprint (anytime mode).

    Returns:
        The assessment.

    Raises:
        ValueError: If there are fewer than two items or ``scale``/``resolution``
            is not positive.
    """
    for label, value in (("scale", scale), ("resolution", resolution)):
        if not value > 0.0 or not math.isfinite(value):
            raise ValueError(f"{label} must be positive, got {value}")
    base = np.asarray(baseline, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    n = int(base.size)
    if n < 2 or cand.shape != base.shape:
        raise ValueError(f"{name}: need equal score arrays with at least two items")
    diffs = cand - base
    if not np.all(np.isfinite(diffs)):
        raise ValueError(f"{name}: scores must be finite")
    mean = float(diffs.mean())
    sd_obs = float(diffs.std(ddof=1))
    sd = max(sd_obs, resolution / math.sqrt(n))
    se = sd / math.sqrt(n)
    df = n - 1
    worse: Worse = "less" if higher_is_better else "greater"
    wilcoxon = wilcoxon_signed_rank(cand, second=base, alternative=worse, zero_method="pratt")
    notes = [
        f"paired scores on {n} items (scale {scale:g}); sd of differences {sd_obs:.4g}"
        + (f", floored at {sd:.4g}" if sd > sd_obs else "")
        + f"; wilcoxon-pratt one-sided p={wilcoxon.p_value:.4g}"
    ]
    if settings.anytime:
        tune = attempt_alpha(settings.alpha, attempt)
        process = BettingProcess.from_differences(
            np.clip(diffs / scale, -1.0, 1.0), rng=np.random.default_rng(settings.seed)
        )
        p_scaled, interval_scaled = _betting_family(process, tune)

        def p_at(delta: float, side: Worse) -> float:
            return p_scaled(delta / scale, side)

        def interval_at(level: float) -> Interval:
            unit = interval_scaled(level)
            return unit.model_copy(update={"low": unit.low * scale, "high": unit.high * scale})

        test, planner = "e-process-betting", None
    else:

        def p_at(delta: float, side: Worse) -> float:
            t = (mean - delta) / se
            return float(special.stdtr(df, t if side == "less" else -t))

        def interval_at(level: float) -> Interval:
            half = float(special.stdtrit(df, 0.5 + level / 2.0)) * se
            return Interval(low=mean - half, high=mean + half, level=level, method="paired-t")

        def planner(m: int, drop: float, alpha: float, margin: float) -> float:
            return score_rule_probability(
                max(2, m),
                drop=drop,
                sd=max(sd_obs, resolution / math.sqrt(max(2, m))),
                alpha=alpha,
                mode=settings.mode,
                threshold=settings.threshold * scale,
                margin=margin,
            )

        test = "paired-t"
    return Assessment(
        name=name,
        baseline=float(base.mean()),
        current=float(cand.mean()),
        n=n,
        paired=True,
        higher_is_better=higher_is_better,
        test=test,
        p_at=p_at,
        interval_at=interval_at,
        planner=planner,
        settings=settings,
        scale=scale,
        notes=notes,
        attempt=attempt,
    )


# ---- unpaired ---------------------------------------------------------------------


def _to_count(rate: float, n: int, label: str, notes: list[str]) -> int:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{label} rate must be in [0, 1], got {rate}")
    if n < 1:
        raise ValueError(f"{label} n must be >= 1, got {n}")
    count = round(rate * n)
    if abs(rate * n - count) > 1e-6 * max(1.0, rate * n):
        notes.append(f"{label} rate {rate:.6g} x n={n} is not a whole count; rounded to {count}")
    return count


def assess_unpaired(
    name: str,
    baseline_rate: float,
    baseline_n: int | None,
    current_rate: float,
    current_n: int,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    attempt: int = 1,
) -> Assessment:
    """Unpaired comparison of two rates, both with their own sampling variance.

    Rates are turned back into counts (``round(rate·n)``) and compared by the
    corrected Farrington–Manning score family (continuity correction
    ``settings.correction``), whose inversion is the reported interval; planning
    enumerates two independent binomials. A baseline without n (a flat classic-style file
    that stores only the value) is assumed to come from as many items as the
    candidate (the same benchmark), and ``notes`` says so: the baseline's own
    variance is never ignored. In anytime mode the level is the attempt's share
    of alpha (there is no item order to bet on).

    Args:
        name: Metric name.
        baseline_rate: Baseline rate in [0, 1].
        baseline_n: Baseline items, or None when unknown.
        current_rate: Candidate rate in [0, 1].
        current_n: Candidate items (>= 1).
        settings: Rule settings.
        higher_is_better: False for metrics where a rise is a regression.
        attempt: Attempt number on this model fingerprint (anytime mode).

    Returns:
        The assessment (``paired`` is False).
    """
    notes: list[str] = []
    x_cur = _to_count(current_rate, current_n, "current", notes)
    if baseline_n is None:
        n_base = current_n
        notes.insert(
            0,
            f"unpaired analysis against a baseline without n: assumed to come from "
            f"{current_n} items like the candidate (same benchmark); record the "
            "baseline's n (or re-baseline with per-item outputs) for an exact analysis",
        )
    else:
        n_base = baseline_n
        notes.insert(
            0,
            f"unpaired analysis (weaker than paired): {current_n} candidate vs "
            f"{baseline_n} baseline items; n_needed is per group",
        )
    x_base = _to_count(baseline_rate, n_base, "baseline", notes)
    correction = settings.correction

    def p_at(delta: float, side: Worse) -> float:
        z = float(
            corrected_score_statistic(
                x_cur, current_n, x_base, n_base, delta=delta, correction=correction
            )
        )
        return float(special.ndtr(z if side == "less" else -z))

    def interval_at(level: float) -> Interval:
        return corrected_score_interval(
            x_cur, current_n, x_base, n_base, level=level, correction=correction
        )

    p_ref = x_base / n_base if higher_is_better else 1.0 - x_base / n_base
    ratio = n_base / current_n

    def planner(m: int, drop: float, alpha: float, margin: float) -> float:
        return two_sample_rule_probability(
            max(1, round(m * ratio)),
            m,
            p_reference=p_ref,
            drop=drop,
            alpha=alpha,
            mode=settings.mode,
            threshold=settings.threshold,
            margin=margin,
            correction=correction,
        )

    return Assessment(
        name=name,
        baseline=x_base / n_base,
        current=x_cur / current_n,
        n=current_n,
        paired=False,
        higher_is_better=higher_is_better,
        test=f"score-fm-cc{correction:g}",
        p_at=p_at,
        interval_at=interval_at,
        planner=planner,
        settings=settings,
        notes=notes,
        attempt=attempt,
    )


# ---- single-metric conveniences ------------------------------------------------------


def compare_paired_counts(
    name: str,
    table: PairedTable,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    attempt: int = 1,
) -> MetricComparison:
    """:func:`assess_paired_counts` decided on its own (as a primary metric)."""
    return assess_paired_counts(
        name, table, settings=settings, higher_is_better=higher_is_better, attempt=attempt
    ).decide()


def compare_paired_binary(
    name: str,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    clusters: npt.ArrayLike | None = None,
    attempt: int = 1,
) -> MetricComparison:
    """:func:`assess_paired_binary` decided on its own (as a primary metric)."""
    return assess_paired_binary(
        name,
        baseline,
        candidate,
        settings=settings,
        higher_is_better=higher_is_better,
        clusters=clusters,
        attempt=attempt,
    ).decide()


def compare_paired_scores(
    name: str,
    baseline: npt.ArrayLike,
    candidate: npt.ArrayLike,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    scale: float = 1.0,
    resolution: float = 1.0,
    attempt: int = 1,
) -> MetricComparison:
    """:func:`assess_paired_scores` decided on its own (as a primary metric)."""
    return assess_paired_scores(
        name,
        baseline,
        candidate,
        settings=settings,
        higher_is_better=higher_is_better,
        scale=scale,
        resolution=resolution,
        attempt=attempt,
    ).decide()


def compare_unpaired(
    name: str,
    baseline_rate: float,
    baseline_n: int | None,
    current_rate: float,
    current_n: int,
    *,
    settings: RegressionSettings,
    higher_is_better: bool = True,
    attempt: int = 1,
) -> MetricComparison:
    """:func:`assess_unpaired` decided on its own (as a primary metric)."""
    return assess_unpaired(
        name,
        baseline_rate,
        baseline_n,
        current_rate,
        current_n,
        settings=settings,
        higher_is_better=higher_is_better,
        attempt=attempt,
    ).decide()


# ---- the family -------------------------------------------------------------------


def decide_family(
    assessments: Sequence[Assessment],
    roles: Mapping[str, Role],
    *,
    settings: RegressionSettings,
    plan: bool = True,
) -> list[MetricComparison]:
    """Decide every assessment in its role: Holm over the secondary metrics only.

    Primary, derived and safety metrics are decided at full alpha on their raw
    p-values; secondary metrics are Holm-adjusted among themselves
    (``settings.multiplicity == "holm"``, ``significant_drop`` mode), each with its
    interval at the level of its Holm step. Non-inferiority is an
    intersection–union test and is never adjusted.

    Args:
        assessments: One per compared metric.
        roles: Metric name -> role (missing names count as secondary).
        settings: Rule settings.
        plan: Compute ``mde`` and ``n_needed`` (off only for bulk simulation).

    Returns:
        The comparisons, in the input order.
    """
    secondary = [a for a in assessments if roles.get(a.name, "secondary") == "secondary"]
    adjust = settings.multiplicity == "holm" and settings.mode == "significant_drop"
    family = len(secondary) if adjust else 1
    adjusted: dict[str, float] = {}
    if adjust and len(secondary) > 1:
        adjusted = dict(
            zip(
                (a.name for a in secondary),
                holm_adjust([a.p_worse for a in secondary]),
                strict=True,
            )
        )
    out = []
    for assessment in assessments:
        role = roles.get(assessment.name, "secondary")
        out.append(
            assessment.decide(
                role=role,
                p_adjusted=adjusted.get(assessment.name),
                family_size=family if role == "secondary" else 1,
                plan=plan,
            )
        )
    return out
