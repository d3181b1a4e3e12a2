"""Native tool calls: functions out as ``tools``, ``tool_calls`` back as canonical calls.

Backends that use a server's or a chat template's function calling (``model.tool_calls:
native``) send an example's ``functions`` with the request and turn what comes back
into the canonical call form the scorer reads: ``{"action": NAME, ...arguments}``
for one call, a JSON array for several (``{"name": ..., "arguments": ...}`` when an
argument is itself called ``action``). Arguments arrive as a JSON string; one that
does not parse is kept as a string, so the example scores as ``unparseable``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from releasegate.benchmark.model import ToolFunction

_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


@dataclass(frozen=True)
class RawCall:
    """A call as a server returns it: a function name and its arguments' JSON text."""

    name: str
    arguments: str | dict[str, Any] | None


def wire_name(name: str) -> str:
    """A function name OpenAI-style servers accept (``^[a-zA-Z0-9_-]{1,64}$``)."""
    return _UNSAFE.sub("_", name)[:64] or "_"


def openai_tools(functions: Sequence[ToolFunction]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The ``tools`` list for a chat-completions request, and wire name -> real name."""
    tools = []
    names: dict[str, str] = {}
    for function in functions:
        wire = wire_name(function.name)
        names[wire] = function.name
        tools.append(
            {
                "type": "function",
                "function": {
                    "name": wire,
                    "description": function.description,
                    "parameters": function.parameters,
                },
            }
        )
    return tools, names


def template_tools(functions: Sequence[ToolFunction]) -> list[dict[str, Any]]:
    """Functions in the form Hugging Face chat templates take as ``tools=``."""
    return openai_tools(functions)[0]


def calls_text(calls: Sequence[RawCall], names: dict[str, str] | None = None) -> str:
    """Calls in the canonical call form, as JSON text."""
    rendered: list[dict[str, Any]] = []
    for call in calls:
        name = (names or {}).get(call.name, call.name)
        args: Any = call.arguments
        if isinstance(args, str):
            with contextlib.suppress(json.JSONDecodeError):
                args = json.loads(args) if args.strip() else {}
        if args is None:
            args = {}
        if isinstance(args, dict) and "action" not in args:
            rendered.append({"action": name, **args})
        else:
            rendered.append({"name": name, "arguments": args})
    body: Any = rendered[0] if len(rendered) == 1 else rendered
    return json.dumps(body, ensure_ascii=False)


def unwrap_template_calls(text: str) -> str:
    """``<tool_call>{...}</tool_call>`` blocks (Hermes/Qwen templates) as canonical text.

    Text without such blocks is returned unchanged.
    """
    blocks = _HERMES.findall(text)
    if not blocks:
        return text
    calls = []
    for block in blocks:
        try:
            item = json.loads(block)
        except json.JSONDecodeError:
            return text
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return text
        calls.append(RawCall(item["name"], item.get("arguments", item.get("parameters"))))
    return calls_text(calls)
