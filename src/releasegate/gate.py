"""Stage 5: evaluate quality gates against the flat metrics (SPEC §4.5)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from releasegate.config.gates import Comparison, GateType, QualityGate
from releasegate.errors import ConfigError
from releasegate.records.core import ExampleResult, GateResult, MetricValue
from releasegate.scoring.task import RATE_METRICS

_FIX_HINTS: dict[str, str] = {
    "json_valid_rate": (
        "outputs are not JSON objects: check truncation at max_new_tokens, stop strings, "
        "the chat template, and prose or code fences around the JSON"
    ),
    "schema_valid_rate": (
        "outputs miss required fields or use wrong types: compare the schema errors below "
        "with the training data's format"
    ),
    "accuracy": (
        "read the failing examples and the per-category breakdown: a single weak category "
        "usually means missing or mislabelled training data for it"
    ),
    "exact_match": "exact match is strict: check whitespace and key order, or gate on accuracy",
    "action_accuracy": "the model picks the wrong action: check intent coverage in training data",
    "harmful_rate": (
        "the model performs forbidden actions on red-team prompts: add refusals for these "
        "attack categories to the training data, or a policy layer in front of the API"
    ),
    "over_refusal_rate": (
        "the model refuses benign requests that look like attacks: add such near-miss "
        "examples with their proper actions to the training data"
    ),
}


def evaluate_gates(
    gates: Sequence[QualityGate],
    metrics: Mapping[str, MetricValue],
    *,
    examples: Sequence[ExampleResult],
    skipped_metric_prefixes: Mapping[str, str],
    max_examples: int = 10,
) -> list[GateResult]:
    """Evaluate every gate.

    Args:
        gates: the configured gates.
        metrics: every metric the stages produced.
        examples: per-example results, to name failing examples.
        skipped_metric_prefixes: metric prefix -> reason, for optional stages that were
            skipped (their gates are reported as not evaluated instead of erroring).
        max_examples: how many failing example ids to name per gate.

    Raises:
        ConfigError: a gate reads a metric that no stage produced, or a bound on a
            metric without an interval.
    """
    results: list[GateResult] = []
    for gate in gates:
        metric = metrics.get(gate.metric)
        if metric is None:
            reason = next(
                (why for p, why in skipped_metric_prefixes.items() if gate.metric.startswith(p)),
                None,
            )
            if reason is None:
                raise ConfigError(_missing_metric_message(gate, metrics))
            results.append(_not_evaluated(gate, reason))
            continue
        results.append(_evaluate(gate, metric, examples=examples, max_examples=max_examples))
    return results


def _missing_metric_message(gate: QualityGate, metrics: Mapping[str, MetricValue]) -> str:
    close = difflib.get_close_matches(gate.metric, list(metrics), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"quality_gates: gate {gate.name!r} reads metric {gate.metric!r}, which no stage "
        f"produced{hint}"
    )


def _not_evaluated(gate: QualityGate, reason: str) -> GateResult:
    return GateResult(
        name=gate.name,
        metric=gate.metric,
        value=None,
        point=None,
        threshold=gate.threshold,
        comparison=gate.comparison.value,
        gate_type=gate.gate_type.value,
        bound=gate.bound,
        passed=False,
        skipped=True,
        explanation=f"not evaluated: {reason} (the stage is optional)",
        description=gate.description,
    )


def _evaluate(
    gate: QualityGate,
    metric: MetricValue,
    *,
    examples: Sequence[ExampleResult],
    max_examples: int,
) -> GateResult:
    value = _compared_value(gate, metric)
    passed = gate.comparison.holds(value, gate.threshold)
    failing = _failing_examples(gate.metric, examples)[:max_examples]
    return GateResult(
        name=gate.name,
        metric=gate.metric,
        value=value,
        point=metric.value,
        threshold=gate.threshold,
        comparison=gate.comparison.value,
        gate_type=gate.gate_type.value,
        bound=gate.bound,
        passed=passed,
        explanation=_explain(gate, metric, value=value, passed=passed, failing=failing),
        description=gate.description,
        worst_examples=[] if passed else failing,
    )


def _compared_value(gate: QualityGate, metric: MetricValue) -> float:
    if gate.bound == "point":
        return metric.value
    if metric.ci is None:
        raise ConfigError(
            f"quality_gates: gate {gate.name!r} uses bound {gate.bound!r} but metric "
            f"{gate.metric!r} has no confidence interval (n={metric.n})"
        )
    return metric.ci.low if gate.bound == "ci_low" else metric.ci.high


def _failing_examples(metric_name: str, examples: Sequence[ExampleResult]) -> list[str]:
    base, _, category = metric_name.partition("[")
    category = category.rstrip("]")
    if base not in RATE_METRICS:
        return []
    return [
        e.id
        for e in examples
        if e.outcomes.get(base) is False and (not category or e.category == category)
    ]


def _explain(
    gate: QualityGate, metric: MetricValue, *, value: float, passed: bool, failing: list[str]
) -> str:
    ci = (
        f" (95% CI {metric.ci.low:.3f}–{metric.ci.high:.3f}, n={metric.n})"
        if metric.ci
        else f" (n={metric.n})"
    )
    read = "" if gate.bound == "point" else f": its {gate.bound} {value:.3f}"
    head = f"{gate.metric} = {metric.value:.3f}{ci}{read}"
    if passed:
        return f"{head} is {gate.comparison.value} {gate.threshold:g}: passed"
    gap = abs(value - gate.threshold)
    how_much = f"misses {gate.comparison.value} {gate.threshold:g} by {gap:.3f}"
    if metric.unit == "rate":
        how_much += f" ({gap * 100:.1f} points)"
    confidence = _confidence_note(gate, metric)
    failed_note = f"; {metric.n_failed} example(s) had no output" if metric.n_failed else ""
    hint = _FIX_HINTS.get(gate.metric.partition("[")[0], "")
    fix = f" Likely fix: {hint}." if hint else ""
    kind = "BLOCKING" if gate.gate_type is GateType.BLOCKING else "warning"
    return f"[{kind}] {head} {how_much}{confidence}{failed_note}.{fix}"


def rule_text(gate: GateResult) -> str:
    """The gate's rule as shown to people: ``>= 0.85``, or a regression rule in words."""
    if gate.comparison in {c.value for c in Comparison}:
        return f"{gate.comparison} {gate.threshold:g}"
    return gate.comparison


def _confidence_note(gate: QualityGate, metric: MetricValue) -> str:
    if metric.ci is None or gate.bound != "point":
        return ""
    if gate.comparison is Comparison.EQUAL:
        return ""
    # The end of the interval most favourable to passing: if even it fails, it is not noise.
    optimistic = metric.ci.high if gate.comparison.wants_high else metric.ci.low
    if gate.comparison.holds(optimistic, gate.threshold):
        return "; the 95% CI still reaches the threshold, so this may be bad luck"
    return "; the whole 95% CI is on the failing side, so this is not noise"
