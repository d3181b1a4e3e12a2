"""The per-metric regression rule: settings, verdicts, directions, Holm, fallbacks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats as sps
from statsmodels.stats import proportion as smp
from statsmodels.stats.multitest import multipletests

from releasegate.config.regression import DEFAULT_METRICS, RegressionSettings
from releasegate.records.regression import MetricComparison
from releasegate.regression.rule import (
    apply_holm,
    compare_paired_binary,
    compare_paired_counts,
    compare_paired_scores,
    compare_unpaired,
)
from releasegate.stats import (
    PairedTable,
    mcnemar_p_value,
    mde_paired_binary,
    newcombe_paired_interval,
    tango_interval,
)

DEFAULT = RegressionSettings()
NI = RegressionSettings(mode="non_inferiority")


# ---- settings ----------------------------------------------------------------


def test_settings_defaults_and_validation() -> None:
    assert DEFAULT.mode == "significant_drop"
    assert DEFAULT.alpha == 0.05 and DEFAULT.threshold == -0.05
    assert DEFAULT.effective_margin == 0.05
    assert DEFAULT.metrics == list(DEFAULT_METRICS)
    assert (DEFAULT.mcnemar, DEFAULT.paired_interval, DEFAULT.multiplicity) == (
        "mid-p",
        "tango",
        "holm",
    )
    assert RegressionSettings(margin=0.02).effective_margin == 0.02
    for bad in (
        {"alpha": 0.0},
        {"alpha": 0.6},
        {"threshold": 0.01},
        {"threshold": -1.5},
        {"margin": -0.1},
        {"power": 0.4},
        {"bootstrap_resamples": 10},
        {"metrics": []},
        {"metrics": ["accuracy", "accuracy"]},
        {"metrics": [" "]},
        {"mcnemar": "chi2"},
        {"unknown": 1},
        {"mode": "non_inferiority", "threshold": 0.0},
    ):
        with pytest.raises(ValidationError):
            RegressionSettings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        DEFAULT.alpha = 0.1  # type: ignore[misc]


# ---- paired binary -------------------------------------------------------------


def _outcomes(table: PairedTable) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, candidate) per-item outcomes realising the table (candidate first)."""
    cand = np.array([1] * table.a + [1] * table.b + [0] * table.c + [0] * table.d, dtype=bool)
    base = np.array([1] * table.a + [0] * table.b + [1] * table.c + [0] * table.d, dtype=bool)
    return base, cand


def test_paired_binary_uses_the_named_methods() -> None:
    table = PairedTable(a=700, b=20, c=55, d=225)
    base, cand = _outcomes(table)
    result = compare_paired_binary("accuracy", base, cand, settings=DEFAULT)
    assert result == compare_paired_counts("accuracy", table, settings=DEFAULT)
    assert result.baseline == pytest.approx(0.755) and result.current == pytest.approx(0.72)
    assert result.difference == pytest.approx(-0.035)
    assert result.p_value == pytest.approx(mcnemar_p_value(20, c=55, alternative="less"))
    assert result.p_value == result.p_adjusted
    assert result.p_improvement == pytest.approx(mcnemar_p_value(20, c=55, alternative="greater"))
    tango = tango_interval(table, level=0.9)
    assert tango is not None
    assert (result.ci_low, result.ci_high) == pytest.approx((tango.low, tango.high))
    assert result.ci_level == 0.9 and result.interval_method == "tango-score"
    assert result.test == "mcnemar-mid-p" and result.paired
    assert result.mde == pytest.approx(mde_paired_binary(1000, discordance=0.075))
    # Significant, but a 3.5-point drop is within the 5-point threshold.
    assert result.significant and not result.regressed
    assert result.verdict == "no significant change"
    assert any("within the threshold" in r for r in result.reasons)

    exact = RegressionSettings(mcnemar="exact", paired_interval="newcombe")
    other = compare_paired_counts("accuracy", table, settings=exact)
    newcombe = newcombe_paired_interval(table, level=0.9)
    assert newcombe is not None
    assert other.p_value == pytest.approx(sps.binomtest(20, 75, alternative="less").pvalue)
    assert (other.ci_low, other.ci_high) == pytest.approx((newcombe.low, newcombe.high))
    assert other.test == "mcnemar-exact"


