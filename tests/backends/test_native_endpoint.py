"""Native tool calls and stop strings on the endpoint backend, against the real local server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.endpoint_reply import MalformedReply, StreamReader, parse_body
from releasegate.backends.openai_endpoint import NATIVE_DETAIL, OpenAIEndpointBackend
from releasegate.benchmark.model import ToolFunction
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError
from releasegate.scoring.toolcalls import read_calls
from releasegate.testing.fake_llm_server import FakeLLMServer, Verdict

HYPOT = ToolFunction(
    "math.hypot",
    {
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        "required": ["x", "y"],
    },
    "Euclidean norm",
)
WEATHER = ToolFunction(
    "get_weather",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
REPLIES: dict[str, Verdict] = {
    "hypot of 3 and 4": '{"action": "math.hypot", "x": 3, "y": 4}',
    "two cities": '[{"action": "get_weather", "city": "Paris"}, '
    '{"action": "get_weather", "city": "Rome"}]',
    "broken": {"tool_calls": [{"name": "math_hypot", "arguments": '{"x": 3, "y": '}]},
    "chat": "Hello there.\nUser: more",
}


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        srv.set_verdict(lambda system, user: REPLIES.get(user, "no idea"))
        yield srv


def _backend(server: FakeLLMServer, **kw: object) -> OpenAIEndpointBackend:
    settings = ModelSettings.model_validate({"model_name": "tiny-served", **kw})
    return OpenAIEndpointBackend.from_settings(server.openai_base_url, settings)


def _prompt(text: str, *tools: ToolFunction) -> Prompt:
    return Prompt(sample_id=text, input=text, tools=tools)


@pytest.mark.parametrize("stream", [True, False])
def test_native_sends_tools_and_reads_tool_calls_as_canonical_calls(
    server: FakeLLMServer, stream: bool
) -> None:
    backend = _backend(server, tool_calls="native", tool_choice="required", stream=stream)
    prompts = [_prompt("hypot of 3 and 4", HYPOT, WEATHER), _prompt("two cities", WEATHER)]
    one, two = backend.generate(prompts, GenerationParams())
    assert one.error is None and json.loads(one.text or "") == {
        "action": "math.hypot",
        "x": 3,
        "y": 4,
    }
    assert json.loads(two.text or "") == [
        {"action": "get_weather", "city": "Paris"},
        {"action": "get_weather", "city": "Rome"},
    ]
    assert one.finish_reason == "tool_calls"
    if stream:
        assert one.ttft_s is not None and one.inter_token_s  # tool-call deltas are tokens
    sent = {str(r.body["messages"][-1]["content"]): r.body for r in server.requests}  # type: ignore[index]
    body = sent["hypot of 3 and 4"]
    assert body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in body["tools"]] == ["math_hypot", "get_weather"]  # type: ignore[index, union-attr]
    assert body["tools"][0]["function"]["parameters"] == HYPOT.parameters  # type: ignore[index]
    assert backend.info().details["tool_calls"] == NATIVE_DETAIL
    assert backend.notes() == []


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_arguments_are_an_unparseable_output_not_a_failure(
    server: FakeLLMServer, stream: bool
) -> None:
    backend = _backend(server, tool_calls="native", stream=stream, max_retries=0)
    (gen,) = backend.generate([_prompt("broken", HYPOT)], GenerationParams())
    assert gen.error is None and gen.text is not None
    assert json.loads(gen.text) == {"name": "math.hypot", "arguments": '{"x": 3, "y": '}
    assert read_calls(json.loads(gen.text)) is None  # scored as `unparseable`


def test_text_mode_sends_no_tools_and_reads_the_text(server: FakeLLMServer) -> None:
    (gen,) = _backend(server).generate([_prompt("hypot of 3 and 4", HYPOT)], GenerationParams())
    assert "tools" not in server.requests[0].body and "tool_choice" not in server.requests[0].body
    assert gen.text == REPLIES["hypot of 3 and 4"]
    assert _backend(server).info().details["tool_calls"] == "text"


def test_an_example_without_functions_is_asked_as_text_and_the_run_says_so(
    server: FakeLLMServer,
) -> None:
    backend = _backend(server, tool_calls="native")
    out = backend.generate(
        [_prompt("hypot of 3 and 4"), _prompt("chat"), _prompt("two cities", WEATHER)],
        GenerationParams(),
    )
    assert out[0].text == REPLIES["hypot of 3 and 4"]  # the text reply, untouched
    without = [r.body for r in server.requests if "tools" not in r.body]
    assert len(without) == 2
    (note,) = backend.notes()
    assert "2 example(s) have no functions" in note and "asked as text" in note


def test_native_needs_chat_completions_and_owns_tools_in_extra_body() -> None:
    with pytest.raises(ConfigError, match="needs model.api: chat"):
        OpenAIEndpointBackend.from_settings(
            "http://127.0.0.1:9/v1",
            ModelSettings(model_name="m", tool_calls="native", api="completions"),
        )
    with pytest.raises(ConfigError, match="tools"):
        OpenAIEndpointBackend.from_settings(
            "http://127.0.0.1:9/v1",
            ModelSettings(model_name="m", tool_calls="native", extra_body={"tools": []}),
        )


@pytest.mark.parametrize("stream", [True, False])
def test_a_stop_string_the_server_left_in_is_cut_like_the_hf_backend(
    server: FakeLLMServer, stream: bool
) -> None:
    params = GenerationParams(stop=("\nUser:", "\n\n"))
    (gen,) = _backend(server, stream=stream).generate([_prompt("chat")], params)
    assert gen.text == "Hello there." and gen.finish_reason == "stop"
    assert server.requests[0].body["stop"] == ["\nUser:", "\n\n"]
    (kept,) = _backend(server, stream=stream).generate([_prompt("chat")], GenerationParams())
    assert kept.text == REPLIES["chat"]


def test_content_null_beside_tool_calls_and_without_them() -> None:
    reply = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [
                        {"type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    parsed = parse_body(json.dumps(reply).encode(), "application/json", api="chat")
    assert parsed.text == "" and [c.name for c in parsed.calls] == ["f"]
    reply["choices"][0]["message"] = {"content": None}
    with pytest.raises(MalformedReply, match="content is missing"):
        parse_body(json.dumps(reply).encode(), "application/json", api="chat")
    reply["choices"][0]["message"] = {"content": None, "tool_calls": [{"function": {"name": 3}}]}
    with pytest.raises(MalformedReply, match=r"tool_calls\[0\].function.name"):
        parse_body(json.dumps(reply).encode(), "application/json", api="chat")


def _event(delta: dict[str, object], finish: str | None = None) -> str:
    return "data: " + json.dumps({"choices": [{"delta": delta, "finish_reason": finish}]})


def test_streamed_tool_call_deltas_accumulate_by_index() -> None:
    reader = StreamReader(api="chat")
    deltas: list[dict[str, object]] = [
        {"tool_calls": [{"index": 1, "function": {"name": "get_", "arguments": '{"ci'}}]},
        {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]},
        {
            "tool_calls": [
                {"index": 1, "function": {"name": "weather", "arguments": 'ty": "Rome"}'}}
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
    ]
    for t, delta in enumerate(deltas):
        reader.feed(_event(delta), float(t))
    reader.feed(_event({}, "tool_calls"), 9.0)
    reply = reader.reply()
    assert [(c.name, c.arguments) for c in reply.calls] == [
        ("f", "{}"),
        ("get_weather", '{"city": "Rome"}'),
    ]
    assert reply.first_token_at == 0.0 and len(reply.gaps_s) == 3
    nameless = StreamReader(api="chat")
    nameless.feed(_event({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}), 0.0)
    nameless.feed("data: [DONE]", 1.0)
    with pytest.raises(MalformedReply, match="never named its function"):
        nameless.reply()
