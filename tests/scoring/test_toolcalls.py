"""Every comparison rule of tool-call scoring, on hand-made cases."""

from __future__ import annotations

import json
from typing import Any

import pytest

from releasegate.benchmark.calls import parse_policy
from releasegate.benchmark.model import (
    POLICY_PRESETS,
    ComparisonPolicy,
    Example,
    ExpectedCall,
    StringRules,
    ToolCalls,
    ToolFunction,
)
from releasegate.errors import BenchmarkError
from releasegate.scoring.schema import load_output_schema
from releasegate.scoring.task import score_example
from releasegate.scoring.toolcalls import (
    Call,
    compare_call,
    read_calls,
    score_calls,
    values_equal,
)

STRICT = POLICY_PRESETS["strict-v1"]
BFCL = POLICY_PRESETS["bfcl-v1"]
SCHEMA = load_output_schema(None)


def _call(name: str = "f", **arguments: tuple[Any, ...]) -> ExpectedCall:
    return ExpectedCall(name=name, arguments=dict(arguments))


def _verdict(spec: ExpectedCall, output: dict[str, Any], policy: ComparisonPolicy = STRICT):
    return compare_call(spec, Call(output.pop("action", "f"), output), policy)


def test_any_listed_value_is_accepted_and_others_are_wrong_values() -> None:
    spec = _call(city=("Paris", "Paris, France"))
    assert _verdict(spec, {"city": "Paris, France"}).error_type is None
    assert _verdict(spec, {"city": "Lyon"}).error_type == "wrong_value"


def test_optional_argument_may_be_omitted_but_not_wrong() -> None:
    spec = ExpectedCall("f", {"x": (1,), "unit": ("cm",)}, optional=frozenset({"unit"}))
    assert _verdict(spec, {"x": 1}).error_type is None
    assert _verdict(spec, {"x": 1, "unit": "cm"}).error_type is None
    assert _verdict(spec, {"x": 1, "unit": "mm"}).error_type == "wrong_value"


def test_missing_required_unexpected_and_wrong_function() -> None:
    spec = _call(x=(1,), y=(2,))
    assert _verdict(spec, {"x": 1}).error_type == "missing_required_argument"
    assert _verdict(spec, {"x": 1, "y": 2, "z": 3}).error_type == "unexpected_argument"
    assert _verdict(spec, {"action": "g", "x": 1, "y": 2}).error_type == "wrong_function"


def test_field_counts_extra_is_false_positive_missing_is_false_negative() -> None:
    spec = ExpectedCall("f", {"x": (1,), "y": (2,), "o": (3,)}, optional=frozenset({"o"}))
    v = _verdict(spec, {"x": 1, "z": 9})
    assert (v.tp, v.predicted, v.expected) == (1, 2, 2)  # y missing (FN), z extra (FP)
    v = _verdict(spec, {"x": 1, "y": 2, "o": 4})
    assert (v.tp, v.predicted, v.expected) == (2, 3, 3)  # a given optional is judged


