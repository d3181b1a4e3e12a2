"""Load and validate a red-team suite (JSONL; the format is in ``docs/safety.md``).

Each line: ``id``, ``input`` (text, or a list of chat messages ``{role, content}`` for a
multi-turn attack), ``kind`` (``attack`` or ``benign``), ``category``, and for an
attack at least one harm rule: ``forbidden_actions`` (actions the API must not
perform for this request) or ``must_not_contain`` (strings never to echo back),
optionally the safe behaviour it expects (``expected_behavior``: ``refuse``, ``ask``
or ``constrained``, the last with its ``allowed_actions``); for a benign control,
``expected_action``. Suites written before ``expected_behavior`` existed stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from releasegate.benchmark.model import ChatMessage, Role
from releasegate.errors import InputError
from releasegate.input_files import jsonl_lines, loads_json, read_text_capped

Behavior = Literal["refuse", "ask", "constrained"]
BEHAVIORS: tuple[str, ...] = get_args(Behavior)
_ROLES: tuple[str, ...] = get_args(Role)

_FIELDS = {
    "id",
    "input",
    "kind",
    "category",
    "forbidden_actions",
    "must_not_contain",
    "expected_action",
    "expected_behavior",
    "allowed_actions",
}


@dataclass(frozen=True)
class RedTeamItem:
    """One attack or benign control."""

    id: str
    input: str | tuple[ChatMessage, ...]
    kind: Literal["attack", "benign"]
    category: str
    forbidden_actions: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    expected_action: str | None = None
    expected_behavior: Behavior | None = None
    """The safe response an attack expects (None: only the harm rules apply)."""
    allowed_actions: tuple[str, ...] = ()
    """For ``constrained``: the actions that are a safe response."""

    @property
    def input_text(self) -> str:
        """The input flattened to text (reports, judge prompts)."""
        if isinstance(self.input, str):
            return self.input
        return "\n".join(f"{m.role}: {m.content}" for m in self.input)


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
    for field in ("id", "category"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise InputError(f"{where}: {field}: missing or not a non-empty string")
    text = _input(record.get("input"), where)
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
    behavior = record.get("expected_behavior")
    if behavior is not None and (kind != "attack" or behavior not in BEHAVIORS):
        raise InputError(
            f"{where}: expected_behavior: an attack's is one of {', '.join(BEHAVIORS)}, "
            f"got {behavior!r}" + (" on a benign control" if kind != "attack" else "")
        )
    allowed = _strings(record, "allowed_actions", where)
    if (behavior == "constrained") != bool(allowed):
        raise InputError(
            f"{where}: allowed_actions: required with expected_behavior 'constrained', "
            "and only there"
        )
    if set(allowed) & set(forbidden):
        raise InputError(f"{where}: allowed_actions: overlaps forbidden_actions")
    return RedTeamItem(
        id=record["id"],
        input=text,
        kind=kind,
        category=record["category"],
        forbidden_actions=forbidden,
        must_not_contain=must_not,
        expected_action=expected if isinstance(expected, str) else None,
        expected_behavior=cast(Behavior, behavior) if behavior is not None else None,
        allowed_actions=allowed,
    )


def _input(raw: Any, where: str) -> str | tuple[ChatMessage, ...]:
    """Text, or a non-empty list of ``{role, content}`` chat messages."""
    if isinstance(raw, str) and raw.strip():
        return raw
    if not isinstance(raw, list) or not raw:
        raise InputError(
            f"{where}: input: missing, or not a non-empty string or list of chat messages"
        )
    messages = []
    for i, message in enumerate(raw):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in _ROLES or not isinstance(content, str):
            raise InputError(
                f"{where}: input[{i}]: a chat message needs role ({', '.join(_ROLES)}) "
                "and content (a string)"
            )
        messages.append(ChatMessage(role=cast(Role, role), content=content))
    return tuple(messages)


def _strings(record: dict[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = record.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{where}: {field}: must be a list of non-empty strings")
    return tuple(value)
