"""Native tool calls: ``tool_calls`` read back as canonical calls; HF chat-template tools."""

from __future__ import annotations

import json

from releasegate.backends.tool_calls import RawCall, calls_text, unwrap_template_calls
from releasegate.benchmark.model import ToolFunction
from releasegate.scoring.toolcalls import read_calls

FUNCTION = ToolFunction(
    "math.hypot",
    {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}},
    "Euclidean norm",
)


def test_unparseable_arguments_stay_unparseable() -> None:
    text = calls_text([RawCall("f", "{not json")])
    assert read_calls(json.loads(text)) is None
    assert json.loads(calls_text([RawCall("f", {"action": 1})])) == {
        "name": "f",
        "arguments": {"action": 1},
    }


def test_chat_template_tool_call_blocks_are_unwrapped() -> None:
    text = '<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>'
    assert json.loads(unwrap_template_calls(text)) == {"action": "f", "x": 1}
    assert unwrap_template_calls('{"action": "f"}') == '{"action": "f"}'
