"""Loading the function-calling fields of a benchmark: expected calls, policy, functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from releasegate.benchmark.load import load_benchmark
from releasegate.errors import BenchmarkError
from releasegate.records.core import ExampleResult
from releasegate.scoring.aggregate import error_rates

CALL = {"name": "f", "arguments": {"x": [1, 2], "u": ["cm"]}, "optional": ["u"]}


def _write(tmp_path: Path, **fields: Any) -> Path:
    record = {"id": "a", "input": "q", **fields}
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


def test_expected_calls_stand_in_for_expected_output(tmp_path: Path) -> None:
    example = load_benchmark(_write(tmp_path, expected_calls=[CALL])).examples[0]
    assert json.loads(example.expected_output) == {"action": "f", "x": 1, "u": "cm"}
    assert example.expected_calls is not None
    assert example.expected_calls.calls[0].arguments["x"] == (1, 2)


def test_fingerprint_changes_with_alternatives_not_for_old_benchmarks(tmp_path: Path) -> None:
    one = load_benchmark(_write(tmp_path, expected_calls=[CALL])).fingerprint
    other = {**CALL, "arguments": {"x": [1, 3], "u": ["cm"]}}
    two = load_benchmark(_write(tmp_path, expected_calls=[other])).fingerprint
    assert one != two
    plain = load_benchmark(_write(tmp_path, expected_output='{"action":"f"}'))
    again = load_benchmark(_write(tmp_path, expected_output={"action": "f"}))
    assert plain.fingerprint == again.fingerprint


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"expected_calls": []}, "expected_calls: must be a non-empty list"),
        (
            {"expected_calls": [{"name": "f", "arguments": {"x": 1}}]},
            "expected_calls[0]"
            ".arguments.x: must be a list of acceptable values (write [1] for one)",
        ),
        ({"expected_calls": [{**CALL, "optional": ["z"]}]}, "'z' is not one of"),
        ({"expected_calls": [{"name": "f", "arguments": {"x": []}}]}, "no acceptable value"),
        ({"expected_calls": [CALL], "call_order": "random"}, "call_order: must be one of"),
        ({"expected_calls": [CALL], "comparison": "loose"}, "comparison: unknown preset"),
        ({"expected_output": "x", "comparison": "bfcl-v1"}, "comparison: only meaningful"),
        (
            {"expected_output": "x", "functions": [{"name": "f", "parameters": {"type": 3}}]},
            "functions[0].parameters: invalid JSON Schema",
        ),
        ({"expected_calls": [{**CALL, "calls": 1}]}, "expected_calls[0].calls: unknown key"),
    ],
)
def test_bad_fields_name_line_and_field(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(BenchmarkError) as info:
        load_benchmark(_write(tmp_path, **fields))
    assert ":1: " in str(info.value) and message in str(info.value)


def _result(
    i: int, error_type: str | None, *, scored: bool = True, category: str = "c"
) -> ExampleResult:
    return ExampleResult(
        id=str(i),
        category=category,
        input_hash="h",
        input="q",
        expected_output="{}",
        output="{}",
        outcomes={"accuracy": error_type is None},
        error_type=error_type,
        calls_scored=scored,
    )


def test_error_rates_sum_with_accuracy_to_one_and_are_gateable() -> None:
    rows = [
        _result(0, None),
        _result(1, "wrong_value"),
        _result(2, "wrong_value"),
        _result(3, "wrong_function"),
        _result(4, None, scored=False),
    ]
    metrics = error_rates(rows)
    assert metrics["error_rate_wrong_value"].value == pytest.approx(0.5)
    assert metrics["error_rate_wrong_function"].n == 4
    assert not metrics["error_rate_wrong_function"].higher_is_better
    total = sum(m.value for k, m in metrics.items() if k.startswith("error_rate_") and "[" not in k)
    assert total + 1 / 4 == pytest.approx(1.0)


def test_error_rates_per_category_and_none_for_a_category_without_calls() -> None:
    rows = [
        _result(0, None, category="a"),
        _result(1, "wrong_value", category="a"),
        _result(2, "wrong_function", category="b"),
        _result(3, None, scored=False, category="text-only"),
    ]
    metrics = error_rates(rows)
    assert metrics["error_rate_wrong_value[a]"].value == pytest.approx(0.5)
    assert metrics["error_rate_wrong_value[a]"].n == 2
    assert metrics["error_rate_wrong_function[a]"].value == 0.0  # measured, not missing
    assert metrics["error_rate_wrong_function[b]"].value == 1.0
    assert metrics["error_rate_wrong_function"].value == pytest.approx(1 / 3)
    assert not any(k.endswith("[text-only]") for k in metrics)
