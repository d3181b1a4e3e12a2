"""Stage: automated metrics per example, aggregated with intervals, overall and per category."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from releasegate.backends.base import Generation
from releasegate.benchmark.model import Example
from releasegate.config.schema import PipelineConfig
from releasegate.metrics import RATE, Direction, Kind, MetricSpec, Need
from releasegate.records.core import ExampleResult, PipelineStatus, StageResult
from releasegate.scoring.aggregate import (
    aggregate,
    error_metric_name,
    error_rates,
    error_type_notes,
)
from releasegate.scoring.repeats import PASS_K_OUTCOME, pass_k_metrics
from releasegate.scoring.task import ExampleScore, score_example
from releasegate.scoring.toolcalls import ERROR_TYPES
from releasegate.stages.base import Evidence, RunInputs

NAME = "automated_metrics"


def _rate(name: str, description: str, fix_hint: str, needs: tuple[Need, ...] = ()) -> MetricSpec:
    return MetricSpec(
        name=name,
        description=description,
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.BINARY,
        stage=NAME,
        per_category=True,
        has_interval=True,
        needs=needs,
        outcome_key=name,
        fix_hint=fix_hint,
    )


def _field(name: str, description: str) -> MetricSpec:
    return MetricSpec(
        name=name,
        description=description,
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        per_category=True,
        has_interval=True,
        needs=(Need.EXPECTED_OBJECT,),
        fix_hint="compare the failing examples' arguments with the expected ones",
    )


METRICS: tuple[MetricSpec, ...] = (
    _rate(
        "accuracy",
        "Output and expected output are equal as canonical JSON (key order and "
        "whitespace do not matter); string equality when the expected output is not JSON.",
        "read the failing examples and the per-category breakdown: a single weak category "
        "usually means missing or mislabelled training data for it",
    ),
    _rate(
        "exact_match",
        "The stripped output equals the stripped expected output.",
        "exact match is strict: check whitespace and key order, or gate on accuracy",
    ),
    _rate(
        "json_valid_rate",
        "The output parses as a JSON object (arrays, strings and numbers do not count).",
        "outputs are not JSON objects: check truncation at max_new_tokens, stop strings, "
        "the chat template, and prose or code fences around the JSON",
    ),
    _rate(
        "schema_valid_rate",
        "The output is a JSON object that validates against the configured JSON Schema.",
        "outputs miss required fields or use wrong types: compare the schema errors below "
        "with the training data's format",
    ),
    _rate(
        "action_accuracy",
        "The output's `action` equals the expected action.",
        "the model picks the wrong action: check intent coverage in training data",
        needs=(Need.EXPECTED_ACTION,),
    ),
    _field("field_precision", "Share of predicted arguments that are expected (micro-averaged)."),
    _field("field_recall", "Share of expected arguments that are predicted (micro-averaged)."),
    _field("field_f1", "Harmonic mean of field precision and recall (micro-averaged)."),
)

_ERROR_MEANING = {
    "no_output": "the backend produced no output",
    "unparseable": "the output is not a call in the canonical form",
    "wrong_count": "more or fewer calls than expected",
    "wrong_function": "a call names another function",
    "missing_required_argument": "a non-optional argument is missing",
    "unexpected_argument": "a call passes an argument the expected call does not have",
    "wrong_type": "an argument has a type neither the schema nor any acceptable value has",
    "wrong_value": "an argument has the right type but no acceptable value",
}
_ERROR_HINTS = {
    "no_output": "see the generation stage's errors",
    "unparseable": "check prose or truncation around the JSON, or try model.tool_calls: native",
    "wrong_count": "the model splits or merges calls: add parallel-call training examples",
    "wrong_function": "the model calls the wrong (or an invented) function: check the "
    "functions offered in the prompt and intent coverage in training data",
    "missing_required_argument": "the model drops arguments: check truncation and training "
    "examples that use every required argument",
    "unexpected_argument": "the model invents arguments: offer the function schemas in the "
    "prompt, or mark the argument optional in the benchmark if it is acceptable",
    "wrong_type": "compare the arguments' types with the functions' schemas",
    "wrong_value": "read the failing examples' error_detail; if the value is acceptable, add "
    "it to the example's alternatives or loosen the comparison policy",
}


def _error_rate(error_type: str) -> MetricSpec:
    return MetricSpec(
        name=error_metric_name(error_type),
        description=f"Share of examples compared as function calls whose error type is "
        f"`{error_type}`: {_ERROR_MEANING[error_type]} (docs/tool-calls.md).",
        range=RATE,
        direction=Direction.LOWER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        per_category=True,
        has_interval=True,
        needs=(Need.EXPECTED_ACTION,),
        fix_hint=_ERROR_HINTS[error_type],
    )


ERROR_METRICS: tuple[MetricSpec, ...] = tuple(_error_rate(t) for t in ERROR_TYPES)
"""``error_rate_TYPE`` per tool-call error type (and ``[category]``)."""


def _pass_k(name: str, description: str) -> MetricSpec:
    return MetricSpec(
        name=name,
        description=description,
        range=RATE,
        direction=Direction.HIGHER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        per_category=True,
        has_interval=True,
        needs=(Need.REPEATS,),
        derived_from=(PASS_K_OUTCOME,),
        fix_hint="read the examples whose draws disagree: the model is right only sometimes "
        "on them (lower the temperature, or add training data for them)",
    )


REPEAT_METRICS: tuple[MetricSpec, ...] = (
    _pass_k(
        "pass_at_k",
        "pass@k over the k = `generation.repeats` draws of each example: the chance that "
        "at least one of k draws is accurate (unbiased estimator 1 - C(n-c,k)/C(n,k) per "
        "example, n draws of which c accurate), averaged over examples.",
    ),
    _pass_k(
        "pass_hat_k",
        "pass^k over the k = `generation.repeats` draws of each example: the chance that "
        "all k draws are accurate (unbiased estimator C(c,k)/C(n,k) per example), "
        "averaged over examples; the reliability figure.",
    ),
)
"""pass@k and pass^k of ``accuracy`` (with ``generation.repeats`` > 1 only)."""

RATE_METRIC_NAMES = tuple(s.name for s in METRICS if s.kind is Kind.BINARY)


class AutomatedMetricsStage:
    """Scores every output against its expected output (no model, deterministic)."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """The rate, field and tool-call error-rate metrics."""
        return METRICS + ERROR_METRICS + REPEAT_METRICS

    def optional(self, config: PipelineConfig) -> bool:
        """Never: these are the headline metrics."""
        return False

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Runs whenever generation produced outputs."""
        return None if evidence.generations else "generation produced no outputs"

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Score, then aggregate with Wilson (rates) and bootstrap (fields) intervals."""
        strip = inputs.config.metrics.strip_code_fences
        generations = evidence.generations
        examples = [
            _with_draws(
                _example_result(
                    e,
                    generations[e.id],
                    score_example(
                        e,
                        generations[e.id].text,
                        schema=inputs.schema,
                        strip_code_fences=strip,
                    ),
                ),
                e,
                evidence.draws.get(e.id, ()),
                inputs,
            )
            for e in inputs.benchmark.examples
        ]
        evidence.examples = examples
        metrics = aggregate(
            examples,
            rate_metrics=RATE_METRIC_NAMES,
            rng=np.random.default_rng(inputs.config.seed),
        )
        metrics.update(error_rates(examples))
        repeats = inputs.config.generation.repeats
        notes: list[str] = []
        if repeats > 1:
            metrics.update(pass_k_metrics(examples, key=PASS_K_OUTCOME, k=repeats))
            notes.append(
                f"{repeats} draws per example: rates are means over all draws (intervals "
                f"clustered by example); pass_at_k and pass_hat_k are pass@{repeats} and "
                f"pass^{repeats} of {PASS_K_OUTCOME}"
            )
        failed = sum(1 for e in examples if e.output is None)
        if failed:
            notes.append(f"{failed} example(s) had no output and count as failures")
        notes += error_type_notes(examples)
        return StageResult(name=NAME, status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes)


def _with_draws(
    result: ExampleResult, example: Example, draws: Sequence[Generation], inputs: RunInputs
) -> ExampleResult:
    """Add every draw's outcomes (and the later draws' outputs) when there are several."""
    if len(draws) < 2:
        return result
    strip = inputs.config.metrics.strip_code_fences
    later = [
        score_example(example, g.text, schema=inputs.schema, strip_code_fences=strip)
        for g in draws[1:]
    ]
    outcomes = [result.outcomes, *(score.outcomes for score in later)]
    return result.model_copy(
        update={
            "draw_outcomes": {key: [o.get(key) for o in outcomes] for key in result.outcomes},
            "draw_outputs": [g.text for g in draws[1:]],
        }
    )


def _example_result(example: Example, generation: Generation, score: ExampleScore) -> ExampleResult:
    fields = score.fields
    return ExampleResult(
        id=example.id,
        category=example.category,
        input_hash=example.input_hash,
        input=example.input_text,
        expected_output=example.expected_output,
        output=generation.text,
        error=generation.error,
        outcomes=score.outcomes,
        field_tp=None if fields is None else fields.tp,
        field_predicted=None if fields is None else fields.predicted,
        field_expected=None if fields is None else fields.expected,
        parse_error=score.parse_error,
        schema_error=score.schema_error,
        error_type=score.error_type,
        error_detail=score.error_detail,
        calls_scored=score.calls_scored,
        truncated=generation.finish_reason == "truncated_by_releasegate",
        latency_s=generation.latency_s,
        tokens_in=generation.tokens_in,
        tokens_out=generation.tokens_out,
        finish_reason=generation.finish_reason,
    )
