"""Native tool calls: ``tool_calls`` read back as canonical calls; HF chat-template tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from releasegate.backends.base import Prompt
from releasegate.backends.tool_calls import RawCall, calls_text, unwrap_template_calls
from releasegate.benchmark.model import ToolFunction
from releasegate.config.schema import ModelSettings
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


_TOOLS_TEMPLATE = (
    "{% if tools %}TOOLS:{% for t in tools %}{{ t.function.name }};{% endfor %}{% endif %}"
    "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
)


@pytest.mark.slow
def test_hf_passes_tools_to_a_tools_aware_chat_template() -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from releasegate.backends.hf import HFBackend

    tiny = Path(__file__).resolve().parents[2] / "examples" / "task-api" / "models" / "tiny-v1"
    settings = ModelSettings(device="cpu", tool_calls="native")
    backend = HFBackend.from_settings(str(tiny), settings)
    backend._loaded().tokenizer.chat_template = _TOOLS_TEMPLATE
    prompt = Prompt(sample_id="a", input="hypot", tools=(FUNCTION,))
    assert backend.render(prompt).startswith("TOOLS:math_hypot;")
    text_mode = HFBackend.from_settings(str(tiny), ModelSettings(device="cpu"))
    text_mode._loaded().tokenizer.chat_template = _TOOLS_TEMPLATE
    assert not text_mode.render(prompt).startswith("TOOLS:")
    assert text_mode.info().details["tool_calls"] == "text"
