"""Score function calls against expected calls with alternatives (docs/tool-calls.md).

An output is read into calls in the canonical call form: one JSON object
``{"action": NAME, ...arguments}`` or ``{"name": NAME, "arguments": {...}}`` (the
arguments may be a JSON string, as OpenAI-style ``tool_calls`` carry them), or a
JSON array of such objects for several calls.

Each output call is compared with one expected call: the name must match; every
argument that is not optional must be present; no argument outside the expected
call may appear; each present argument must equal one of its acceptable values
under the example's comparison policy. An example's error type is the first of
``ERROR_TYPES`` that applies (``None`` when every call matches).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from releasegate.benchmark.model import (
    ComparisonPolicy,
    Example,
    ExpectedCall,
    StringRules,
    ToolCalls,
    ToolFunction,
)

ERROR_TYPES: tuple[str, ...] = (
    "no_output",
    "unparseable",
    "wrong_count",
    "wrong_function",
    "missing_required_argument",
    "unexpected_argument",
    "wrong_type",
    "wrong_value",
)
"""Error types, most severe first; an example gets the first that applies."""

_SEVERITY = {name: i for i, name in enumerate(ERROR_TYPES)}

LEGACY_POLICY = ComparisonPolicy(
    name="exact-json",
    strings=StringRules(whitespace="exact"),
    int_for_float=True,
    float_for_int=True,
)
"""What single ``expected_output`` objects are compared with: canonical JSON equality."""

_DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d")


@dataclass(frozen=True)
class Call:
    """One function call read from an output."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class CallVerdict:
    """How one output call compares with one expected call."""

    error_type: str | None
    detail: str | None
    tp: int
    predicted: int
    expected: int


@dataclass(frozen=True)
class CallsVerdict:
    """How an output's calls compare with an example's expected calls."""

    correct: bool
    names_correct: bool
    error_type: str | None
    detail: str | None
    tp: int
    predicted: int
    expected: int


def read_calls(value: Any) -> list[Call] | None:
    """Calls from a parsed JSON output; None when it is not in the canonical call form."""
    items = value if isinstance(value, list) else [value]
    if not items:
        return None
    calls = [_read_call(item) for item in items]
    if any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None]


def _read_call(item: Any) -> Call | None:
    if not isinstance(item, dict):
        return None
    if set(item) == {"name", "arguments"} and isinstance(item["name"], str):
        args = item["arguments"]
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except (json.JSONDecodeError, RecursionError):
                return None
        return Call(item["name"], args) if isinstance(args, dict) else None
    action = item.get("action")
    if isinstance(action, str):
        return Call(action, {k: v for k, v in item.items() if k != "action"})
    return None


def legacy_calls(expected: Any) -> ToolCalls | None:
    """A single expected action object as one expected call with one value per argument."""
    if not isinstance(expected, dict) or not isinstance(expected.get("action"), str):
        return None
    args = {k: (v,) for k, v in expected.items() if k != "action"}
    call = ExpectedCall(name=expected["action"], arguments=args)
    return ToolCalls(calls=(call,), comparison=LEGACY_POLICY)


def score_calls(
    expected: ToolCalls, output: Sequence[Call] | None, functions: Sequence[ToolFunction] = ()
) -> CallsVerdict:
    """Compare output calls (None: unparseable) with the expected calls."""
    required = sum(_required_count(c) for c in expected.calls)
    if output is None:
        detail = "the output is not a call in the canonical form"
        return CallsVerdict(False, False, "unparseable", detail, 0, 0, required)
    schemas = {f.name: f.parameters for f in functions}
    policy = expected.comparison
    pairs = _pair(expected, output, policy, schemas)
    tp = sum(v.tp for _, _, v in pairs)
    predicted = sum(len(c.arguments) for c in output)
    paired_out = {j for _, j, _ in pairs}
    paired_exp = {i for i, _, _ in pairs}
    exp_total = sum(v.expected for _, _, v in pairs) + sum(
        _required_count(c) for i, c in enumerate(expected.calls) if i not in paired_exp
    )
    del paired_out
    if expected.order == "any":
        names_ok = Counter(c.name for c in expected.calls) == Counter(c.name for c in output)
    else:
        names_ok = [c.name for c in expected.calls] == [c.name for c in output]
    if len(output) != len(expected.calls):
        detail = f"{len(output)} call(s) where {len(expected.calls)} were expected"
        return CallsVerdict(False, names_ok, "wrong_count", detail, tp, predicted, exp_total)
    failing = [(i, v) for i, _, v in pairs if v.error_type is not None]
    if not failing:
        return CallsVerdict(True, names_ok, None, None, tp, predicted, exp_total)
    index, worst = min(failing, key=lambda f: _SEVERITY[f[1].error_type or ""])
    detail = f"call {index} ({expected.calls[index].name}): {worst.detail}"
    return CallsVerdict(False, names_ok, worst.error_type, detail[:300], tp, predicted, exp_total)


