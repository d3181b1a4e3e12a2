"""The OpenAI-compatible endpoint backend against a real local server (fake_llm_server)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, write_jsonl
from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.openai_endpoint import OpenAIEndpointBackend, redact_url
from releasegate.backends.registry import detect_backend
from releasegate.config import parse_config
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError
from releasegate.generate import run_generation
from releasegate.pipeline import EvaluationPipeline
from releasegate.testing.fake_llm_server import FakeLLMServer, Fault

KEY_ENV = "RELEASEGATE_TEST_ENDPOINT_KEY"
SECRET = "sk-endpoint-secret-42"
ROWS = example_rows(24)
ANSWERS = {str(r["input"]): str(r["expected_output"]) for r in ROWS}


def _answer(system: str, user: str) -> str:
    return ANSWERS.get(user.rsplit("\n\n", 1)[-1], "I cannot help with that.")


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        srv.set_verdict(_answer)
        yield srv


def _settings(**kw: object) -> ModelSettings:
    return ModelSettings.model_validate({"model_name": "tiny-served", **kw})


def _prompts(n: int) -> list[Prompt]:
    return [Prompt(sample_id=str(r["id"]), input=str(r["input"])) for r in ROWS[:n]]


def _backend(server: FakeLLMServer, **kw: object) -> OpenAIEndpointBackend:
    return OpenAIEndpointBackend.from_settings(server.openai_base_url, _settings(**kw))


def test_urls_are_detected_as_endpoints() -> None:
    assert detect_backend("http://127.0.0.1:8000/v1") == "openai"
    assert detect_backend("https://api.example.com/v1") == "openai"


def test_streamed_answers_come_back_in_order_with_usage_ttft_and_gaps(
    server: FakeLLMServer,
) -> None:
    server.set_streaming(token_delay_s=0.002)
    out = _backend(server).generate(_prompts(10), GenerationParams(max_new_tokens=50, stop=("\n",)))
    assert [g.sample_id for g in out] == [str(r["id"]) for r in ROWS[:10]]
    assert [g.text for g in out] == [ANSWERS[str(r["input"])] for r in ROWS[:10]]
    for g in out:
        assert g.tokens_in and g.tokens_out and g.tokens_source == "server usage"
        assert g.ttft_s is not None and 0 < g.ttft_s <= (g.latency_s or 0)
        assert g.inter_token_s and all(gap >= 0 for gap in g.inter_token_s)
    body = server.requests[0].body
    assert body["model"] == "tiny-served" and body["max_tokens"] == 50
    assert body["temperature"] == 0.0 and body["stop"] == ["\n"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert server.requests[0].path == "/v1/chat/completions"


def test_a_server_that_does_not_stream_or_count_is_accepted_and_labelled(
    server: FakeLLMServer,
) -> None:
    server.set_streaming(streams=False)
    (g,) = _backend(server).generate(_prompts(1), GenerationParams())
    assert g.text == ANSWERS[str(ROWS[0]["input"])] and g.ttft_s is None and not g.inter_token_s
    server.set_streaming(usage=False)
    (g,) = _backend(server).generate(_prompts(1), GenerationParams())
    assert g.ttft_s is not None and g.tokens_out is None and g.tokens_source is None
    (g,) = _backend(server, stream=False).generate(_prompts(1), GenerationParams())
    assert "stream" not in server.requests[-1].body and g.tokens_source == "server usage"


def test_completions_mode_sends_plain_text_like_the_hf_backend_without_a_template(
    server: FakeLLMServer,
) -> None:
    backend = _backend(server, api="completions", system_prompt="Answer in JSON.")
    for stream in (True, False):
        server.set_streaming(streams=stream)
        (g,) = backend.generate(_prompts(1), GenerationParams())
        assert g.text == ANSWERS[str(ROWS[0]["input"])]
        request = server.requests[-1]
        assert request.path == "/v1/completions" and "messages" not in request.body
        assert request.body["prompt"] == f"Answer in JSON.\n\n{ROWS[0]['input']}"


def test_extra_body_is_sent_and_may_not_override_releasegate_fields(
    server: FakeLLMServer,
) -> None:
    backend = _backend(server, extra_body={"repeat_penalty": 1.0, "top_k": 1})
    backend.generate(_prompts(1), GenerationParams())
    assert server.requests[0].body["repeat_penalty"] == 1.0
    assert server.requests[0].body["top_k"] == 1
    with pytest.raises(ConfigError, match="extra_body: max_tokens, temperature"):
        _backend(server, extra_body={"temperature": 0.7, "max_tokens": 5})


def test_429_and_5xx_are_retried_with_retry_after(server: FakeLLMServer) -> None:
    server.push_faults(Fault("429", retry_after="0"), Fault("500"), Fault("503", retry_after="0"))
    out = _backend(server, max_retries=3, concurrency=1).generate(_prompts(2), GenerationParams())
    assert all(g.error is None for g in out)
    assert len(server.requests) == 5


def test_a_request_that_keeps_failing_names_the_url_and_the_status(server: FakeLLMServer) -> None:
    server.push_faults(Fault("500"), Fault("500"))
    backend = _backend(server, max_retries=1, concurrency=1)
    (failed, ok) = backend.generate(_prompts(2), GenerationParams())
    assert failed.text is None and failed.error
    assert f"POST {server.openai_base_url}/chat/completions: HTTP 500" in failed.error
    assert "after 2 attempts" in failed.error
    assert ok.text == ANSWERS[str(ROWS[1]["input"])]


def test_malformed_200_replies_are_retried_then_fail_that_example_with_a_reason(
    server: FakeLLMServer,
) -> None:
    kinds = ("malformed", "html", "bad_content", "truncated")
    server.push_faults(*(Fault(k) for k in kinds))  # type: ignore[arg-type]
    (g,) = _backend(server, max_retries=4, concurrency=1).generate(_prompts(1), GenerationParams())
    assert g.text == ANSWERS[str(ROWS[0]["input"])]
    server.push_faults(*(Fault(k) for k in kinds))  # type: ignore[arg-type]
    out = _backend(server, max_retries=0, concurrency=1).generate(_prompts(5), GenerationParams())
    errors = [g.error or "" for g in out[:4]]
    assert "not valid JSON" in errors[0]
    assert "HTML page" in errors[1]
    assert "message.content is int 12345" in errors[2]
    assert "connection failed mid-reply" in errors[3] or "not valid JSON" in errors[3]
    assert all("malformed reply" in e or "mid-reply" in e for e in errors)
    assert out[4].text is not None


def test_a_404_without_v1_suggests_it_and_stops_the_other_requests(
    server: FakeLLMServer,
) -> None:
    backend = OpenAIEndpointBackend.from_settings(server.root_url, _settings(concurrency=2))
    out = backend.generate(_prompts(12), GenerationParams())
    assert all(g.text is None for g in out)
    assert f"POST {server.root_url}/chat/completions: HTTP 404" in (out[0].error or "")
    assert f"try --model {server.root_url}/v1" in (out[0].error or "")
    assert len(server.requests) <= 2  # the rest were not sent
    assert "not sent" in (out[-1].error or "")


def test_an_unreachable_server_is_named_and_does_not_retry_every_example() -> None:
    with FakeLLMServer() as gone:
        url = gone.openai_base_url
    backend = OpenAIEndpointBackend.from_settings(url, _settings(max_retries=1, concurrency=2))
    started = time.monotonic()
    out = backend.generate(_prompts(20), GenerationParams())
    assert time.monotonic() - started < 5
    assert all(g.text is None for g in out)
    assert f"POST {url}/chat/completions: cannot connect" in (out[0].error or "")


def test_deadline_misses_in_a_row_stop_the_requests_not_yet_sent(
    server: FakeLLMServer,
) -> None:
    server.push_faults(*[Fault("trickle", delay_s=0.1, duration_s=10)] * 24)
    backend = _backend(server, concurrency=2, timeout_s=0.5, max_retries=3)
    started = time.monotonic()
    out = backend.generate(_prompts(24), GenerationParams())
    assert time.monotonic() - started < 5
    assert all(g.text is None for g in out)
    assert "no complete reply within model.timeout_s (0.5 s" in (out[0].error or "")
    assert "4 requests in a row got no complete reply" in (out[-1].error or "")
    assert len(server.requests) <= 6


def test_the_run_bound_fails_what_is_not_finished(server: FakeLLMServer) -> None:
    server.push_faults(Fault("slow", delay_s=3.0))
    backend = _backend(server, concurrency=1, run_timeout_s=0.5, timeout_s=10)
    started = time.monotonic()
    out = backend.generate(_prompts(3), GenerationParams())
    assert time.monotonic() - started < 2
    assert all("not finished within model.run_timeout_s (0.5 s)" in (g.error or "") for g in out)


def test_the_window_keeps_concurrency_in_flight_regardless_of_batch_size() -> None:
    """64 requests in flight at once with generation.batch_size 8 (a sliding window)."""
    with FakeLLMServer() as server:
        server.set_verdict(lambda system, user: "{}")
        server.hold_until_in_flight(64, max_wait_s=20)
        backend = OpenAIEndpointBackend.from_settings(
            server.openai_base_url, _settings(concurrency=64, timeout_s=30)
        )
        prompts = [Prompt(sample_id=f"p{i}", input=f"q{i}") for i in range(80)]
        results, _ = run_generation(
            backend, prompts, params=GenerationParams(batch_size=8), max_output_chars=100
        )
        assert server.max_in_flight == 64
        assert len(results) == 80 and all(g.text == "{}" for g in results.values())


def test_key_comes_from_the_env_var_and_never_reaches_the_report(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    bench = write_jsonl(tmp_path / "bench.jsonl", ROWS)
    config = parse_config(
        SEED_CONFIG
        + f"model:\n  model_name: tiny-served\n  api_key_env: {KEY_ENV}\n  concurrency: 4\n"
        + "  system_prompt: Answer with one JSON object.\n"
        + f"output:\n  dir: {tmp_path / 'reports'}\n"
    )
    result = EvaluationPipeline(config).run(
        model_path=server.openai_base_url, benchmark_path=str(bench)
    )
    assert result.decision.value == "DEPLOY", result.reasons
    assert result.run.model_backend == "openai"
    names = {f"{k}_p{q}_s" for k in ("latency", "ttft", "itl") for q in (50, 95, 99)}
    assert names <= set(result.metrics)
    assert result.metrics["latency_p50_s"] <= result.metrics["latency_p99_s"]
    (generation,) = [s for s in result.stages if s.name == "generation"]
    assert any("at concurrency 4" in n for n in generation.notes)
    assert any("server usage for 24 of 24" in n for n in generation.notes)
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert server.requests[0].body["messages"][0] == {
        "role": "system",
        "content": "Answer with one JSON object.",
    }
    assert SECRET not in json.dumps(result.model_dump(mode="json"))
    recorded = result.run.config["model"]
    assert isinstance(recorded, dict)
    assert {"concurrency", "timeout_s", "api"} <= set(recorded)
    assert not {"dtype", "device", "quantization", "trust_remote_code"} & set(recorded)


def test_endpoint_settings_are_checked_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="served model name"):
        OpenAIEndpointBackend.from_settings("http://127.0.0.1:9/v1", ModelSettings())
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"{KEY_ENV} is not set"):
        OpenAIEndpointBackend.from_settings("http://127.0.0.1:9/v1", _settings(api_key_env=KEY_ENV))


def test_credentials_in_the_url_are_refused_and_key_like_queries_redacted() -> None:
    with pytest.raises(ConfigError, match="credentials in the URL are refused") as caught:
        OpenAIEndpointBackend.from_settings("https://bob:pw-123@host/v1", _settings())
    assert "pw-123" not in str(caught.value)
    assert redact_url("https://h/v1?api-key=abc&api-version=2") == (
        "https://h/v1?api-key=***&api-version=2"
    )
