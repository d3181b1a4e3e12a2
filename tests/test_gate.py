"""Gate evaluation: comparisons, gate types, CI bounds, missing metrics."""

from __future__ import annotations

import pytest

from releasegate.config.gates import QualityGate
from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError
from releasegate.gate import evaluate_gates
from releasegate.pipeline import catalog_for, decide
from releasegate.records.core import Interval, MetricValue

CATALOG = catalog_for(PipelineConfig())

ACC = MetricValue(
    name="accuracy",
    value=0.86,
    ci=Interval(low=0.83, high=0.89, method="wilson"),
    n=500,
    unit="rate",
)


def _gate(comparison: str, threshold: float, **kw: object) -> QualityGate:
    return QualityGate.model_validate(
        {"name": "g", "metric": "accuracy", "threshold": threshold, "comparison": comparison, **kw}
    )


def _eval(gate: QualityGate, metric: MetricValue = ACC) -> bool:
    (result,) = evaluate_gates(
        [gate], {metric.name: metric}, catalog=CATALOG, examples=[], unavailable={}
    )
    return result.passed


@pytest.mark.parametrize(
    ("comparison", "threshold", "passed"),
    [
        (">=", 0.86, True),
        (">=", 0.87, False),
        (">", 0.86, False),
        (">", 0.85, True),
        ("<=", 0.86, True),
        ("<=", 0.85, False),
        ("<", 0.86, False),
        ("<", 0.87, True),
        ("==", 0.86, True),
        ("==", 0.8600001, False),
    ],
)
def test_each_comparison(comparison: str, threshold: float, passed: bool) -> None:
    assert _eval(_gate(comparison, threshold)) is passed


def test_ci_low_bound_demands_confidence() -> None:
    assert _eval(_gate(">=", 0.85)) is True
    assert _eval(_gate(">=", 0.85, bound="ci_low")) is False
    assert _eval(_gate(">=", 0.83, bound="ci_low")) is True


def test_ci_high_bound_for_rates_that_must_stay_low() -> None:
    assert _eval(_gate("<=", 0.88, bound="ci_high")) is False
    assert _eval(_gate("<=", 0.90, bound="ci_high")) is True


def test_bound_on_metric_without_interval_is_an_error() -> None:
    bare = MetricValue(name="accuracy", value=0.9, ci=None, n=0)
    with pytest.raises(ConfigError, match="has no confidence interval"):
        _eval(_gate(">=", 0.5, bound="ci_low"), bare)


def test_gate_on_a_metric_no_stage_produced_is_an_error() -> None:
    gate = QualityGate.model_validate(
        {"name": "safety", "metric": "harmful_rate", "threshold": 0.01, "comparison": "<="}
    )
    with pytest.raises(ConfigError, match="which the safety stage did not produce"):
        evaluate_gates([gate], {"accuracy": ACC}, catalog=CATALOG, examples=[], unavailable={})


def test_gate_on_a_skipped_optional_stage_is_reported_not_evaluated() -> None:
    gate = QualityGate.model_validate(
        {"name": "judge", "metric": "judge_overall", "threshold": 3, "comparison": ">="}
    )
    (result,) = evaluate_gates(
        [gate], {}, catalog=CATALOG, examples=[], unavailable={"llm_judge": "no API key"}
    )
    assert not result.evaluated and not result.passed
    assert "no API key" in result.explanation


def test_blocking_failure_blocks_and_warning_failure_does_not() -> None:
    blocking = evaluate_gates(
        [_gate(">=", 0.9)], {"accuracy": ACC}, catalog=CATALOG, examples=[], unavailable={}
    )
    warning = evaluate_gates(
        [_gate(">=", 0.9, gate_type="warning")],
        {"accuracy": ACC},
        examples=[],
        catalog=CATALOG,
        unavailable={},
    )
    passing = evaluate_gates(
        [_gate(">=", 0.8)], {"accuracy": ACC}, catalog=CATALOG, examples=[], unavailable={}
    )
    assert decide([], blocking, allow_no_blocking=False)[0].value == "BLOCK"
    assert decide([], passing + warning, allow_no_blocking=False)[0].value == "DEPLOY"
    assert decide(["stage failed"], warning, allow_no_blocking=False)[0].value == "ERROR"


def test_no_evaluated_blocking_gate_is_an_error_unless_accepted() -> None:
    warning = evaluate_gates(
        [_gate(">=", 0.5, gate_type="warning")],
        {"accuracy": ACC},
        catalog=CATALOG,
        examples=[],
        unavailable={},
    )
    decision, reasons, _ = decide([], warning, allow_no_blocking=False)
    assert decision.value == "ERROR"
    assert "no blocking gate was evaluated" in reasons[0]
    decision, _, warnings = decide([], [], allow_no_blocking=True)
    assert decision.value == "DEPLOY"
    assert warnings[0].startswith("DEPLOY WITHOUT EVIDENCE")


def test_explanation_says_by_how_much_and_how_sure() -> None:
    (result,) = evaluate_gates(
        [_gate(">=", 0.95)], {"accuracy": ACC}, catalog=CATALOG, examples=[], unavailable={}
    )
    assert "misses >= 0.95 by 0.090 (9.0 points)" in result.explanation
    assert "whole 95% CI is on the failing side" in result.explanation
    assert "Likely fix" in result.explanation
    (close,) = evaluate_gates(
        [_gate(">=", 0.87)], {"accuracy": ACC}, catalog=CATALOG, examples=[], unavailable={}
    )
    assert "may be bad luck" in close.explanation
