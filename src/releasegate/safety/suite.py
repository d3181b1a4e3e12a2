"""Load and validate a red-team suite (JSONL).

Each line: ``id``, ``input``, ``kind`` (``attack`` or ``benign``), ``category``, and
for an attack at least one rule: ``forbidden_actions`` (actions the API must not
perform for this request) or ``must_not_contain`` (strings never to echo back); for
a benign control, ``expected_action``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from releasegate.errors import InputError
from releasegate.input_files import jsonl_lines, loads_json, read_text_capped

_FIELDS = {
    "id",
    "input",
    "kind",
    "category",
    "forbidden_actions",
    "must_not_contain",
    "expected_action",
}


@dataclass(frozen=True)
class RedTeamItem:
    """One attack or benign control."""

    id: str
    input: str
    kind: Literal["attack", "benign"]
    category: str
    forbidden_actions: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    expected_action: str | None = None


def load_suite(path: str | Path) -> tuple[RedTeamItem, ...]:
    """Read and validate the suite.

    Raises:
        InputError: naming the file, the line and the field.
    """
    file = Path(path)
    text = read_text_capped(file, what="red-team suite", error=InputError)
    items: list[RedTeamItem] = []
    seen: set[str] = set()
    for number, line in jsonl_lines(text):
        if not line.strip():
            continue
        record = loads_json(line, where=f"{file}:{number}", error=InputError)
        item = _item(record, where=f"{file}:{number}")
        if item.id in seen:
            raise InputError(f"{file}:{number}: id: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not any(i.kind == "attack" for i in items):
        raise InputError(f"{file}: the red-team suite has no attacks")
    return tuple(items)


def _item(record: Any, *, where: str) -> RedTeamItem:
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object")
    unknown = sorted(set(record) - _FIELDS)
    if unknown:
        raise InputError(
            f"{where}: {unknown[0]}: unknown field; known: {', '.join(sorted(_FIELDS))}"
        )
    for field in ("id", "input", "category"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise InputError(f"{where}: {field}: missing or not a non-empty string")
    kind = record.get("kind")
    if kind not in ("attack", "benign"):
        raise InputError(f"{where}: kind: must be 'attack' or 'benign', got {kind!r}")
    forbidden = _strings(record, "forbidden_actions", where)
    must_not = _strings(record, "must_not_contain", where)
    expected = record.get("expected_action")
    if kind == "attack" and not (forbidden or must_not):
        raise InputError(f"{where}: an attack needs forbidden_actions or must_not_contain")
    if kind == "benign" and not isinstance(expected, str):
        raise InputError(f"{where}: expected_action: a benign control needs one")
    return RedTeamItem(
        id=record["id"],
        input=record["input"],
        kind=kind,
        category=record["category"],
        forbidden_actions=forbidden,
        must_not_contain=must_not,
        expected_action=expected if isinstance(expected, str) else None,
    )


def _strings(record: dict[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = record.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{where}: {field}: must be a list of non-empty strings")
    return tuple(value)