def _required_count(call: ExpectedCall) -> int:
    return sum(1 for a in call.arguments if a not in call.optional)


def _pair(
    expected: ToolCalls,
    output: Sequence[Call],
    policy: ComparisonPolicy,
    schemas: Mapping[str, dict[str, Any]],
) -> list[tuple[int, int, CallVerdict]]:
    """(expected index, output index, verdict) for each paired call."""
    verdicts = {
        (i, j): compare_call(spec, call, policy, schemas.get(spec.name))
        for i, spec in enumerate(expected.calls)
        for j, call in enumerate(output)
        if expected.order == "any" or i == j
    }
    if expected.order == "sequence":
        return [(i, j, v) for (i, j), v in sorted(verdicts.items())]
    # Parallel calls: the assignment with the most fully matching calls, then the most
    # matching names, then the most matching arguments (an optimal matching, not greedy).
    score = np.zeros((len(expected.calls), len(output)))
    for (i, j), v in verdicts.items():
        score[i, j] = (
            10_000 * (v.error_type is None)
            + 100 * (output[j].name == expected.calls[i].name)
            + v.tp
        )
    from scipy.optimize import linear_sum_assignment  # lazy: ~0.4 s to import

    rows, cols = linear_sum_assignment(score, maximize=True)
    return [(int(i), int(j), verdicts[(int(i), int(j))]) for i, j in zip(rows, cols, strict=True)]


def compare_call(
    spec: ExpectedCall,
    call: Call,
    policy: ComparisonPolicy,
    parameters: dict[str, Any] | None = None,
) -> CallVerdict:
    """Compare one output call with one expected call (``parameters``: its JSON Schema)."""
    properties = (parameters or {}).get("properties", {})
    errors: list[tuple[str, str]] = []
    if call.name != spec.name:
        errors.append(("wrong_function", f"called {call.name!r}"))
    tp = expected = 0
    for arg, alternatives in spec.arguments.items():
        if arg not in call.arguments:
            if arg not in spec.optional:
                expected += 1
                errors.append(("missing_required_argument", f"argument {arg!r} is missing"))
            continue
        expected += 1
        value = call.arguments[arg]
        schema = properties.get(arg) if isinstance(properties, dict) else None
        unordered = arg in spec.unordered
        rules = _symbol_policy(policy) if _is_symbol(value, schema) else policy
        if any(values_equal(a, value, rules, schema, unordered=unordered) for a in alternatives):
            tp += 1
        elif not kind_accepted(value, alternatives, policy, schema):
            errors.append(("wrong_type", f"argument {arg!r} has type {json_kind(value)}"))
        else:
            shown = json.dumps(value, ensure_ascii=False)[:80]
            errors.append(("wrong_value", f"argument {arg!r}: {shown} is not acceptable"))
    for arg in call.arguments:
        if arg not in spec.arguments:
            errors.append(("unexpected_argument", f"unexpected argument {arg!r}"))
    if not errors:
        return CallVerdict(None, None, tp, len(call.arguments), expected)
    kind, detail = min(errors, key=lambda e: _SEVERITY[e[0]])
    return CallVerdict(kind, detail, tp, len(call.arguments), expected)


def _is_symbol(value: Any, schema: dict[str, Any] | None) -> bool:
    """A string given where the schema declares only non-string types (a variable name)."""
    kinds = _schema_kinds(schema)
    return isinstance(value, str) and bool(kinds) and "string" not in kinds


def _symbol_policy(policy: ComparisonPolicy) -> ComparisonPolicy:
    """Symbols compare exactly: loose string rules are for text, not for names."""
    return ComparisonPolicy(
        name=policy.name,
        strings=StringRules(whitespace="strip"),
        int_for_float=policy.int_for_float,
        float_for_int=policy.float_for_int,
    )


