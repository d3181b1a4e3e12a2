"""Quality gates: compare each gated metric with its threshold, read off its declaration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from releasegate.config.gates import QualityGate
from releasegate.enums import Bound, Comparison, GateType
from releasegate.errors import ConfigError
from releasegate.metrics import MetricCatalog, MetricKey, MetricSpec
from releasegate.records.core import ExampleResult, GateResult, MetricValue


def evaluate_gates(
    gates: Sequence[QualityGate],
    metrics: Mapping[str, MetricValue],
    *,
    catalog: MetricCatalog,
    examples: Sequence[ExampleResult],
    unavailable: Mapping[str, str],
    max_examples: int = 10,
) -> list[GateResult]:
    """Evaluate every gate.

    Args:
        gates: The configured gates (already checked against ``catalog``).
        metrics: Every metric the stages produced.
        catalog: The declarations of every metric the run could produce.
        examples: Per-example results, to name failing examples.
        unavailable: Stage name -> why its findings are missing, for optional stages
            that were skipped or failed: their gates are reported as not evaluated.
        max_examples: How many failing example ids to name per gate.

    Raises:
        ConfigError: a gate reads a metric that its stage should have produced but did
            not, or a bound of a metric that has no interval.
    """
    results: list[GateResult] = []
    for gate in gates:
        key = MetricKey.parse(gate.metric)
        spec = catalog.spec_for(key)
        metric = metrics.get(gate.metric)
        if metric is None or spec is None:
            reason = unavailable.get(spec.stage) if spec is not None else None
            if reason is None:
                raise ConfigError(_missing_metric_message(gate, spec))
            results.append(_not_evaluated(gate, reason))
            continue
        results.append(
            _evaluate(gate, metric, spec, key=key, examples=examples, max_examples=max_examples)
        )
    return results


def _missing_metric_message(gate: QualityGate, spec: MetricSpec | None) -> str:
    if spec is None:
        return f"quality_gates: gate {gate.name!r} reads metric {gate.metric!r}, which is unknown"
    return (
        f"quality_gates: gate {gate.name!r} reads {gate.metric!r}, which the {spec.stage} "
        "stage did not produce (no example it applies to, or no category of that name)"
    )


def _not_evaluated(gate: QualityGate, reason: str) -> GateResult:
    return GateResult(
        name=gate.name,
        metric=gate.metric,
        value=None,
        point=None,
        threshold=gate.threshold,
        comparison=gate.comparison,
        rule=quality_rule(gate.comparison, gate.threshold),
        gate_type=gate.gate_type,
        bound=gate.bound,
        passed=False,
        evaluated=False,
        explanation=f"NOT EVALUATED: {reason} (the stage is optional)",
        description=gate.description,
    )


def _evaluate(
    gate: QualityGate,
    metric: MetricValue,
    spec: MetricSpec,
    *,
    key: MetricKey,
    examples: Sequence[ExampleResult],
    max_examples: int,
) -> GateResult:
    value = _compared_value(gate, metric)
    passed = gate.comparison.holds(value, gate.threshold)
    failing = _failing_examples(spec, key, examples)[:max_examples]
    return GateResult(
        name=gate.name,
        metric=gate.metric,
        value=value,
        point=metric.value,
        threshold=gate.threshold,
        comparison=gate.comparison,
        rule=quality_rule(gate.comparison, gate.threshold),
        gate_type=gate.gate_type,
        bound=gate.bound,
        passed=passed,
        explanation=_explain(gate, metric, spec, value=value, passed=passed),
        description=gate.description,
        worst_examples=[] if passed else failing,
    )


def quality_rule(comparison: Comparison, threshold: float) -> str:
    """A quality gate's rule as people read it: ``>= 0.85``."""
    return f"{comparison.value} {threshold:g}"


def _compared_value(gate: QualityGate, metric: MetricValue) -> float:
    if gate.bound is Bound.POINT:
        return metric.value
    if metric.ci is None:
        raise ConfigError(
            f"quality_gates: gate {gate.name!r} uses bound {gate.bound.value!r} but metric "
            f"{gate.metric!r} has no confidence interval (n={metric.n})"
        )
    return metric.ci.low if gate.bound is Bound.CI_LOW else metric.ci.high


def _failing_examples(
    spec: MetricSpec, key: MetricKey, examples: Sequence[ExampleResult]
) -> list[str]:
    outcome = spec.outcome_key
    if outcome is None:
        return []
    return [
        e.id
        for e in examples
        if e.outcomes.get(outcome) is False and (key.category is None or e.category == key.category)
    ]


def _explain(
    gate: QualityGate, metric: MetricValue, spec: MetricSpec, *, value: float, passed: bool
) -> str:
    ci = (
        f" (95% CI {metric.ci.low:.3f}–{metric.ci.high:.3f}, n={metric.n})"
        if metric.ci
        else f" (n={metric.n})"
    )
    read = "" if gate.bound is Bound.POINT else f": its {gate.bound.value} {value:.3f}"
    head = f"{gate.metric} = {metric.value:.3f}{ci}{read}"
    if passed:
        return f"{head} is {gate.comparison.value} {gate.threshold:g}: passed"
    gap = abs(value - gate.threshold)
    how_much = f"misses {gate.comparison.value} {gate.threshold:g} by {gap:.3f}"
    if spec.unit == "rate":
        how_much += f" ({gap * 100:.1f} points)"
    confidence = _confidence_note(gate, metric)
    failed_note = f"; {metric.n_failed} example(s) had no output" if metric.n_failed else ""
    fix = f" Likely fix: {spec.fix_hint}." if spec.fix_hint else ""
    kind = "BLOCKING" if gate.gate_type is GateType.BLOCKING else "warning"
    return f"[{kind}] {head} {how_much}{confidence}{failed_note}.{fix}"


def _confidence_note(gate: QualityGate, metric: MetricValue) -> str:
    if metric.ci is None or gate.bound is not Bound.POINT:
        return ""
    if gate.comparison is Comparison.EQUAL:
        return ""
    # The end of the interval most favourable to passing: if even it fails, it is not noise.
    optimistic = metric.ci.high if gate.comparison.wants_high else metric.ci.low
    if gate.comparison.holds(optimistic, gate.threshold):
        return "; the 95% CI still reaches the threshold, so this may be bad luck"
    return "; the whole 95% CI is on the failing side, so this is not noise"
