"""Cluster-robust and anytime-valid procedures: validity, agreement, references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from releasegate.config.regression import RegressionSettings
from releasegate.regression.rule import assess_paired_binary, assess_paired_counts
from releasegate.stats import PairedTable
from releasegate.stats.anytime import BettingProcess, attempt_alpha
from releasegate.stats.clustered import ClusteredDifferences
from releasegate.stats.rule_power import trinomial_support

ALPHA = 0.05


def clustered_null(
    rng: np.random.Generator, *, clusters: int, size: int, icc: float, psi: float, reps: int
) -> np.ndarray:
    """Paired differences (reps, clusters, size) with no true change and ICC ``icc``.

    Each item is discordant with probability psi; within cluster k a discordant
    item flipped to right with probability pi_k ~ Beta(a, a), a = (psi/icc - 1)/2,
    so E[D] = 0 and the intra-cluster correlation of D is psi/(2a + 1) = icc.
    """
    a = (psi / icc - 1.0) / 2.0
    share = rng.beta(a, a, size=(reps, clusters, 1))
    discordant = rng.random((reps, clusters, size)) < psi
    up = rng.random((reps, clusters, size)) < share
    return np.where(discordant, np.where(up, 1.0, -1.0), 0.0)


def _vectorised_p(diffs: np.ndarray) -> np.ndarray:
    sums = diffs.sum(axis=2)
    k, m = diffs.shape[1], diffs.shape[2]
    factor = k / (k - 1)
    z = sums.sum(axis=1) / np.sqrt(factor * (sums**2).sum(axis=1))
    bound = k * m / math.sqrt(factor * k * m * m)
    return np.maximum(stats.t.cdf(z, k - 1), stats.t.sf(bound, k - 1))


def test_clustered_statistic_matches_the_formula_and_the_rule() -> None:
    rng = np.random.default_rng(5)
    diffs = clustered_null(rng, clusters=12, size=6, icc=0.3, psi=0.5, reps=30)
    fast = _vectorised_p(diffs)
    labels = np.repeat(np.arange(12), 6)
    for rep in range(30):
        d = diffs[rep].reshape(-1)
        cand = (d >= 0).astype(bool)  # +1 -> (1, 0); -1 -> (0, 1); 0 -> (1, 1)
        base = (d <= 0).astype(bool)
        grouped = ClusteredDifferences.from_outcomes(cand, second=base, clusters=labels)
        assert grouped.p_value(delta=0.0, worse="less") == pytest.approx(fast[rep], rel=1e-9)
        interval = grouped.interval(level=0.9)
        for delta in (0.0, -0.05, 0.05):
            below = grouped.p_value(delta=delta, worse="less") <= ALPHA
            above = grouped.p_value(delta=delta, worse="greater") <= ALPHA
            assert below == (interval.high < delta) and above == (interval.low > delta)
        comparison = assess_paired_binary(
            "accuracy", base, cand, settings=RegressionSettings(), clusters=labels
        ).decide(plan=False)
        assert comparison.test == "cluster-robust-score-t" and comparison.clusters == 12
        assert comparison.design_effect == pytest.approx(grouped.design_effect)
        assert comparison.significant == (comparison.ci_high < 0)  # type: ignore[operator]


def test_clustered_false_block_at_most_alpha_where_the_naive_test_exceeds_it() -> None:
    rng = np.random.default_rng(20240601)
    for clusters, size in ((20, 10), (30, 20)):
        diffs = clustered_null(rng, clusters=clusters, size=size, icc=0.3, psi=0.5, reps=10_000)
        n = clusters * size
        drop = diffs.sum(axis=(1, 2)) / n < -0.05 - 1e-12
        clustered = float(((_vectorised_p(diffs) <= ALPHA) & drop).mean())
        b = (diffs == 1).sum(axis=(1, 2))
        c = (diffs == -1).sum(axis=(1, 2))
        z = np.sign(b - c) * np.maximum(0, np.abs(b - c) - 0.5) / np.sqrt(np.maximum(b + c, 1))
        naive = float(((special.ndtr(z) <= ALPHA) & drop).mean())
        assert clustered <= ALPHA, (clusters, size, clustered)
        assert naive > 2 * ALPHA, (clusters, size, naive)


def test_singleton_clusters_are_the_independent_procedure() -> None:
    base = np.array([1, 1, 0, 1, 0, 1, 1, 0] * 10, dtype=bool)
    cand = np.array([1, 0, 0, 1, 1, 0, 1, 0] * 10, dtype=bool)
    rule = RegressionSettings()
    plain = assess_paired_binary("a", base, cand, settings=rule).decide(plan=False)
    single = assess_paired_binary("a", base, cand, settings=rule, clusters=np.arange(80)).decide(
        plan=False
    )
    assert plain == single
    grouped = ClusteredDifferences.from_outcomes(cand, second=base, clusters=np.arange(80))
    assert grouped.design_effect == pytest.approx(1.0)
    assert not grouped.clustered


def test_design_effect_of_whole_cluster_flips() -> None:
    labels = np.repeat(np.arange(10), 10)
    cand = np.ones(100, dtype=bool)
    base = np.ones(100, dtype=bool)
    base[:20] = False  # two clusters flipped to right entirely
    cand[50:70] = False  # two clusters flipped to wrong entirely
    grouped = ClusteredDifferences.from_outcomes(cand, second=base, clusters=labels)
    assert grouped.design_effect > 5.0


# ---- anytime-valid ------------------------------------------------------------------


def test_attempt_alpha_sums_to_alpha() -> None:
    assert attempt_alpha(0.05, 1) == pytest.approx(6 * 0.05 / math.pi**2)
    assert sum(attempt_alpha(0.05, k) for k in range(1, 100_000)) < 0.05
    with pytest.raises(ValueError):
        attempt_alpha(0.05, 0)


def _anytime_rate(n: int, p_b: float, p_c: float, *, delta: float, worse: str, a: float) -> float:
    b, c, prob = trinomial_support(n, p_b, p_c)
    keep = prob > 1e-9
    total = 0.0
    for bi, ci, pi in zip(b[keep], c[keep], prob[keep], strict=True):
        process = BettingProcess.from_counts(int(bi), int(ci), n, rng=np.random.default_rng(1))
        if process.p_value(delta=delta, worse=worse, a=a) <= a:
            total += float(pi)
    return total


@pytest.mark.parametrize("n", [20, 60, 150])
def test_anytime_errors_at_most_the_attempt_level(n: int) -> None:
    both = 0.85 * 0.85 + 0.5 * 0.85 * 0.15
    p_eq = 0.85 - both
    for attempt in (1, 2):
        a = attempt_alpha(ALPHA, attempt)
        assert _anytime_rate(n, p_eq, p_eq, delta=0.0, worse="less", a=a) <= a
    both = 0.85 * 0.80 + 0.5 * math.sqrt(0.85 * 0.15 * 0.80 * 0.20)
    a = attempt_alpha(ALPHA, 1)
    false_pass = _anytime_rate(n, 0.80 - both, 0.85 - both, delta=-0.05, worse="greater", a=a)
    assert false_pass <= a


def test_anytime_interval_inverts_the_e_process() -> None:
    rng = np.random.default_rng(2)
    disagreements = 0
    a = attempt_alpha(ALPHA, 1)
    for _ in range(80):
        n = int(rng.integers(20, 400))
        b, c = int(rng.integers(0, n // 4)), int(rng.integers(0, n // 4))
        process = BettingProcess.from_counts(b, c, n, rng=np.random.default_rng(9))
        interval = process.interval(level=1 - 2 * a, a=a)
        for delta in (0.0, -0.05):
            below = process.p_value(delta=delta, worse="less", a=a) <= a
            above = process.p_value(delta=delta, worse="greater", a=a) <= a
            disagreements += below != (interval.high < delta)
            disagreements += above != (interval.low > delta)
    assert disagreements == 0


def test_anytime_rule_reports_the_attempt() -> None:
    rule = RegressionSettings(anytime=True)
    table = PairedTable(a=300, b=10, c=40, d=50)
    first = assess_paired_counts("accuracy", table, settings=rule, attempt=1).decide(plan=False)
    third = assess_paired_counts("accuracy", table, settings=rule, attempt=3).decide(plan=False)
    assert first.attempt == 1 and third.attempt == 3
    assert third.alpha == pytest.approx(attempt_alpha(0.05, 3))
    assert third.alpha < first.alpha
    assert (
        first.test == "e-process-betting" and first.interval_method == "betting-confidence-sequence"
    )
    assert first.regressed and first.significant == (first.ci_high < 0)  # type: ignore[operator]
    assert any("attempt 3" in note for note in third.notes)
    fixed = assess_paired_counts("accuracy", table, settings=RegressionSettings()).decide(
        plan=False
    )
    assert fixed.attempt is None