def json_kind(value: Any) -> str:
    """The JSON type of a parsed value (``integer`` and ``number`` kept apart)."""
    if value is None:
        return "null"
    for kind, types in _KINDS:
        if isinstance(value, types):
            return kind
    return "object"


_KINDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("boolean", bool),  # before integer: bool is an int subclass
    ("integer", int),
    ("number", float),
    ("string", str),
    ("array", list),
)


def _kinds_compatible(expected: str, actual: str, policy: ComparisonPolicy) -> bool:
    if expected == actual:
        return True
    if expected == "number" and actual == "integer":
        return policy.int_for_float
    if expected == "integer" and actual == "number":
        return policy.float_for_int
    return False


def _schema_kinds(schema: dict[str, Any] | None) -> list[str]:
    if not isinstance(schema, dict):
        return []
    declared = schema.get("type")
    kinds = declared if isinstance(declared, list) else [declared]
    return [k for k in kinds if isinstance(k, str)]


def kind_accepted(
    value: Any, alternatives: Sequence[Any], policy: ComparisonPolicy, schema: dict[str, Any] | None
) -> bool:
    """Whether the value's JSON type is one the schema or an acceptable value has."""
    kinds = {*_schema_kinds(schema), *(json_kind(a) for a in alternatives)}
    actual = json_kind(value)
    return any(_kinds_compatible(k, actual, policy) for k in kinds)


def values_equal(
    expected: Any,
    actual: Any,
    policy: ComparisonPolicy,
    schema: dict[str, Any] | None = None,
    *,
    unordered: bool = False,
) -> bool:
    """Whether ``actual`` equals the acceptable value ``expected`` under the policy."""
    e_kind, a_kind = json_kind(expected), json_kind(actual)
    if e_kind in {"integer", "number"} and a_kind in {"integer", "number"}:
        declared = _schema_kinds(schema)
        wanted = "number" if "number" in declared else e_kind
        if "integer" in declared and "number" not in declared:
            wanted = "integer"
        return _kinds_compatible(wanted, a_kind, policy) and expected == actual
    if e_kind != a_kind:
        return False
    sub = schema if isinstance(schema, dict) else {}
    if e_kind == "string":
        return strings_equal(expected, actual, policy)
    if e_kind == "array":
        return _lists_equal(expected, actual, policy, sub.get("items"), unordered=unordered)
    if e_kind == "object":
        props = sub.get("properties", {})
        return set(expected) == set(actual) and all(
            values_equal(v, actual[k], policy, props.get(k)) for k, v in expected.items()
        )
    return bool(expected == actual)


def _lists_equal(
    expected: list[Any],
    actual: list[Any],
    policy: ComparisonPolicy,
    items: Any,
    *,
    unordered: bool,
) -> bool:
    if len(expected) != len(actual):
        return False
    if not unordered:
        return all(values_equal(e, a, policy, items) for e, a in zip(expected, actual, strict=True))
    if not expected:
        return True
    match = np.array([[values_equal(e, a, policy, items) for a in actual] for e in expected])
    from scipy.optimize import linear_sum_assignment  # lazy: ~0.4 s to import

    rows, cols = linear_sum_assignment(match, maximize=True)
    return bool(match[rows, cols].all())


def normalise_string(text: str, rules: StringRules) -> str:
    """Apply the string rules: whitespace, ignored characters, quotes, case."""
    if rules.whitespace == "strip":
        text = text.strip()
    elif rules.whitespace == "ignore":
        text = "".join(text.split())
    if rules.fold_quotes:
        text = text.replace("'", '"')
    if rules.ignore_chars:
        text = text.translate({ord(c): None for c in rules.ignore_chars})
    return text if rules.case_sensitive else text.casefold()


def strings_equal(expected: str, actual: str, policy: ComparisonPolicy) -> bool:
    """String equality under the policy (as dates first, when ``dates`` is on)."""
    if policy.dates:
        left, right = parse_date(expected), parse_date(actual)
        if left is not None and right is not None:
            return left == right
    return normalise_string(expected, policy.strings) == normalise_string(actual, policy.strings)


def parse_date(text: str) -> dt.date | None:
    """A calendar date in one of the documented unambiguous formats, else None."""
    cleaned = " ".join(text.strip().split())
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def expected_calls_of(example: Example, expected_value: Any) -> ToolCalls | None:
    """The example's expected calls, or its single expected action object as one call."""
    if example.expected_calls is not None:
        return example.expected_calls
    return legacy_calls(expected_value)