def test_paired_binary_verdicts() -> None:
    regressed = compare_paired_counts("a", PairedTable(a=700, b=10, c=90, d=200), settings=DEFAULT)
    assert regressed.verdict == "regressed" and regressed.regressed and regressed.significant

    improved = compare_paired_counts("a", PairedTable(a=700, b=90, c=10, d=200), settings=DEFAULT)
    assert improved.verdict == "improved" and improved.improved and not improved.regressed

    # 30 items, no change: a 5-point drop could not have been detected.
    small = compare_paired_counts("a", PairedTable(a=22, b=2, c=2, d=4), settings=DEFAULT)
    assert small.verdict == "inconclusive"
    assert small.mde is not None and small.mde > 0.05
    assert small.n_needed is not None and small.n_needed > 30
    assert any("underpowered" in r for r in small.reasons)

    # 2000 items, no change, enough power.
    big = compare_paired_counts("a", PairedTable(a=1600, b=60, c=60, d=280), settings=DEFAULT)
    assert big.verdict == "no significant change"
    assert big.mde is not None and big.mde < 0.05
    assert big.n_needed is not None and big.n_needed < 2000


def test_paired_binary_edge_cases() -> None:
    # b = c = 0: identical outputs.
    same = compare_paired_counts("a", PairedTable(a=80, b=0, c=0, d=20), settings=DEFAULT)
    assert same.difference == 0.0 and not same.significant and not same.regressed
    assert same.ci_low is not None and same.ci_low < 0 < same.ci_high  # type: ignore[operator]
    assert same.verdict in ("inconclusive", "no significant change")
    # n = 1
    for table in (
        PairedTable(a=0, b=0, c=1, d=0),
        PairedTable(a=0, b=1, c=0, d=0),
        PairedTable(a=1, b=0, c=0, d=0),
    ):
        one = compare_paired_counts("a", table, settings=DEFAULT)
        assert one.n == 1 and one.verdict == "inconclusive" and not one.regressed
        assert one.mde is None
    # rates of 0 and 1
    all_wrong = compare_paired_counts("a", PairedTable(a=0, b=0, c=50, d=0), settings=DEFAULT)
    assert all_wrong.current == 0.0 and all_wrong.baseline == 1.0
    assert all_wrong.verdict == "regressed" and all_wrong.ci_low == pytest.approx(-1.0)
    all_right = compare_paired_counts("a", PairedTable(a=50, b=0, c=0, d=0), settings=DEFAULT)
    assert all_right.difference == 0.0 and not all_right.regressed
    with pytest.raises(ValueError):
        compare_paired_counts("a", PairedTable(a=0, b=0, c=0, d=0), settings=DEFAULT)
    with pytest.raises(ValueError):
        compare_paired_binary("a", np.ones(3, bool), np.ones(4, bool), settings=DEFAULT)


def test_lower_is_better_metric() -> None:
    # harmful_rate: candidate harmful on 60 items where the baseline was not, 5 the reverse.
    table = PairedTable(a=10, b=60, c=5, d=925)  # candidate first: b = candidate harmful only
    worse = compare_paired_counts("harmful_rate", table, settings=DEFAULT, higher_is_better=False)
    assert worse.difference == pytest.approx(0.055)
    assert worse.p_value == pytest.approx(mcnemar_p_value(60, c=5, alternative="greater"))
    assert worse.verdict == "regressed" and worse.regressed
    better = compare_paired_counts(
        "harmful_rate",
        PairedTable(a=10, b=5, c=60, d=925),
        settings=DEFAULT,
        higher_is_better=False,
    )
    assert better.verdict == "improved"


# ---- non-inferiority -------------------------------------------------------------


def test_non_inferiority_mode() -> None:
    passes = compare_paired_counts("a", PairedTable(a=1600, b=50, c=60, d=290), settings=NI)
    assert passes.ci_low is not None and passes.ci_low > -0.05
    assert not passes.regressed and passes.verdict == "no significant change"

    small = compare_paired_counts("a", PairedTable(a=40, b=3, c=4, d=3), settings=NI)
    assert small.regressed and small.verdict == "inconclusive"
    assert any("non-inferiority not shown" in r for r in small.reasons)

    drop = compare_paired_counts("a", PairedTable(a=700, b=10, c=90, d=200), settings=NI)
    assert drop.regressed and drop.verdict == "regressed"

    # A 3-point drop that significant_drop lets through but non-inferiority blocks.
    table = PairedTable(a=300, b=10, c=25, d=165)
    lenient = compare_paired_counts("a", table, settings=DEFAULT)
    strict = compare_paired_counts("a", table, settings=NI)
    assert not lenient.regressed and strict.regressed
    assert strict.ci_low is not None and strict.ci_low <= -0.05

    custom = RegressionSettings(mode="non_inferiority", margin=0.1)
    assert not compare_paired_counts("a", table, settings=custom).regressed


