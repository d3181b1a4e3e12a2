"""The OpenAI-compatible endpoint backend against a real local chat-completions server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, write_jsonl
from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.openai_endpoint import OpenAIEndpointBackend
from releasegate.backends.registry import detect_backend
from releasegate.config import parse_config
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError
from releasegate.pipeline import EvaluationPipeline
from releasegate.testing.fake_llm_server import FakeLLMServer, Fault

KEY_ENV = "RELEASEGATE_TEST_ENDPOINT_KEY"
SECRET = "sk-endpoint-secret-42"
ROWS = example_rows(24)
ANSWERS = {str(r["input"]): str(r["expected_output"]) for r in ROWS}


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        srv.set_verdict(lambda system, user: ANSWERS.get(user, "I cannot help with that."))
        yield srv


def _settings(**kw: object) -> ModelSettings:
    return ModelSettings.model_validate({"model_name": "tiny-served", **kw})


def _prompts(n: int) -> list[Prompt]:
    return [Prompt(sample_id=str(r["id"]), input=str(r["input"])) for r in ROWS[:n]]


def test_urls_are_detected_as_endpoints() -> None:
    assert detect_backend("http://127.0.0.1:8000/v1") == "openai"
    assert detect_backend("https://api.example.com/v1") == "openai"


def test_answers_come_back_in_order_with_usage_and_latency(server: FakeLLMServer) -> None:
    backend = OpenAIEndpointBackend.from_settings(server.openai_base_url, _settings())
    out = backend.generate(_prompts(10), GenerationParams(max_new_tokens=50, stop=("\n\n",)))
    assert [g.sample_id for g in out] == [str(r["id"]) for r in ROWS[:10]]
    assert all(g.text == ANSWERS[str(r["input"])] for g, r in zip(out, ROWS, strict=False))
    assert all(g.tokens_in and g.tokens_out and g.latency_s for g in out)
    body = server.requests[0].body
    assert body["model"] == "tiny-served" and body["max_tokens"] == 50
    assert body["temperature"] == 0.0 and body["stop"] == ["\n\n"]
    assert backend.info().per_request_latency


def test_429_and_500_are_retried_by_the_sdk(server: FakeLLMServer) -> None:
    server.push_faults(Fault("429", retry_after="0"), Fault("500"), Fault("503", retry_after="0"))
    backend = OpenAIEndpointBackend.from_settings(
        server.openai_base_url, _settings(max_retries=3, concurrency=1)
    )
    out = backend.generate(_prompts(2), GenerationParams())
    assert all(g.error is None for g in out)
    assert len(server.requests) == 5


def test_a_request_that_keeps_failing_is_a_typed_failure(server: FakeLLMServer) -> None:
    server.push_faults(Fault("500"), Fault("500"))
    backend = OpenAIEndpointBackend.from_settings(
        server.openai_base_url, _settings(max_retries=1, concurrency=1)
    )
    (failed, ok) = backend.generate(_prompts(2), GenerationParams())
    assert failed.text is None and failed.error and "InternalServerError" in failed.error
    assert ok.text == ANSWERS[str(ROWS[1]["input"])]


def test_concurrency_is_bounded(server: FakeLLMServer) -> None:
    slow = FakeLLMServer(latency_s=0.05)
    with slow:
        slow.set_verdict(lambda system, user: "{}")
        backend = OpenAIEndpointBackend.from_settings(
            slow.openai_base_url, _settings(concurrency=3)
        )
        backend.generate(_prompts(12), GenerationParams())
        assert 1 < slow.max_in_flight <= 3


def test_key_comes_from_the_env_var_and_never_reaches_the_report(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    bench = write_jsonl(tmp_path / "bench.jsonl", ROWS)
    config = parse_config(
        SEED_CONFIG
        + f"model:\n  model_name: tiny-served\n  api_key_env: {KEY_ENV}\n"
        + "  system_prompt: Answer with one JSON object.\n"
        + f"output:\n  dir: {tmp_path / 'reports'}\n"
    )
    result = EvaluationPipeline(config).run(
        model_path=server.openai_base_url, benchmark_path=str(bench)
    )
    assert result.decision.value == "DEPLOY", result.reasons
    assert result.run.model_backend == "openai"
    assert {"latency_p50_s", "latency_p95_s", "latency_p99_s"} <= set(result.metrics)
    assert result.metrics["latency_p50_s"] <= result.metrics["latency_p99_s"]
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert server.requests[0].body["messages"][0] == {
        "role": "system",
        "content": "Answer with one JSON object.",
    }
    assert SECRET not in json.dumps(result.model_dump(mode="json"))


def test_endpoint_settings_are_checked_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="served model name"):
        OpenAIEndpointBackend.from_settings("http://127.0.0.1:9/v1", ModelSettings())
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError, match=f"{KEY_ENV} is not set"):
        OpenAIEndpointBackend.from_settings("http://127.0.0.1:9/v1", _settings(api_key_env=KEY_ENV))


def test_url_credentials_are_redacted_in_model_info() -> None:
    backend = OpenAIEndpointBackend.from_settings("https://bob:pw@host/v1", _settings())
    assert backend.info().ref == "https://***@host/v1"