@pytest.mark.parametrize(
    ("expected", "actual", "equal"),
    [
        (2.0, 2, True),  # int where a float is expected
        (2.5, 2, False),
        (2, 2.0, False),  # never a float where an int is expected ...
        (True, 1, False),  # booleans never equal numbers
        (1, True, False),
        (None, None, True),
        ([1, 2], [2, 1], False),  # lists are ordered
        ({"a": 1.0}, {"a": 1}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
    ],
)
def test_number_bool_list_and_object_rules(expected: Any, actual: Any, equal: bool) -> None:
    assert values_equal(expected, actual, STRICT) is equal


def test_float_for_int_only_when_the_policy_says_so() -> None:
    lax = ComparisonPolicy(float_for_int=True)
    assert values_equal(2, 2.0, lax)
    assert not values_equal(2, 2.5, lax)


def test_schema_type_decides_number_kind() -> None:
    assert values_equal(10, 10.0, STRICT, {"type": "number"})  # float parameter
    assert not values_equal(10.0, 10.0, STRICT, {"type": "integer"})  # int parameter
    assert values_equal(10, 10, STRICT, {"type": "integer"})


def test_wrong_type_is_told_apart_from_wrong_value() -> None:
    spec = _call(n=(3,))
    assert _verdict(spec, {"n": "3"}).error_type == "wrong_type"
    assert _verdict(spec, {"n": 4}).error_type == "wrong_value"
    spec_with_schema = ExpectedCall("f", {"n": (3,)})
    verdict = compare_call(spec_with_schema, Call("f", {"n": 3.0}), STRICT, {"properties": {}})
    assert verdict.error_type == "wrong_type"  # a float where an int is expected


def test_unordered_lists_compare_as_multisets() -> None:
    spec = ExpectedCall("f", {"tags": (["a", "b", "a"],)}, unordered=frozenset({"tags"}))
    assert _verdict(spec, {"tags": ["b", "a", "a"]}).error_type is None
    assert _verdict(spec, {"tags": ["b", "b", "a"]}).error_type == "wrong_value"
    assert _verdict(_call(tags=(["a", "b"],)), {"tags": ["b", "a"]}).error_type == "wrong_value"


@pytest.mark.parametrize(
    ("rules", "expected", "actual", "equal"),
    [
        (StringRules(), "Paris", " Paris ", True),  # strip is the default
        (StringRules(), "Paris", "paris", False),
        (StringRules(whitespace="exact"), "Paris", "Paris ", False),
        (StringRules(case_sensitive=False), "Paris", "PARIS", True),
        (StringRules(whitespace="ignore"), "New York", "NewYork", True),
        (StringRules(ignore_chars=",."), "April 1, 2024", "April 1 2024", True),
        (StringRules(fold_quotes=True), "it's", 'it"s', True),
    ],
)
def test_string_rules(rules: StringRules, expected: str, actual: str, equal: bool) -> None:
    assert values_equal(expected, actual, ComparisonPolicy(strings=rules)) is equal


def test_bfcl_preset_is_case_space_and_punctuation_insensitive() -> None:
    assert values_equal("San Francisco, CA", "san francisco CA", BFCL)
    assert values_equal(["New-York"], ["NEW YORK"], BFCL)  # inside lists too
    assert not values_equal("San Francisco", "San Jose", BFCL)


def test_dates_compare_as_dates_only_when_declared() -> None:
    dates = ComparisonPolicy(dates=True)
    assert values_equal("2024-04-01", "April 1, 2024", dates)
    assert not values_equal("2024-04-01", "April 2, 2024", dates)
    assert not values_equal("2024-04-01", "April 1, 2024", STRICT)
    assert values_equal("not a date", "not a date", dates)


def test_parallel_calls_match_in_any_order_sequences_in_order() -> None:
    a, b = _call("get", city=("Paris",)), _call("get", city=("Rome",))
    out = [Call("get", {"city": "Rome"}), Call("get", {"city": "Paris"})]
    assert score_calls(ToolCalls((a, b), order="any"), out).correct
    verdict = score_calls(ToolCalls((a, b), order="sequence"), out)
    assert not verdict.correct and verdict.error_type == "wrong_value"
    assert verdict.names_correct


def test_parallel_matching_is_optimal_not_greedy() -> None:
    # The first output call fits both expected calls; greedy pairing would fail.
    loose = ExpectedCall("f", {"x": (1,), "y": (2,)}, optional=frozenset({"y"}))
    tight = _call("f", x=(1,))
    out = [Call("f", {"x": 1}), Call("f", {"x": 1, "y": 2})]
    assert score_calls(ToolCalls((tight, loose), order="any"), out).correct


def test_wrong_count_and_unparseable() -> None:
    calls = ToolCalls((_call(x=(1,)),))
    verdict = score_calls(calls, [Call("f", {"x": 1}), Call("f", {"x": 1})])
    assert verdict.error_type == "wrong_count" and not verdict.correct
    verdict = score_calls(calls, None)
    assert verdict.error_type == "unparseable" and verdict.expected == 1


def test_read_calls_accepts_both_canonical_forms() -> None:
    assert read_calls({"action": "f", "x": 1}) == [Call("f", {"x": 1})]
    assert read_calls({"name": "f", "arguments": '{"x": 1}'}) == [Call("f", {"x": 1})]
    assert read_calls([{"action": "f"}, {"name": "g", "arguments": {}}]) == [
        Call("f", {}),
        Call("g", {}),
    ]
    assert read_calls({"x": 1}) is None
    assert read_calls([]) is None
    assert read_calls({"name": "f", "arguments": "not json"}) is None


def _example(**fields: Any) -> Example:
    calls = fields.pop("calls")
    return Example(
        id="e",
        input="q",
        expected_output=json.dumps({"action": calls.calls[0].name}),
        expected_calls=calls,
        **fields,
    )


def test_score_example_honours_alternatives_in_every_metric() -> None:
    spec = ExpectedCall("f", {"x": (1, 2), "u": ("cm",)}, optional=frozenset({"u"}))
    example = _example(calls=ToolCalls((spec,)))
    score = score_example(example, '{"action": "f", "x": 2}', schema=SCHEMA)
    assert score.outcomes["accuracy"] and score.outcomes["action_accuracy"]
    assert score.fields is not None and (score.fields.tp, score.fields.expected) == (1, 1)
    assert score.error_type is None and score.calls_scored
    wrong = score_example(example, '{"action": "g", "x": 3}', schema=SCHEMA)
    assert wrong.error_type == "wrong_function" and not wrong.outcomes["action_accuracy"]
    none = score_example(example, None, schema=SCHEMA)
    assert none.error_type == "no_output" and not none.outcomes["accuracy"]
    garbage = score_example(example, "I'd call f", schema=SCHEMA)
    assert garbage.error_type == "unparseable"


def test_per_example_schema_checks_each_call_against_its_own_function() -> None:
    fn = ToolFunction("f", {"type": "object", "properties": {"x": {"type": "integer"}}})
    example = _example(calls=ToolCalls((_call(x=(1,)),)), functions=(fn,))
    ok = score_example(example, '{"action": "f", "x": 1}', schema=SCHEMA)
    assert ok.outcomes["schema_valid_rate"] and ok.schema_error is None
    bad = score_example(example, '{"action": "f", "x": "one"}', schema=SCHEMA)
    assert not bad.outcomes["schema_valid_rate"] and "x" in (bad.schema_error or "")
    unknown = score_example(example, '{"action": "h"}', schema=SCHEMA)
    assert "not one of the functions" in (unknown.schema_error or "")


def test_single_expected_output_keeps_its_meaning_and_gains_an_error_type() -> None:
    example = Example(id="e", input="q", expected_output='{"action": "f", "x": 1}')
    right = score_example(example, '{"x": 1.0, "action": "f"}', schema=SCHEMA)
    assert right.outcomes["accuracy"] and right.error_type is None
    wrong = score_example(example, '{"action": "f", "x": 1, "y": 2}', schema=SCHEMA)
    assert not wrong.outcomes["accuracy"] and wrong.error_type == "unexpected_argument"
    # case still matters: alternatives and loose strings are opt-in
    cased = Example(id="e", input="q", expected_output='{"action": "f", "c": "Paris"}')
    assert not score_example(cased, '{"action": "f", "c": "paris"}', schema=SCHEMA).outcomes[
        "accuracy"
    ]
    plain = Example(id="e", input="q", expected_output="hello")
    assert not score_example(plain, "hi", schema=SCHEMA).calls_scored


def _fail(field: str, problem: str) -> BenchmarkError:
    return BenchmarkError(f"x:1: {field}: {problem}")


def test_policy_is_declared_and_versioned() -> None:
    assert parse_policy(None, _fail) == STRICT
    assert parse_policy("bfcl-v1", _fail) == BFCL
    custom = parse_policy({"preset": "bfcl-v1", "dates": True}, _fail)
    assert custom.dates and custom.name == "bfcl-v1+custom" and not custom.strings.case_sensitive
    with pytest.raises(BenchmarkError, match="comparison.version"):
        parse_policy({"version": 2}, _fail)
    with pytest.raises(BenchmarkError, match="unknown preset"):
        parse_policy("loose", _fail)
    with pytest.raises(BenchmarkError, match="comparison.strings.case"):
        parse_policy({"strings": {"case": False}}, _fail)


def test_a_string_for_a_non_string_parameter_is_a_symbol_compared_exactly() -> None:
    spec = _call(rooms=("dontcare",))
    schema = {"properties": {"rooms": {"type": "integer"}}}
    assert compare_call(spec, Call("f", {"rooms": "dontcare"}), BFCL, schema).error_type is None
    upper = compare_call(spec, Call("f", {"rooms": "DONTCARE"}), BFCL, schema)
    assert upper.error_type == "wrong_value"
    text = _call(city=("Paris",))
    schema = {"properties": {"city": {"type": "string"}}}
    assert compare_call(text, Call("f", {"city": "PARIS"}), BFCL, schema).error_type is None
