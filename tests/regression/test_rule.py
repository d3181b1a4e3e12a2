"""The per-metric regression rule: settings, verdicts, one procedure, planning, fallbacks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats as sps

from releasegate.config.regression import DEFAULT_METRICS, RegressionSettings
from releasegate.records.regression import MetricComparison
from releasegate.regression.family import MetricFacts, assign_roles
from releasegate.regression.rule import (
    assess_paired_counts,
    compare_paired_binary,
    compare_paired_counts,
    compare_paired_scores,
    compare_unpaired,
    decide_family,
)
from releasegate.stats import PairedTable
from releasegate.stats.paired_score import corrected_tango_interval, corrected_tango_p_value
from releasegate.stats.rule_power import paired_rule_probability, two_sample_rule_probability

DEFAULT = RegressionSettings()
NI = RegressionSettings(mode="non_inferiority")
EXAMPLE_CONFIG = Path(__file__).parents[2] / "examples" / "task-api" / "releasegate.yaml"


# ---- settings ----------------------------------------------------------------


def test_settings_defaults_and_validation() -> None:
    assert DEFAULT.mode == "significant_drop"
    assert DEFAULT.alpha == 0.05 and DEFAULT.threshold == -0.05
    assert DEFAULT.effective_margin == 0.05
    assert DEFAULT.metrics == list(DEFAULT_METRICS)
    assert (DEFAULT.correction, DEFAULT.primary, DEFAULT.multiplicity) == (0.5, "accuracy", "holm")
    assert DEFAULT.effective_detect_drop == pytest.approx(0.10)
    assert RegressionSettings(threshold=0.0).effective_detect_drop == 0.05
    assert RegressionSettings(detect_drop=0.07).effective_detect_drop == 0.07
    assert RegressionSettings(margin=0.02).effective_margin == 0.02
    assert "corrected score procedure" in DEFAULT.describe()
    assert "e-process" in RegressionSettings(anytime=True).describe()
    for bad in (
        {"alpha": 0.0},
        {"alpha": 0.6},
        {"threshold": 0.01},
        {"threshold": -1.5},
        {"margin": -0.1},
        {"power": 0.4},
        {"correction": -0.1},
        {"detect_drop": 0.0},
        {"metrics": []},
        {"metrics": ["accuracy", "accuracy"]},
        {"metrics": [" "]},
        {"safety_metrics": [" "]},
        {"mcnemar": "mid-p"},
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


def test_paired_binary_is_one_procedure() -> None:
    table = PairedTable(a=700, b=20, c=55, d=225)
    base, cand = _outcomes(table)
    result = compare_paired_binary("accuracy", base, cand, settings=DEFAULT)
    assert result == compare_paired_counts("accuracy", table, settings=DEFAULT)
    assert result.baseline == pytest.approx(0.755) and result.current == pytest.approx(0.72)
    assert result.difference == pytest.approx(-0.035)
    assert result.p_value == pytest.approx(corrected_tango_p_value(table, worse="less"))
    assert result.p_improvement == pytest.approx(corrected_tango_p_value(table, worse="greater"))
    interval = corrected_tango_interval(table, level=0.9, correction=0.5)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.ci_level == 0.9 and result.interval_method == "tango-score-cc0.5"
    assert result.test == "tango-score-cc0.5" and result.paired and result.role == "primary"
    # Significant, but a 3.5-point drop is within the 5-point threshold.
    assert result.significant and not result.regressed and result.ci_high < 0  # type: ignore[operator]
    assert result.verdict == "no significant change"
    assert any("within the threshold" in r for r in result.reasons)


def test_the_issue_cases() -> None:
    # n = 100, 13 right->wrong and 5 wrong->right: BLOCKs (p ~ 0.039, drop 8 points).
    block = compare_paired_counts("accuracy", PairedTable(a=77, b=5, c=13, d=5), settings=DEFAULT)
    assert block.regressed and block.p_value < 0.05 and block.ci_high < 0  # type: ignore[operator]
    # n = 50, 3 right->wrong, none back: neither the test nor the interval says "worse".
    small = compare_paired_counts("accuracy", PairedTable(a=42, b=0, c=3, d=5), settings=DEFAULT)
    assert not small.significant and small.ci_high > 0  # type: ignore[operator]
    assert small.verdict == "inconclusive"


def test_paired_binary_verdicts() -> None:
    regressed = compare_paired_counts("a", PairedTable(a=700, b=10, c=90, d=200), settings=DEFAULT)
    assert regressed.verdict == "regressed" and regressed.regressed and regressed.significant
    improved = compare_paired_counts("a", PairedTable(a=700, b=90, c=10, d=200), settings=DEFAULT)
    assert improved.verdict == "improved" and improved.improved and not improved.regressed
    small = compare_paired_counts("a", PairedTable(a=22, b=2, c=2, d=4), settings=DEFAULT)
    assert small.verdict == "inconclusive"
    assert small.mde is not None and small.mde > DEFAULT.effective_detect_drop
    assert small.n_needed is not None and small.n_needed > 30
    assert any("underpowered" in r for r in small.reasons)
    big = compare_paired_counts("a", PairedTable(a=1600, b=60, c=60, d=280), settings=DEFAULT)
    assert big.verdict == "no significant change"
    assert big.mde is not None and 0.05 < big.mde < DEFAULT.effective_detect_drop
    assert big.n_needed is not None and big.n_needed < 2000


def test_paired_binary_edge_cases() -> None:
    same = compare_paired_counts("a", PairedTable(a=80, b=0, c=0, d=20), settings=DEFAULT)
    assert same.difference == 0.0 and not same.significant and not same.regressed
    assert same.ci_low < 0 < same.ci_high  # type: ignore[operator]
    for table in (
        PairedTable(a=0, b=0, c=1, d=0),
        PairedTable(a=0, b=1, c=0, d=0),
        PairedTable(a=1, b=0, c=0, d=0),
    ):
        one = compare_paired_counts("a", table, settings=DEFAULT)
        assert one.n == 1 and one.verdict == "inconclusive" and not one.regressed
    all_wrong = compare_paired_counts("a", PairedTable(a=0, b=0, c=50, d=0), settings=DEFAULT)
    assert all_wrong.current == 0.0 and all_wrong.baseline == 1.0
    assert all_wrong.verdict == "regressed" and all_wrong.ci_low == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        compare_paired_counts("a", PairedTable(a=0, b=0, c=0, d=0), settings=DEFAULT)
    with pytest.raises(ValueError):
        compare_paired_binary("a", np.ones(3, bool), np.ones(4, bool), settings=DEFAULT)


def test_lower_is_better_metric() -> None:
    table = PairedTable(a=10, b=60, c=5, d=925)  # candidate first: b = candidate harmful only
    worse = compare_paired_counts("harmful_rate", table, settings=DEFAULT, higher_is_better=False)
    assert worse.difference == pytest.approx(0.055)
    assert worse.p_value == pytest.approx(corrected_tango_p_value(table, worse="greater"))
    assert worse.verdict == "regressed" and worse.regressed and worse.ci_low > 0  # type: ignore[operator]
    better = compare_paired_counts(
        "harmful_rate",
        PairedTable(a=10, b=5, c=60, d=925),
        settings=DEFAULT,
        higher_is_better=False,
    )
    assert better.verdict == "improved"


def test_non_inferiority_mode() -> None:
    passes = compare_paired_counts("a", PairedTable(a=1600, b=50, c=60, d=290), settings=NI)
    assert passes.ci_low > -0.05  # type: ignore[operator]
    assert not passes.regressed and passes.verdict == "no significant change"
    small = compare_paired_counts("a", PairedTable(a=40, b=3, c=4, d=3), settings=NI)
    assert small.regressed and small.verdict == "inconclusive"
    assert any("non-inferiority not shown" in r for r in small.reasons)
    drop = compare_paired_counts("a", PairedTable(a=700, b=10, c=90, d=200), settings=NI)
    assert drop.regressed and drop.verdict == "regressed"
    table = PairedTable(a=300, b=10, c=25, d=165)
    assert not compare_paired_counts("a", table, settings=DEFAULT).regressed
    strict = compare_paired_counts("a", table, settings=NI)
    assert strict.regressed and strict.ci_low <= -0.05  # type: ignore[operator]
    custom = RegressionSettings(mode="non_inferiority", margin=0.1)
    assert not compare_paired_counts("a", table, settings=custom).regressed


@st.composite
def tables(draw: st.DrawFn) -> PairedTable:
    a, b, c, d = (draw(st.integers(min_value=0, max_value=300)) for _ in range(4))
    if a + b + c + d == 0:
        a = 1
    return PairedTable(a=a, b=b, c=c, d=d)


@settings(max_examples=60, deadline=None)
@given(tables(), st.sampled_from([DEFAULT, NI, RegressionSettings(correction=1.0)]))
def test_paired_rule_invariants(table: PairedTable, rule: RegressionSettings) -> None:
    result = assess_paired_counts("a", table, settings=rule).decide(plan=False)
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low <= result.difference + 1e-12 <= result.ci_high + 2e-12
    # The decision is read off the interval, and the interval off the decision.
    assert result.significant == (result.ci_high < 0)
    if rule.mode == "significant_drop":
        assert result.regressed == (
            result.significant and result.difference < rule.threshold - 1e-12
        )
    else:
        assert result.regressed == (result.ci_low <= -rule.effective_margin)
    swapped = assess_paired_counts(
        "a", PairedTable(a=table.a, b=table.c, c=table.b, d=table.d), settings=rule
    ).decide(plan=False)
    assert swapped.difference == pytest.approx(-result.difference)
    assert swapped.ci_low == pytest.approx(-result.ci_high, abs=1e-7)
    assert swapped.p_value == pytest.approx(result.p_improvement, abs=1e-12)
    flipped = assess_paired_counts(
        "a",
        PairedTable(a=table.d, b=table.c, c=table.b, d=table.a),
        settings=rule,
        higher_is_better=False,
    ).decide(plan=False)
    assert flipped.p_value == pytest.approx(result.p_value, abs=1e-12)
    assert flipped.verdict == result.verdict and flipped.regressed == result.regressed


# ---- planning: the rule as applied ------------------------------------------------


@pytest.mark.parametrize(
    ("table", "mode"),
    [
        (PairedTable(a=80, b=6, c=6, d=8), "significant_drop"),
        (PairedTable(a=400, b=40, c=40, d=20), "significant_drop"),
        (PairedTable(a=160, b=3, c=3, d=34), "significant_drop"),
        (PairedTable(a=400, b=30, c=30, d=40), "non_inferiority"),
        (PairedTable(a=80, b=6, c=6, d=8), "non_inferiority"),
    ],
)
def test_power_at_n_needed_and_at_the_mde(table: PairedTable, mode: str) -> None:
    rule = RegressionSettings(mode=mode)  # type: ignore[arg-type]
    result = compare_paired_counts("a", table, settings=rule)
    psi = (table.b + table.c) / table.n
    assert result.mde is not None and result.n_needed is not None
    kwargs = dict(discordance=psi, alpha=0.05, mode=mode, threshold=-0.05, correction=0.5)
    if mode == "significant_drop":
        at_needed = paired_rule_probability(
            result.n_needed,
            drop=rule.effective_detect_drop,
            margin=0.05,
            **kwargs,  # type: ignore[arg-type]
        )
        at_mde = paired_rule_probability(table.n, drop=result.mde, margin=0.05, **kwargs)  # type: ignore[arg-type]
        # A true drop equal to the threshold is caught about half the time: never promised.
        at_threshold = paired_rule_probability(table.n, drop=0.05, margin=0.05, **kwargs)  # type: ignore[arg-type]
        assert at_threshold < 0.8 and result.mde > 0.05
    else:
        at_needed = paired_rule_probability(result.n_needed, drop=0.0, margin=0.05, **kwargs)  # type: ignore[arg-type]
        at_mde = paired_rule_probability(table.n, drop=0.0, margin=result.mde, **kwargs)  # type: ignore[arg-type]
    assert at_needed >= 0.8 and at_mde >= 0.8


def test_unpaired_power_at_n_needed() -> None:
    result = compare_unpaired("accuracy", 0.85, 200, 0.84, 200, settings=DEFAULT)
    assert result.n_needed is not None and result.mde is not None
    got = two_sample_rule_probability(
        result.n_needed,
        result.n_needed,
        p_reference=0.85,
        drop=0.10,
        alpha=0.05,
        mode="significant_drop",
        threshold=-0.05,
        margin=0.05,
        correction=0.5,
    )
    assert got >= 0.8


# ---- the family ----------------------------------------------------------------


def _example_settings() -> RegressionSettings:
    from releasegate.config.load import load_config

    return load_config(EXAMPLE_CONFIG).regression


def test_thirteen_versus_five_blocks_under_the_example_settings() -> None:
    rule = _example_settings()
    tables_ = {
        "accuracy": PairedTable(a=77, b=5, c=13, d=5),
        "json_valid_rate": PairedTable(a=100, b=0, c=0, d=0),
        "schema_valid_rate": PairedTable(a=99, b=0, c=0, d=1),
        "action_accuracy": PairedTable(a=85, b=4, c=8, d=3),
        "accuracy[relative_dates]": PairedTable(a=8, b=1, c=3, d=1),
    }
    assert set(tables_) == set(rule.metrics)
    assessments = [assess_paired_counts(n, t, settings=rule) for n, t in tables_.items()]
    roles = assign_roles([MetricFacts(n) for n in tables_], primary=rule.primary)
    assert roles["accuracy"] == "primary" and roles["accuracy[relative_dates]"] == "derived"
    decided = {c.name: c for c in decide_family(assessments, roles, settings=rule)}
    assert (
        decided["accuracy"].regressed
        and decided["accuracy"].p_adjusted == decided["accuracy"].p_value
    )
    # Under Holm over all five it would not have blocked.
    everyone = {n: "secondary" for n in tables_}
    holm = {c.name: c for c in decide_family(assessments, everyone, settings=rule)}  # type: ignore[arg-type]
    assert not holm["accuracy"].regressed


def test_roles() -> None:
    facts = [
        MetricFacts("accuracy"),
        MetricFacts("json_valid_rate"),
        MetricFacts("exact_match", duplicate_of="accuracy"),
        MetricFacts("accuracy[dates]"),
        MetricFacts("harmful_rate", is_safety=True),
        MetricFacts("judge_a"),
        MetricFacts("judge_overall", derived_from=("judge_a",)),
        MetricFacts("action_accuracy"),
        MetricFacts("other[x]"),
    ]
    roles = assign_roles(facts, primary="accuracy", safety=["action_accuracy"])
    assert roles == {
        "accuracy": "primary",
        "json_valid_rate": "secondary",
        "exact_match": "derived",
        "accuracy[dates]": "derived",
        "harmful_rate": "safety",
        "judge_a": "secondary",
        "judge_overall": "derived",
        "action_accuracy": "safety",
        "other[x]": "secondary",  # its parent is not compared
    }
    none = assign_roles(facts[:2], primary=None)
    assert set(none.values()) == {"secondary"}


def test_family_decisions_and_interval_levels() -> None:
    rule = DEFAULT
    tables_ = [
        PairedTable(a=700, b=30, c=70, d=200),
        PairedTable(a=700, b=40, c=100, d=160),
        PairedTable(a=400, b=20, c=33, d=47),
        PairedTable(a=400, b=30, c=30, d=40),
    ]
    names = [f"m{i}" for i in range(4)]
    assessments = [
        assess_paired_counts(n, t, settings=rule) for n, t in zip(names, tables_, strict=True)
    ]
    roles = {n: "secondary" for n in names}
    decided = decide_family(assessments, roles, settings=rule)  # type: ignore[arg-type]
    from statsmodels.stats.multitest import multipletests

    expected = multipletests([a.p_worse for a in assessments], method="holm")[1]
    assert [c.p_adjusted for c in decided] == pytest.approx(list(expected))
    for c in decided:
        # The interval is at the Holm step's level, so it agrees with the adjusted decision.
        assert c.significant == (c.ci_high < 0)  # type: ignore[operator]
        assert c.ci_level >= 0.9 and c.role == "secondary"
        assert any("Holm" in r for r in c.reasons)
    assert not decided[2].significant and assessments[2].p_worse < 0.05


# ---- paired scores -------------------------------------------------------------


def _judge_scores(seed: int, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 6, size=n).astype(float)
    noise = rng.choice([-1.0, 0.0, 0.0, 0.0, 1.0], size=n)
    cand = np.clip(base + noise + rng.binomial(1, abs(shift), size=n) * np.sign(shift), 1, 5)
    return base, cand


def test_paired_scores() -> None:
    base, cand = _judge_scores(1, 300, -0.4)
    result = compare_paired_scores("judge", base, cand, settings=DEFAULT, scale=4.0)
    ref = sps.ttest_rel(cand, base, alternative="less")
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    t_int = sps.ttest_rel(cand, base).confidence_interval(0.9)
    assert (result.ci_low, result.ci_high) == pytest.approx((t_int.low, t_int.high))
    assert result.threshold == pytest.approx(-0.2) and result.margin == pytest.approx(0.2)
    assert result.test == "paired-t" and result.interval_method == "paired-t"
    assert result.verdict == "regressed" and result.significant == (result.ci_high < 0)  # type: ignore[operator]
    wide = compare_paired_scores("judge", base, cand, settings=DEFAULT, scale=100.0)
    assert wide.significant and not wide.regressed


def test_zero_spread_scores_are_not_certain() -> None:
    two = compare_paired_scores("judge", [4.0, 4.0], [4.0, 4.0], settings=DEFAULT, scale=4.0)
    assert two.verdict == "inconclusive" and two.mde is not None and two.mde > 0.4
    assert two.ci_low < -0.4 and two.ci_high > 0.4  # type: ignore[operator]
    many = compare_paired_scores("judge", [3.0] * 400, [3.0] * 400, settings=DEFAULT, scale=4.0)
    assert many.verdict == "no significant change" and many.mde is not None and many.mde > 0
    drop = compare_paired_scores("judge", [4.0] * 3, [3.0] * 3, settings=DEFAULT, scale=4.0)
    assert math.isfinite(drop.p_value) and drop.ci_high < drop.ci_low + 10  # type: ignore[operator]
    with pytest.raises(ValueError):
        compare_paired_scores("j", [1.0], [1.0], settings=DEFAULT)
    with pytest.raises(ValueError):
        compare_paired_scores("j", [1.0, 2.0], [1.0, 2.0], settings=DEFAULT, scale=0.0)


# ---- unpaired ------------------------------------------------------------------


def test_unpaired_with_and_without_baseline_n() -> None:
    known = compare_unpaired("accuracy", 0.85, 500, 0.79, 500, settings=DEFAULT)
    assert not known.paired and known.test == "score-fm-cc0.5"
    assert known.verdict == "regressed" and known.ci_high < 0  # type: ignore[operator]
    assert any("weaker" in n for n in known.notes)
    unknown = compare_unpaired("accuracy", 0.85, None, 0.79, 500, settings=DEFAULT)
    assert unknown.p_value == pytest.approx(known.p_value)
    assert any("assumed to come from 500 items" in n for n in unknown.notes)
    small = compare_unpaired("accuracy", 0.85, 100, 0.84, 100, settings=DEFAULT)
    assert small.verdict == "inconclusive" and small.n_needed is not None
    assert small.n_needed > 100
    perfect = compare_unpaired("json_valid_rate", 1.0, None, 1.0, 50, settings=DEFAULT)
    assert perfect.difference == 0.0 and not perfect.regressed
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
    table = PairedTable(a=760, b=15, c=45, d=180)
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
