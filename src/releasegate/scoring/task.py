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
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jsonschema.protocols import Validator

from releasegate.benchmark.model import Example

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
    validator: Validator,
    strip_code_fences: bool = True,
) -> ExampleScore:
    """Score one output against its example; ``None`` output fails every metric."""
    expected = parse_json(example.expected_output, strip_code_fences=False)
    expected_obj = expected.value if expected.ok and isinstance(expected.value, dict) else None
    expected_action = example.expected_action
    if expected_action is None and expected_obj is not None:
        raw_action = expected_obj.get("action")
        expected_action = raw_action if isinstance(raw_action, str) else None
    expected_fields = flatten_arguments(expected_obj) if expected_obj is not None else None

    if output is None:
        return ExampleScore(
            outcomes={
                "exact_match": False,
                "json_valid_rate": False,
                "accuracy": False,
                "schema_valid_rate": False,
                "action_accuracy": None if expected_action is None else False,
            },
            fields=None if expected_fields is None else FieldCounts(0, 0, len(expected_fields)),
            parse_error="no output",
        )

    parsed = parse_json(output, strip_code_fences=strip_code_fences)
    obj = parsed.value if parsed.ok and isinstance(parsed.value, dict) else None
    if expected.ok:
        correct = parsed.ok and canonical(parsed.value) == canonical(expected.value)
    else:
        correct = output.strip() == example.expected_output.strip()

    schema_error = None
    if obj is not None:
        error = next(iter(validator.iter_errors(obj)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            schema_error = f"{where}: {error.message}"[:300]

    parse_error = parsed.error
    if parsed.ok and obj is None:
        parse_error = f"parsed as JSON {type(parsed.value).__name__}, not an object"

    action_ok: bool | None = None
    if expected_action is not None:
        action_ok = obj is not None and obj.get("action") == expected_action

    fields = None
    if expected_fields is not None:
        predicted = flatten_arguments(obj) if obj is not None else {}
        tp = sum(1 for k, v in predicted.items() if expected_fields.get(k) == v)
        fields = FieldCounts(tp=tp, predicted=len(predicted), expected=len(expected_fields))

    return ExampleScore(
        outcomes={
            "exact_match": output.strip() == example.expected_output.strip(),
            "json_valid_rate": obj is not None,
            "accuracy": correct,
            "schema_valid_rate": obj is not None and schema_error is None,
            "action_accuracy": action_ok,
        },
        fields=fields,
        parse_error=parse_error,
        schema_error=schema_error,
    )
