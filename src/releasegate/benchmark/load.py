"""Load and validate a benchmark file (JSONL or a JSON array)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast, get_args

from releasegate.benchmark.calls import parse_tool_fields, tool_fingerprint
from releasegate.benchmark.model import Benchmark, ChatMessage, Example, Role
from releasegate.errors import BenchmarkError
from releasegate.input_files import jsonl_lines, loads_json, loads_json_document, read_text_capped

_KNOWN_FIELDS = {
    "id",
    "input",
    "expected_output",
    "expected_action",
    "category",
    "tags",
    "cluster",
    "metadata",
    "expected_calls",
    "call_order",
    "comparison",
    "functions",
}
_ROLES = set(get_args(Role))


def load_benchmark(path: str | Path) -> Benchmark:
    """Read, validate and fingerprint a benchmark.

    Accepts JSON Lines (one object per line; blank lines skipped) or one JSON array.
    ``expected_output`` given as a JSON object is stored as its compact JSON text.

    Raises:
        BenchmarkError: naming the file, the line (or array index) and the field.
    """
    file = Path(path)
    text = read_text_capped(file, what="benchmark", error=BenchmarkError)
    if not text.strip():
        raise BenchmarkError(f"{file}: the benchmark is empty")
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for line, record in _records(file, text):
        example = _parse_example(record, file=file, line=line)
        if example.id in seen:
            raise BenchmarkError(
                f"{file}:{line}: id: duplicate id {example.id!r} (first on line {seen[example.id]})"
            )
        seen[example.id] = line
        examples.append(example)
    if not examples:
        raise BenchmarkError(f"{file}: the benchmark has no examples")
    return Benchmark(
        path=str(file),
        name=file.stem,
        examples=tuple(examples),
        fingerprint=fingerprint_examples(examples),
    )


def fingerprint_examples(examples: list[Example] | tuple[Example, ...]) -> str:
    """sha256 over ids, inputs and expected outputs, independent of file formatting.

    Expected calls (alternatives, optional arguments, policy) and function definitions
    join the hash only where an example has them, so older benchmarks keep their
    fingerprint.
    """
    digest = hashlib.sha256()
    for example in examples:
        row: list[object] = [example.id, example.input_hash, example.expected_output]
        tools = tool_fingerprint(example)
        if tools is not None:
            row.append(tools)
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


def _records(file: Path, text: str) -> Iterator[tuple[int, Any]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        array = loads_json_document(text, path=file, error=BenchmarkError)
        if not isinstance(array, list):
            raise BenchmarkError(f"{file}: expected one JSON array of examples")
        for index, record in enumerate(array):
            yield index + 1, record
        return
    for number, raw in jsonl_lines(text):
        if not raw.strip():
            continue
        yield number, loads_json(raw, where=f"{file}:{number}", error=BenchmarkError)


def _parse_example(record: Any, *, file: Path, line: int) -> Example:
    def fail(field: str, problem: str) -> BenchmarkError:
        return BenchmarkError(f"{file}:{line}: {field}: {problem}")

    if not isinstance(record, dict):
        raise fail("(record)", f"expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - _KNOWN_FIELDS)
    if unknown:
        raise fail(unknown[0], f"unknown field; known fields: {', '.join(sorted(_KNOWN_FIELDS))}")
    example_id = record.get("id")
    if isinstance(example_id, int) and not isinstance(example_id, bool):
        example_id = str(example_id)
    if not isinstance(example_id, str) or not example_id.strip():
        raise fail("id", "missing or empty (a unique string is required)")
    tools = parse_tool_fields(record, fail)
    expected_raw = record.get("expected_output")
    if expected_raw is None and tools.expected_output is not None:
        expected_raw = tools.expected_output
    return Example(
        id=example_id,
        input=_parse_input(record.get("input"), fail),
        expected_output=_parse_expected(expected_raw, fail),
        expected_action=_optional_str(record.get("expected_action"), "expected_action", fail),
        category=_optional_str(record.get("category"), "category", fail) or "uncategorized",
        tags=_parse_tags(record.get("tags"), fail),
        cluster=_optional_str(record.get("cluster"), "cluster", fail),
        metadata=_parse_metadata(record.get("metadata"), fail),
        expected_calls=tools.calls,
        functions=tools.functions,
        line=line,
    )


def _parse_input(raw: Any, fail: Any) -> str | tuple[ChatMessage, ...]:
    if isinstance(raw, str):
        if not raw.strip():
            raise fail("input", "empty input")
        return raw
    if raw is None:
        raise fail("input", "missing")
    if not isinstance(raw, list) or not raw:
        raise fail("input", "must be a string or a non-empty list of chat messages")
    messages: list[ChatMessage] = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict):
            raise fail(f"input[{i}]", "a chat message must be an object with role and content")
        role, content = message.get("role"), message.get("content")
        if not isinstance(role, str) or role not in _ROLES:
            raise fail(f"input[{i}].role", f"must be one of {sorted(_ROLES)}, got {role!r}")
        if not isinstance(content, str):
            raise fail(f"input[{i}].content", "must be a string")
        messages.append(ChatMessage(role=cast(Role, role), content=content))
    return tuple(messages)


def _parse_expected(raw: Any, fail: Any) -> str:
    if raw is None:
        raise fail("expected_output", "missing")
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict | list):
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    raise fail("expected_output", f"must be a string or a JSON object, got {type(raw).__name__}")


def _optional_str(raw: Any, field: str, fail: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise fail(field, f"must be a string, got {type(raw).__name__}")
    return raw


def _parse_tags(raw: Any, fail: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise fail("tags", "must be a list of strings")
    return tuple(raw)


def _parse_metadata(raw: Any, fail: Any) -> dict[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail("metadata", "must be an object")
    return dict(raw)
