"""Per-example automated metrics for JSON-action outputs.

Definitions (documented in docs/metrics.md):

- ``exact_match``: ``output.strip() == expected.strip()``.
- ``json_valid``: the output parses as a JSON *object* (arrays, strings, numbers do
  not count). With ``strip_code_fences`` one wrapping Markdown fence is removed first.
- ``accuracy``: when the expected output is JSON, both sides parse and are equal as
  canonical JSON (key order, whitespace and ``1`` vs ``1.0`` do not matter; ``true``
  and ``1`` differ); otherwise stripped string equality.
- ``schema_valid``: the parsed object validates against the configured JSON Schema.
- ``action_correct``: the output's ``action`` equals ``expected_action`` (or the
  expected object's ``action``); not applicable when neither is known.
- field counts: the arguments (every key but ``action``, nested objects flattened to
  dotted paths) as true positives / predicted / expected, for micro precision,
  recall and F1.

Examples with ``expected_calls`` are scored as function calls instead (see
``releasegate.scoring.toolcalls`` and docs/tool-calls.md): ``accuracy`` means every
call matches one of its acceptable answers, ``action_accuracy`` that the called
function names match, field counts are over top-level arguments (an extra argument
is a false positive, a missing required one a false negative), ``json_valid`` also
accepts an array of calls, and ``schema_valid`` checks each call against the
example's own ``functions`` when it has them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from releasegate.benchmark.model import Example, ToolCalls
from releasegate.scoring.schema import OutputSchema, function_schema_error
from releasegate.scoring.toolcalls import (
    Call,
    CallsVerdict,
    expected_calls_of,
    read_calls,
    score_calls,
)

_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\n(?P<body>.*?)\n?```\Z", re.DOTALL)


@dataclass(frozen=True)
class Parsed:
    """An output parsed as JSON: ``value`` is set only when it parsed."""

    ok: bool
    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class FieldCounts:
    """Argument-level true positives, predicted and expected field counts."""

    tp: int
    predicted: int
    expected: int


@dataclass(frozen=True)
class ExampleScore:
    """All automated outcomes of one example."""

    outcomes: dict[str, bool | None]
    """Per rate metric name (``accuracy``, ...): pass/fail, or None when not applicable."""
    fields: FieldCounts | None
    """None when the expected output is not a JSON object."""
    parse_error: str | None = None
    schema_error: str | None = None
    error_type: str | None = None
    """One of ``toolcalls.ERROR_TYPES`` when scored as calls and wrong; None otherwise."""
    error_detail: str | None = None
    calls_scored: bool = False
    """The example was compared as function calls (it has an error type when wrong)."""


def strip_fence(text: str) -> str:
    """Remove one Markdown code fence wrapping the whole text, if there is one."""
    stripped = text.strip()
    match = _FENCE.match(stripped)
    return match.group("body").strip() if match else stripped


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str, *, strip_code_fences: bool) -> Parsed:
    """Parse strict JSON (no NaN/Infinity), optionally inside one code fence."""
    candidate = strip_fence(text) if strip_code_fences else text.strip()
    try:
        return Parsed(ok=True, value=json.loads(candidate, parse_constant=_reject_constant))
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        return Parsed(ok=False, error=str(exc)[:200])


def canonical(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, integral numbers as floats."""
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def flatten_arguments(obj: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every argument (all keys but top-level ``action``) as dotted path -> canonical value."""
    flat: dict[str, str] = {}
    for key, value in obj.items():
        if not prefix and key == "action":
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_arguments(value, prefix=f"{path}."))
        else:
            flat[path] = canonical(value)
    return flat


def score_example(
    example: Example,
    output: str | None,
    *,
    schema: OutputSchema,
    strip_code_fences: bool = True,
) -> ExampleScore:
    """Score one output against its example; ``None`` output fails every metric.

    Examples with ``expected_calls`` are scored as function calls with alternatives
    (``releasegate.scoring.toolcalls``); a single expected action object also gets an
    error type, while its accuracy stays canonical JSON equality.
    """
    expected = parse_json(example.expected_output, strip_code_fences=False)
    expected_obj = expected.value if expected.ok and isinstance(expected.value, dict) else None
    expected_action = example.expected_action
    if expected_action is None and expected_obj is not None:
        raw_action = expected_obj.get("action")
        expected_action = raw_action if isinstance(raw_action, str) else None
    expected_calls = expected_calls_of(example, expected.value if expected.ok else None)
    tool_mode = example.expected_calls is not None
    if output is None:
        return _no_output(example, expected_obj, expected_action, expected_calls)

    parsed = parse_json(output, strip_code_fences=strip_code_fences)
    obj = parsed.value if parsed.ok and isinstance(parsed.value, dict) else None
    calls = read_calls(parsed.value) if parsed.ok else None
    if tool_mode:
        obj_or_calls = calls is not None or obj is not None
    else:
        obj_or_calls = obj is not None
        # canonical JSON equality reads only the action form
        calls = read_calls(obj) if obj is not None and isinstance(obj.get("action"), str) else None
    verdict = (
        None if expected_calls is None else score_calls(expected_calls, calls, example.functions)
    )

    if tool_mode and verdict is not None:
        correct = verdict.correct
    elif expected.ok:
        correct = parsed.ok and canonical(parsed.value) == canonical(expected.value)
    else:
        correct = output.strip() == example.expected_output.strip()

    schema_error = _schema_error(example, parsed, obj, calls, schema)
    parse_error = parsed.error
    if parsed.ok and not obj_or_calls:
        parse_error = f"parsed as JSON {type(parsed.value).__name__}, not an object"

    action_ok: bool | None = None
    if tool_mode and verdict is not None:
        action_ok = verdict.names_correct
    elif expected_action is not None:
        action_ok = obj is not None and obj.get("action") == expected_action

    fields = None
    if tool_mode and verdict is not None:
        fields = FieldCounts(tp=verdict.tp, predicted=verdict.predicted, expected=verdict.expected)
    elif expected_obj is not None:
        expected_fields = flatten_arguments(expected_obj)
        predicted = flatten_arguments(obj) if obj is not None else {}
        tp = sum(1 for k, v in predicted.items() if expected_fields.get(k) == v)
        fields = FieldCounts(tp=tp, predicted=len(predicted), expected=len(expected_fields))

    error_type, error_detail = _error_type(verdict, correct)
    return ExampleScore(
        outcomes={
            "exact_match": output.strip() == example.expected_output.strip(),
            "json_valid_rate": obj_or_calls,
            "accuracy": correct,
            "schema_valid_rate": obj_or_calls and schema_error is None,
            "action_accuracy": action_ok,
        },
        fields=fields,
        parse_error=parse_error,
        schema_error=schema_error,
        error_type=error_type,
        error_detail=error_detail,
        calls_scored=verdict is not None,
    )


def _error_type(verdict: CallsVerdict | None, correct: bool) -> tuple[str | None, str | None]:
    if verdict is None or correct:
        return None, None
    if verdict.error_type is None:
        # Equal as calls but not as canonical JSON (cannot happen for the action form).
        return "wrong_value", "the output differs from the expected JSON"
    return verdict.error_type, verdict.detail


def _no_output(
    example: Example,
    expected_obj: dict[str, Any] | None,
    expected_action: str | None,
    expected_calls: ToolCalls | None,
) -> ExampleScore:
    fields = None
    if example.expected_calls is not None:
        required = sum(
            1 for c in example.expected_calls.calls for a in c.arguments if a not in c.optional
        )
        fields = FieldCounts(0, 0, required)
    elif expected_obj is not None:
        fields = FieldCounts(0, 0, len(flatten_arguments(expected_obj)))
    tool_mode = example.expected_calls is not None
    return ExampleScore(
        outcomes={
            "exact_match": False,
            "json_valid_rate": False,
            "accuracy": False,
            "schema_valid_rate": False,
            "action_accuracy": False if tool_mode or expected_action is not None else None,
        },
        fields=fields,
        parse_error="no output",
        error_type=None if expected_calls is None else "no_output",
        error_detail=None if expected_calls is None else "no output",
        calls_scored=expected_calls is not None,
    )


def _schema_error(
    example: Example,
    parsed: Parsed,
    obj: dict[str, Any] | None,
    calls: list[Call] | None,
    schema: OutputSchema,
) -> str | None:
    if example.functions:
        if calls is None:
            return None if not parsed.ok else "(root): not a call in the canonical form"
        return function_schema_error(calls, example.functions)
    targets: list[Any] = [obj] if obj is not None else []
    if obj is None and example.expected_calls is not None and isinstance(parsed.value, list):
        targets = list(parsed.value)
    for target in targets:
        error = schema.first_error(target)
        if error is not None:
            return error
    return None