# ---- symmetry and invariants (property tests) ------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> PairedTable:
    a, b, c, d = (draw(st.integers(min_value=0, max_value=400)) for _ in range(4))
    if a + b + c + d == 0:
        a = 1
    return PairedTable(a=a, b=b, c=c, d=d)


@settings(max_examples=120, deadline=None)
@given(tables(), st.sampled_from([DEFAULT, NI, RegressionSettings(paired_interval="newcombe")]))
def test_paired_rule_invariants(table: PairedTable, rule: RegressionSettings) -> None:
    result = compare_paired_counts("a", table, settings=rule)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= result.difference + 1e-12 <= result.ci_high + 2e-12
    if result.verdict == "regressed":
        assert result.p_adjusted <= rule.alpha
    if rule.mode == "significant_drop":
        assert result.regressed == (
            result.p_value <= rule.alpha and result.difference < rule.threshold - 1e-12
        )
        if result.verdict == "inconclusive":
            assert result.mde is None or result.mde > abs(rule.threshold)
    else:
        assert result.regressed == (result.ci_low <= -rule.effective_margin)
    # Swapping the models: difference and interval negate, the one-sided p-values swap.
    swapped = compare_paired_counts(
        "a", PairedTable(a=table.a, b=table.c, c=table.b, d=table.d), settings=rule
    )
    assert swapped.difference == pytest.approx(-result.difference)
    assert swapped.ci_low == pytest.approx(-result.ci_high, abs=1e-7)
    assert swapped.p_value == pytest.approx(result.p_improvement, abs=1e-12)
    # Reading the same table as a lower-is-better metric of the complement gives the
    # same decision: flipping every outcome and the direction changes nothing.
    flipped = compare_paired_counts(
        "a",
        PairedTable(a=table.d, b=table.c, c=table.b, d=table.a),
        settings=rule,
        higher_is_better=False,
    )
    assert flipped.p_value == pytest.approx(result.p_value, abs=1e-12)
    assert flipped.verdict == result.verdict and flipped.regressed == result.regressed


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=40))
def test_more_flips_to_wrong_never_help(extra: int) -> None:
    before = compare_paired_counts("a", PairedTable(a=400, b=20, c=30, d=50), settings=DEFAULT)
    after = compare_paired_counts(
        "a", PairedTable(a=400 - extra, b=20, c=30 + extra, d=50), settings=DEFAULT
    )
    assert after.p_value <= before.p_value + 1e-12
    assert after.regressed >= before.regressed


# ---- Holm --------------------------------------------------------------------


def test_apply_holm() -> None:
    tables_ = [
        PairedTable(a=700, b=30, c=70, d=200),  # drop 4 points, very significant
        PairedTable(a=700, b=40, c=100, d=160),  # drop 6 points
        PairedTable(a=400, b=20, c=33, d=47),  # drop 2.6 points, p ~ 0.04
        PairedTable(a=400, b=30, c=30, d=40),
    ]
    raw = [compare_paired_counts(f"m{i}", t, settings=DEFAULT) for i, t in enumerate(tables_)]
    adjusted = apply_holm(raw, alpha=0.05)
    expected = multipletests([r.p_value for r in raw], method="holm")[1]
    assert [r.p_adjusted for r in adjusted] == pytest.approx(list(expected))
    assert [r.name for r in adjusted] == [r.name for r in raw]
    assert all(a.p_value == r.p_value for a, r in zip(adjusted, raw, strict=True))
    assert raw[2].significant and not adjusted[2].significant
    assert adjusted[1].verdict == "regressed"
    assert all(any("Holm" in x for x in a.reasons) for a in adjusted)
    # A borderline regression is undone by the adjustment.
    border = compare_paired_counts("b", PairedTable(a=60, b=2, c=9, d=29), settings=DEFAULT)
    assert border.verdict == "regressed" and 0.01 < border.p_value <= 0.05
    family = [
        border,
        *[compare_paired_counts(f"x{i}", tables_[3], settings=DEFAULT) for i in range(4)],
    ]
    assert apply_holm(family, alpha=0.05)[0].verdict != "regressed"
    assert apply_holm([], alpha=0.05) == []
    with pytest.raises(ValueError):
        apply_holm(raw, alpha=0.0)


