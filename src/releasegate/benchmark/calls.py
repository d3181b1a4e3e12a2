"""Parse an example's function-calling fields: expected calls, order, policy, functions.

The fields (all optional; see docs/tool-calls.md)::

    "expected_calls": [{"name": "get_weather",
                        "arguments": {"city": ["Paris", "Paris, France"], "unit": ["c"]},
                        "optional": ["unit"], "unordered": []}],
    "call_order": "sequence" | "any",
    "comparison": "bfcl-v1" | {"preset": "strict-v1", "strings": {...}, ...},
    "functions": [{"name": "get_weather", "parameters": {JSON Schema}}]

Every argument value is a *list of acceptable values*; that is what makes a literal
nested object unambiguous.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast, get_args

from releasegate.benchmark.model import (
    POLICY_PRESETS,
    CallOrder,
    ComparisonPolicy,
    Example,
    ExpectedCall,
    StringRules,
    ToolCalls,
    ToolFunction,
    WhitespaceRule,
)
from releasegate.errors import BenchmarkError

Fail = Callable[[str, str], BenchmarkError]

_CALL_KEYS = {"name", "arguments", "optional", "unordered"}
_POLICY_KEYS = {"preset", "version", "strings", "int_for_float", "float_for_int", "dates"}
_STRING_KEYS = {f.name for f in dataclasses.fields(StringRules)}
_FUNCTION_KEYS = {"name", "description", "parameters"}


@dataclass(frozen=True)
class ToolFields:
    """The parsed function-calling fields of one record."""

    calls: ToolCalls | None
    functions: tuple[ToolFunction, ...]
    expected_output: str | None
    """Canonical text of the first acceptable answer (used when ``expected_output`` is absent)."""


def parse_tool_fields(record: dict[str, Any], fail: Fail) -> ToolFields:
    """Read ``expected_calls``, ``call_order``, ``comparison`` and ``functions``.

    Raises:
        BenchmarkError: from ``fail``, naming the field.
    """
    functions = _parse_functions(record.get("functions"), fail)
    raw_calls = record.get("expected_calls")
    if raw_calls is None:
        for key in ("call_order", "comparison"):
            if key in record:
                raise fail(key, "only meaningful together with expected_calls")
        return ToolFields(calls=None, functions=functions, expected_output=None)
    if not isinstance(raw_calls, list) or not raw_calls:
        raise fail("expected_calls", "must be a non-empty list of calls")
    calls = tuple(_parse_call(c, f"expected_calls[{i}]", fail) for i, c in enumerate(raw_calls))
    order = record.get("call_order", "sequence")
    if order not in get_args(CallOrder):
        raise fail("call_order", f"must be one of {list(get_args(CallOrder))}, got {order!r}")
    policy = parse_policy(record.get("comparison"), fail)
    tool_calls = ToolCalls(calls=calls, order=cast(CallOrder, order), comparison=policy)
    return ToolFields(
        calls=tool_calls, functions=functions, expected_output=first_answer_text(tool_calls)
    )


def first_answer_text(calls: ToolCalls) -> str:
    """The first acceptable value of every argument, in the canonical call form."""
    rendered = []
    for call in calls.calls:
        args = {k: v[0] for k, v in call.arguments.items() if v and k != "action"}
        rendered.append({"action": call.name, **args})
    body: object = rendered[0] if len(rendered) == 1 else rendered
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def tool_fingerprint(example: Example) -> str | None:
    """Canonical JSON of the example's expected calls and functions (None when it has neither)."""
    if example.expected_calls is None and not example.functions:
        return None
    payload: dict[str, Any] = {
        "functions": [dataclasses.asdict(f) for f in example.functions],
    }
    if example.expected_calls is not None:
        calls = example.expected_calls
        payload["calls"] = [
            {
                "name": c.name,
                "arguments": {k: list(v) for k, v in c.arguments.items()},
                "optional": sorted(c.optional),
                "unordered": sorted(c.unordered),
            }
            for c in calls.calls
        ]
        payload["order"] = calls.order
        payload["comparison"] = dataclasses.asdict(calls.comparison)
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _parse_call(raw: Any, where: str, fail: Fail) -> ExpectedCall:
    if not isinstance(raw, dict):
        raise fail(where, "a call must be an object with name and arguments")
    unknown = sorted(set(raw) - _CALL_KEYS)
    if unknown:
        raise fail(f"{where}.{unknown[0]}", f"unknown key; known: {', '.join(sorted(_CALL_KEYS))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"{where}.name", "must be a non-empty string")
    arguments = raw.get("arguments", {})
    if not isinstance(arguments, dict):
        raise fail(f"{where}.arguments", "must be an object: argument -> list of acceptable values")
    parsed: dict[str, tuple[Any, ...]] = {}
    for arg, values in arguments.items():
        if not isinstance(values, list):
            raise fail(
                f"{where}.arguments.{arg}",
                f"must be a list of acceptable values (write [{json.dumps(values)}] for one)",
            )
        parsed[arg] = tuple(values)
    optional = _name_set(raw.get("optional"), f"{where}.optional", parsed, fail)
    unordered = _name_set(raw.get("unordered"), f"{where}.unordered", parsed, fail)
    for arg, values in parsed.items():
        if not values and arg not in optional:
            raise fail(f"{where}.arguments.{arg}", "no acceptable value and not optional")
    for arg in unordered:
        if not all(isinstance(v, list) for v in parsed[arg]):
            raise fail(f"{where}.unordered", f"{arg!r} is unordered but its values are not lists")
    return ExpectedCall(name=name, arguments=parsed, optional=optional, unordered=unordered)


def _name_set(raw: Any, where: str, arguments: dict[str, Any], fail: Fail) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise fail(where, "must be a list of argument names")
    for name in raw:
        if name not in arguments:
            raise fail(where, f"{name!r} is not one of the call's arguments")
    return frozenset(raw)


def parse_policy(raw: Any, fail: Fail) -> ComparisonPolicy:
    """A preset name, or an object that starts from a preset and overrides some rules.

    Raises:
        BenchmarkError: unknown preset, key or version, or a value of the wrong type.
    """
    presets = ", ".join(sorted(POLICY_PRESETS))
    if raw is None:
        return POLICY_PRESETS["strict-v1"]
    if isinstance(raw, str):
        if raw not in POLICY_PRESETS:
            raise fail("comparison", f"unknown preset {raw!r}; known: {presets}")
        return POLICY_PRESETS[raw]
    if not isinstance(raw, dict):
        raise fail("comparison", "must be a preset name or an object")
    unknown = sorted(set(raw) - _POLICY_KEYS)
    if unknown:
        raise fail(f"comparison.{unknown[0]}", f"unknown key; known: {', '.join(_POLICY_KEYS)}")
    base_name = raw.get("preset", "strict-v1")
    if base_name not in POLICY_PRESETS:
        raise fail("comparison.preset", f"unknown preset {base_name!r}; known: {presets}")
    base = POLICY_PRESETS[base_name]
    if raw.get("version", 1) != 1:
        raise fail("comparison.version", "only version 1 of the comparison policy exists")
    strings = base.strings
    raw_strings = raw.get("strings")
    if raw_strings is not None:
        strings = _parse_strings(raw_strings, strings, fail)
    flags: dict[str, bool] = {}
    for key in ("int_for_float", "float_for_int", "dates"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise fail(f"comparison.{key}", "must be true or false")
            flags[key] = raw[key]
    custom = raw_strings is not None or bool(flags)
    name = f"{base.name}+custom" if custom else base.name
    return dataclasses.replace(base, name=name, strings=strings, **flags)


def _parse_strings(raw: Any, base: StringRules, fail: Fail) -> StringRules:
    if not isinstance(raw, dict):
        raise fail("comparison.strings", "must be an object")
    unknown = sorted(set(raw) - _STRING_KEYS)
    if unknown:
        known = ", ".join(sorted(_STRING_KEYS))
        raise fail(f"comparison.strings.{unknown[0]}", f"unknown key; known: {known}")
    rules = base
    for key in ("case_sensitive", "fold_quotes"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise fail(f"comparison.strings.{key}", "must be true or false")
            rules = dataclasses.replace(rules, **{key: raw[key]})
    if "whitespace" in raw:
        if raw["whitespace"] not in get_args(WhitespaceRule):
            raise fail(
                "comparison.strings.whitespace", f"must be one of {list(get_args(WhitespaceRule))}"
            )
        rules = dataclasses.replace(rules, whitespace=raw["whitespace"])
    if "ignore_chars" in raw:
        if not isinstance(raw["ignore_chars"], str):
            raise fail("comparison.strings.ignore_chars", "must be a string of characters")
        rules = dataclasses.replace(rules, ignore_chars=raw["ignore_chars"])
    return rules


def _parse_functions(raw: Any, fail: Fail) -> tuple[ToolFunction, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail("functions", "must be a list of function definitions")
    out: list[ToolFunction] = []
    for i, item in enumerate(raw):
        where = f"functions[{i}]"
        if not isinstance(item, dict):
            raise fail(where, "must be an object with name and parameters")
        unknown = sorted(set(item) - _FUNCTION_KEYS)
        if unknown:
            raise fail(f"{where}.{unknown[0]}", f"unknown key; known: {sorted(_FUNCTION_KEYS)}")
        name, params = item.get("name"), item.get("parameters", {"type": "object"})
        if not isinstance(name, str) or not name:
            raise fail(f"{where}.name", "must be a non-empty string")
        if not isinstance(params, dict):
            raise fail(f"{where}.parameters", "must be a JSON Schema object")
        from jsonschema import SchemaError  # only benchmarks with functions need it
        from jsonschema.validators import validator_for

        try:
            validator_for(params).check_schema(params)
        except SchemaError as exc:
            raise fail(f"{where}.parameters", f"invalid JSON Schema: {exc.message}") from exc
        description = item.get("description", "")
        if not isinstance(description, str):
            raise fail(f"{where}.description", "must be a string")
        out.append(ToolFunction(name=name, parameters=params, description=description))
    return tuple(out)
