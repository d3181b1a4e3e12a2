"""Benchmark loading and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import example_rows, write_jsonl
from releasegate.benchmark.load import load_benchmark
from releasegate.benchmark.model import ChatMessage
from releasegate.errors import BenchmarkError


def test_jsonl_and_json_array_load_the_same_examples(tmp_path: Path) -> None:
    rows = example_rows(5)
    a = load_benchmark(write_jsonl(tmp_path / "a.jsonl", rows))
    (tmp_path / "b.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    b = load_benchmark(tmp_path / "b.json")
    assert [e.id for e in a.examples] == [e.id for e in b.examples]
    assert a.fingerprint == b.fingerprint
    assert a.examples[0].line == 1 and b.examples[4].line == 5


def test_fingerprint_changes_when_an_expected_output_changes(tmp_path: Path) -> None:
    rows = example_rows(5)
    a = load_benchmark(write_jsonl(tmp_path / "a.jsonl", rows))
    rows[2]["expected_output"] = '{"action":"delete_task"}'
    b = load_benchmark(write_jsonl(tmp_path / "b.jsonl", rows))
    assert a.fingerprint != b.fingerprint


def test_chat_message_input_and_object_expected_output(tmp_path: Path) -> None:
    row = {
        "id": "c1",
        "input": [{"role": "system", "content": "be terse"}, {"role": "user", "content": "hi"}],
        "expected_output": {"action": "list_tasks"},
    }
    bench = load_benchmark(write_jsonl(tmp_path / "c.jsonl", [row]))
    example = bench.examples[0]
    assert example.input == (ChatMessage("system", "be terse"), ChatMessage("user", "hi"))
    assert example.expected_output == '{"action":"list_tasks"}'
    assert example.category == "uncategorized"


def _error(tmp_path: Path, text: str, name: str = "bench.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BenchmarkError) as info:
        load_benchmark(path)
    return str(info.value)


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    rows = example_rows(3)
    rows[2]["id"] = rows[0]["id"]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    assert _error(tmp_path, text).endswith(
        "bench.jsonl:3: id: duplicate id 'ex-000' (first on line 1)"
    )


def test_missing_input_names_line_and_field(tmp_path: Path) -> None:
    text = json.dumps({"id": "a", "expected_output": "x"}) + "\n"
    assert _error(tmp_path, text).endswith("bench.jsonl:1: input: missing")


def test_blank_input_is_an_error(tmp_path: Path) -> None:
    text = json.dumps({"id": "a", "input": "  ", "expected_output": "x"}) + "\n"
    assert "input: empty input" in _error(tmp_path, text)


def test_missing_expected_output(tmp_path: Path) -> None:
    text = "\n" + json.dumps({"id": "a", "input": "x"}) + "\n"
    assert _error(tmp_path, text).endswith("bench.jsonl:2: expected_output: missing")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    assert _error(tmp_path, "\n\n").endswith("bench.jsonl: the benchmark is empty")


def test_invalid_json_line(tmp_path: Path) -> None:
    assert "bench.jsonl:1: invalid JSON" in _error(tmp_path, "{not json}\n")


def test_unknown_field_is_named(tmp_path: Path) -> None:
    text = json.dumps({"id": "a", "input": "x", "expected_output": "y", "expected": 1}) + "\n"
    assert "bench.jsonl:1: expected: unknown field" in _error(tmp_path, text)


def test_bad_chat_role(tmp_path: Path) -> None:
    text = json.dumps(
        {"id": "a", "input": [{"role": "bot", "content": "x"}], "expected_output": "y"}
    )
    assert "input[0].role" in _error(tmp_path, text + "\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="cannot read benchmark"):
        load_benchmark(tmp_path / "none.jsonl")


def test_json_array_error_names_the_index(tmp_path: Path) -> None:
    rows = example_rows(2)
    del rows[1]["input"]
    assert _error(tmp_path, json.dumps(rows), name="b.json").endswith("b.json:2: input: missing")
