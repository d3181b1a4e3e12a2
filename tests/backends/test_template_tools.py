"""Native tool calls through a tools-aware chat template: HF and vLLM encode them alike.

The committed tiny-v1's template takes no tools, so a copy of it gets a Hermes-style
template that does. The vLLM backend's prompt encoding and output reading need no
vLLM (its engine only sees token ids), so they are checked here with the real
tokenizer against the HF backend; the full vLLM run is in tests/engines.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from releasegate.backends.base import Generation, Prompt
from releasegate.backends.chat import tool_calls_detail
from releasegate.benchmark.model import ToolFunction
from releasegate.config.schema import ModelSettings

V1 = Path(__file__).resolve().parents[2] / "examples" / "task-api" / "models" / "tiny-v1"
TOOLS_TEMPLATE = (
    "{% if tools %}<|system|>You may call: {% for t in tools %}{{ t.function.name }}"
    "({{ t.function.parameters | tojson }}) {% endfor %}\n{% endif %}"
    "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
HYPOT = ToolFunction(
    "math.hypot",
    {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
)


@pytest.fixture(scope="module")
def tools_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny-v1 with a chat template that renders ``tools``."""
    model = tmp_path_factory.mktemp("models") / "tiny-v1-tools"
    shutil.copytree(V1, model)
    (model / "chat_template.jinja").write_text(TOOLS_TEMPLATE, encoding="utf-8")
    return model


def test_the_tool_calls_detail_says_which_form_was_used() -> None:
    native = ModelSettings(tool_calls="native")
    assert tool_calls_detail(native, TOOLS_TEMPLATE) == "native"
    assert tool_calls_detail(native, "{{ messages }}") == "text (the chat template has no tools)"
    off = ModelSettings(tool_calls="native", use_chat_template=False)
    assert tool_calls_detail(off, TOOLS_TEMPLATE) == "text (the chat template has no tools)"
    assert tool_calls_detail(ModelSettings(), TOOLS_TEMPLATE) == "text"


@pytest.mark.slow
def test_vllm_encodes_native_tools_as_the_hf_backend_does_and_reads_the_calls(
    tools_model: Path,
) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from transformers import AutoTokenizer

    from releasegate.backends.hf import HFBackend
    from releasegate.backends.vllm import VLLMBackend

    settings = ModelSettings(device="cpu", tool_calls="native")
    hf = HFBackend.from_settings(str(tools_model), settings)
    assert hf.info().details["tool_calls"] == "native"
    engine = SimpleNamespace(
        llm_engine=SimpleNamespace(model_config=SimpleNamespace(max_model_len=512))
    )
    vllm = VLLMBackend(
        str(tools_model),
        llm=engine,
        tokenizer=AutoTokenizer.from_pretrained(str(tools_model)),
        settings=settings,
        lora_request=None,
        fingerprint="sha256:x",
        details={"base": ""},
    )
    with_tools = Prompt(sample_id="a", input="hypot of 3", tools=(HYPOT,))
    without = Prompt(sample_id="b", input="hypot of 3")
    assert hf.render(with_tools).startswith("<|system|>You may call: math_hypot(")
    assert "You may call" not in hf.render(without)
    for prompt in (with_tools, without):
        assert vllm.encode(prompt) == hf.encode(prompt)
    block = '<tool_call>\n{"name": "math_hypot", "arguments": {"x": 3}}\n</tool_call>'
    read = vllm._read_calls(with_tools, Generation(sample_id="a", text=block))
    assert json.loads(read.text or "") == {"action": "math_hypot", "x": 3}
    assert vllm._read_calls(without, Generation(sample_id="b", text=block)).text == block
    text_mode = HFBackend.from_settings(str(tools_model), ModelSettings(device="cpu"))
    assert "You may call" not in text_mode.render(with_tools)