# ---- paired scores -------------------------------------------------------------


def _judge_scores(seed: int, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 6, size=n).astype(float)
    noise = rng.choice([-1.0, 0.0, 0.0, 0.0, 1.0], size=n)
    cand = np.clip(base + noise + rng.binomial(1, abs(shift), size=n) * np.sign(shift), 1, 5)
    return base, cand


def test_paired_scores() -> None:
    base, cand = _judge_scores(1, 300, -0.4)
    result = compare_paired_scores(
        "judge", base, cand, settings=DEFAULT, rng=np.random.default_rng(7), scale=4.0
    )
    ref = sps.ttest_rel(cand, base, alternative="less")
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.difference == pytest.approx(float(np.mean(cand - base)))
    assert result.threshold == pytest.approx(-0.2) and result.margin == pytest.approx(0.2)
    assert result.test == "paired-t" and result.interval_method == "bootstrap-percentile"
    assert result.ci_low is not None and result.ci_low < result.difference < result.ci_high  # type: ignore[operator]
    assert result.verdict == "regressed"
    again = compare_paired_scores(
        "judge", base, cand, settings=DEFAULT, rng=np.random.default_rng(7), scale=4.0
    )
    assert again == result
    # Same data on scale 1: the threshold is 0.05 points, still regressed; on a
    # wide scale the drop is immaterial.
    wide = compare_paired_scores(
        "judge", base, cand, settings=DEFAULT, rng=np.random.default_rng(7), scale=100.0
    )
    assert wide.significant and not wide.regressed

    same = compare_paired_scores(
        "judge", base, base.copy(), settings=DEFAULT, rng=np.random.default_rng(7), scale=4.0
    )
    assert same.p_value == 1.0 and same.verdict == "no significant change" and same.mde == 0.0

    one = compare_paired_scores(
        "judge", [3.0], [2.0], settings=DEFAULT, rng=np.random.default_rng(7), scale=4.0
    )
    assert one.verdict == "inconclusive" and one.mde is None
    with pytest.raises(ValueError):
        compare_paired_scores("j", [], [], settings=DEFAULT, rng=np.random.default_rng(0))
    with pytest.raises(ValueError):
        compare_paired_scores(
            "j", [1.0], [1.0], settings=DEFAULT, rng=np.random.default_rng(0), scale=0.0
        )


def test_paired_scores_swap_symmetry() -> None:
    base, cand = _judge_scores(5, 80, 0.2)
    fwd = compare_paired_scores("j", base, cand, settings=DEFAULT, rng=np.random.default_rng(3))
    bwd = compare_paired_scores("j", cand, base, settings=DEFAULT, rng=np.random.default_rng(3))
    assert fwd.difference == pytest.approx(-bwd.difference)
    assert fwd.ci_low == pytest.approx(-bwd.ci_high)  # type: ignore[operator]
    assert fwd.p_value == pytest.approx(bwd.p_improvement)


# ---- unpaired ------------------------------------------------------------------


def test_unpaired_with_baseline_n() -> None:
    result = compare_unpaired("accuracy", 0.85, 500, 0.79, 500, settings=DEFAULT)
    z, p = smp.proportions_ztest([395, 425], [500, 500], alternative="smaller")
    assert result.p_value == pytest.approx(p, rel=1e-9)
    low, high = smp.confint_proportions_2indep(
        395, 500, 425, 500, method="newcomb", compare="diff", alpha=0.1
    )
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high))
    assert not result.paired and result.test == "two-proportion-score"
    assert result.verdict == "regressed"
    assert any("weaker" in n for n in result.notes)
    small = compare_unpaired("accuracy", 0.85, 100, 0.84, 100, settings=DEFAULT)
    assert small.verdict == "inconclusive" and small.n_needed is not None
    assert small.n_needed > 100


