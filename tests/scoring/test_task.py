"""Per-example metric definitions on hand-made cases."""

from __future__ import annotations

import pytest

from releasegate.benchmark.model import Example
from releasegate.scoring.schema import load_output_schema
from releasegate.scoring.task import canonical, parse_json, score_example, strip_fence

SCHEMA = load_output_schema(None)


def _score(expected: str, output: str | None, **kw: object) -> dict[str, bool | None]:
    example = Example(id="e", input="x", expected_output=expected, **kw)  # type: ignore[arg-type]
    return score_example(example, output, schema=SCHEMA).outcomes


EXPECTED = '{"action":"create_task","title":"Buy milk","priority":"high"}'


def test_key_order_and_whitespace_do_not_matter_for_accuracy() -> None:
    out = '{ "priority": "high",\n  "title": "Buy milk", "action": "create_task" }'
    scores = _score(EXPECTED, out)
    assert scores["accuracy"] is True
    assert scores["exact_match"] is False
    assert scores["json_valid_rate"] is True


def test_exact_match_strips_surrounding_whitespace_only() -> None:
    assert _score(EXPECTED, f"  {EXPECTED}\n")["exact_match"] is True


def test_code_fenced_json_counts_as_valid_and_accurate() -> None:
    fenced = f"```json\n{EXPECTED}\n```"
    scores = _score(EXPECTED, fenced)
    assert scores["json_valid_rate"] is True
    assert scores["accuracy"] is True
    assert scores["exact_match"] is False


def test_fence_stripping_can_be_turned_off() -> None:
    example = Example(id="e", input="x", expected_output=EXPECTED)
    fenced = f"```\n{EXPECTED}\n```"
    outcomes = score_example(example, fenced, schema=SCHEMA, strip_code_fences=False).outcomes
    assert outcomes["json_valid_rate"] is False


@pytest.mark.parametrize("output", ["[1, 2]", '"create_task"', "42", "null", "true"])
def test_non_object_json_is_not_json_valid(output: str) -> None:
    scores = _score(EXPECTED, output)
    assert scores["json_valid_rate"] is False
    assert scores["accuracy"] is False
    assert scores["schema_valid_rate"] is False


def test_prose_around_json_is_invalid() -> None:
    assert _score(EXPECTED, f"Here you go: {EXPECTED}")["json_valid_rate"] is False


def test_unicode_escapes_equal_literal_characters() -> None:
    expected = '{"action":"create_task","title":"Café ☕"}'
    output = '{"action":"create_task","title":"Caf\\u00e9 \\u2615"}'
    assert _score(expected, output)["accuracy"] is True


def test_unicode_difference_is_wrong() -> None:
    expected = '{"action":"create_task","title":"Café"}'
    assert _score(expected, '{"action":"create_task","title":"Cafe"}')["accuracy"] is False


def test_empty_output_fails_everything_but_is_an_output() -> None:
    scores = _score(EXPECTED, "")
    assert scores == {
        "exact_match": False,
        "json_valid_rate": False,
        "accuracy": False,
        "schema_valid_rate": False,
        "action_accuracy": False,
    }


def test_missing_output_fails_every_applicable_metric() -> None:
    example = Example(id="e", input="x", expected_output=EXPECTED)
    score = score_example(example, None, schema=SCHEMA)
    assert not any(score.outcomes.values())
    assert score.parse_error == "no output"
    assert score.fields is not None and score.fields.expected == 2 and score.fields.tp == 0


def test_integral_numbers_compare_by_value_but_booleans_do_not_equal_numbers() -> None:
    assert _score('{"action":"x","n":1}', '{"action":"x","n":1.0}')["accuracy"] is True
    assert _score('{"action":"x","n":1}', '{"action":"x","n":true}')["accuracy"] is False


def test_nan_is_not_valid_json() -> None:
    assert _score('{"action":"x"}', '{"action":"x","n":NaN}')["json_valid_rate"] is False


def test_plain_text_expected_uses_string_equality() -> None:
    assert _score("hello world", "  hello world ")["accuracy"] is True
    assert _score("hello world", "hello  world")["accuracy"] is False


def test_schema_requires_action_by_default() -> None:
    scores = _score('{"title":"x"}', '{"title":"x"}')
    assert scores["json_valid_rate"] is True
    assert scores["schema_valid_rate"] is False
    assert scores["accuracy"] is True


def test_action_accuracy_uses_expected_action_or_the_expected_object() -> None:
    assert _score(EXPECTED, '{"action":"create_task"}')["action_accuracy"] is True
    assert _score(EXPECTED, '{"action":"delete_task"}')["action_accuracy"] is False
    assert _score('"plain"', '"plain"')["action_accuracy"] is None
    explicit = _score('"plain"', '{"action":"refuse"}', expected_action="refuse")
    assert explicit["action_accuracy"] is True


def test_field_counts_flatten_nested_arguments() -> None:
    example = Example(
        id="e",
        input="x",
        expected_output='{"action":"list_tasks","filters":{"priority":"high","tag":"work"}}',
    )
    output = '{"action":"list_tasks","filters":{"priority":"high","tag":"home"},"limit":5}'
    fields = score_example(example, output, schema=SCHEMA).fields
    assert fields is not None
    assert (fields.tp, fields.predicted, fields.expected) == (1, 3, 2)


def test_schema_error_message_names_the_path() -> None:
    schema = load_output_schema(None)
    example = Example(id="e", input="x", expected_output='{"action":"x"}')
    score = score_example(example, '{"action": 5}', schema=schema)
    assert score.schema_error is not None and score.schema_error.startswith("action:")


def test_strip_fence_only_removes_a_wrapping_fence() -> None:
    assert strip_fence("```json\n{}\n```") == "{}"
    assert strip_fence("text ```json\n{}\n```") == "text ```json\n{}\n```"


def test_canonical_is_order_independent() -> None:
    assert canonical({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical(
        {"a": [1.0, {"c": 3, "d": 2}], "b": 1}
    )
    assert parse_json("  {}  ", strip_code_fences=True).ok