def test_unpaired_without_baseline_n() -> None:
    result = compare_unpaired("accuracy", 0.85, None, 0.78, 200, settings=DEFAULT)
    z, p = smp.proportions_ztest(156, 200, value=0.85, prop_var=0.85, alternative="smaller")
    assert result.p_value == pytest.approx(p, rel=1e-9)
    assert result.test == "one-sample-score-vs-fixed-baseline"
    assert result.verdict == "regressed"
    assert any("fixed reference" in n for n in result.notes)
    # Rates of 0 and 1.
    perfect = compare_unpaired("json_valid_rate", 1.0, None, 1.0, 50, settings=DEFAULT)
    assert perfect.difference == 0.0 and not perfect.regressed
    assert perfect.mde is not None  # a drop from 1.0 is detectable
    broken = compare_unpaired("json_valid_rate", 1.0, None, 0.9, 50, settings=DEFAULT)
    assert broken.p_value == 0.0 and broken.verdict == "regressed"
    zero = compare_unpaired(
        "harmful_rate", 0.0, 100, 0.0, 100, settings=DEFAULT, higher_is_better=False
    )
    assert not zero.regressed and math.isfinite(zero.p_value)
    with pytest.raises(ValueError):
        compare_unpaired("a", 1.2, None, 0.5, 10, settings=DEFAULT)
    with pytest.raises(ValueError):
        compare_unpaired("a", 0.5, None, 0.5, 0, settings=DEFAULT)


def test_unpaired_rounds_rates_to_counts_and_says_so() -> None:
    exact = compare_unpaired("a", 0.85, 200, 0.8, 200, settings=DEFAULT)
    assert not any("whole count" in n for n in exact.notes)
    rounded = compare_unpaired("a", 0.8533, 200, 0.8, 200, settings=DEFAULT)
    assert rounded.baseline == pytest.approx(171 / 200)
    assert any("rounded to 171" in n for n in rounded.notes)


def test_unpaired_is_weaker_than_paired() -> None:
    table = PairedTable(a=760, b=15, c=45, d=180)  # positively correlated outcomes
    paired = compare_paired_counts("a", table, settings=DEFAULT)
    unpaired = compare_unpaired(
        "a", paired.baseline, table.n, paired.current, table.n, settings=DEFAULT
    )
    assert paired.difference == pytest.approx(unpaired.difference)
    assert paired.ci_high - paired.ci_low < unpaired.ci_high - unpaired.ci_low  # type: ignore[operator]
    assert paired.p_value < unpaired.p_value


def test_comparison_serialises() -> None:
    result = compare_paired_counts("a", PairedTable(a=5, b=1, c=1, d=3), settings=DEFAULT)
    again = MetricComparison.model_validate_json(result.model_dump_json())
    assert again == result
    keys = set(result.model_dump())
    assert {
        "baseline",
        "current",
        "difference",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
        "test",
        "significant",
        "regressed",
        "verdict",
        "mde",
    } <= keys


# ---- exact error rates (enumeration over the paired table) -----------------------


def _exact_rate(n: int, p_b: float, p_c: float, rule: RegressionSettings, *, passes: bool) -> float:
    """P(rule regresses) (or P(rule passes)) when (b, c, rest) ~ Multinomial(n; p_b, p_c, .)."""
    total = 0.0
    for b in range(n + 1):
        for c in range(n + 1 - b):
            log_pmf = (
                math.lgamma(n + 1)
                - math.lgamma(b + 1)
                - math.lgamma(c + 1)
                - math.lgamma(n - b - c + 1)
                + b * math.log(p_b)
                + c * math.log(p_c)
                + (n - b - c) * math.log(1 - p_b - p_c)
            )
            if log_pmf < -35:
                continue
            # With the Tango interval the rule depends on (b, c, n) only.
            result = compare_paired_counts(
                "a", PairedTable(a=n - b - c, b=b, c=c, d=0), settings=rule
            )
            if result.regressed != passes:
                total += math.exp(log_pmf)
    return total


@pytest.mark.parametrize("discordant_each", [0.03, 0.064, 0.1])
def test_false_regression_rate_is_at_most_alpha(discordant_each: float) -> None:
    # True drop 0 (b and c equally likely), n = 100: the rule's false BLOCK rate.
    rate = _exact_rate(100, discordant_each, discordant_each, DEFAULT, passes=False)
    assert 0.0 < rate <= DEFAULT.alpha


def test_non_inferiority_false_pass_rate_is_at_most_alpha() -> None:
    # True drop equal to the margin (p_c - p_b = 0.05), n = 100: the false DEPLOY rate.
    rate = _exact_rate(100, 0.039, 0.089, NI, passes=True)
    assert 0.0 < rate <= NI.alpha
