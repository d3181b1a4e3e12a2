"""Anthropic (real SDK, local messages server) and the local HF judge provider."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from judge_support import judge_config, make_examples, right_outputs

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.judge.providers.hf_local import HFJudgeProvider
from releasegate.judge.runner import Ledger, RunState, WorkItem, judge_all
from releasegate.judge.stage import plan_sample, run_judge_stage
from releasegate.testing.fake_llm_server import FakeLLMServer, Fault, reference_verdict

KEY = "sk-ant-test-SECRET-998877"


def test_anthropic_provider_tool_verdicts_retries_and_usage(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RG_TEST_ANTHROPIC_KEY", KEY)
    server.push_faults(Fault("429", retry_after="0.05"), Fault("500"))
    exs = make_examples(20)
    outputs = right_outputs(exs)
    for e in exs[::2]:
        outputs[e.id] = '{"action": "nothing"}'
    cfg = judge_config(
        server,
        provider="anthropic",
        model="claude-haiku-4-5",
        base_url=server.root_url,
        api_key_env="RG_TEST_ANTHROPIC_KEY",
        input_price_per_mtok=None,
        output_price_per_mtok=None,
        concurrency=2,
    )
    out = run_judge_stage(examples=exs, outputs=outputs, config=cfg, seed=3, cache_path=None)
    assert out.status == "success", out.errors
    assert out.metrics["judge_coverage"].value == 1.0
    assert len(server.requests) == 12
    req = server.requests[-1]
    assert req.path == "/v1/messages" and KEY in req.headers["authorization"]
    assert req.body["tool_choice"] == {"type": "tool", "name": "record_verdict"}
    assert isinstance(req.body["system"], str) and "never instructions" in req.body["system"]
    for it in out.items:
        expected = (
            5 if outputs[it.id] == next(e for e in exs if e.id == it.id).expected_output else 2
        )
        assert it.scores == dict.fromkeys(("accuracy", "helpfulness", "format_quality"), expected)
    # Priced from the dated default table (claude-haiku-4-5: $1 / $5 per Mtok).
    assert out.price_known
    assert out.spent_usd == pytest.approx((out.tokens_in * 1.0 + out.tokens_out * 5.0) / 1e6)
    assert KEY not in out.model_dump_json()


def test_anthropic_text_reply_is_parsed_or_an_error(server: FakeLLMServer) -> None:
    server.set_verdict(lambda s, u: "no tool call, just words")
    exs = make_examples(10)
    cfg = judge_config(
        server,
        provider="anthropic",
        model="claude-x",
        base_url=server.root_url,
        api_key_env=None,
        max_parse_retries=0,
        on_low_coverage="warn",
    )
    out = run_judge_stage(
        examples=exs, outputs=right_outputs(exs), config=cfg, seed=0, cache_path=None
    )
    assert out.status == "failed"
    assert all(it.scores is None and "unparseable" in (it.error or "") for it in out.items)


class _FakeLocalModel:
    """A Backend that answers like the reference judge (no weights needed)."""

    name = "fake-local"

    def __init__(self) -> None:
        self.calls = 0

    def info(self) -> ModelInfo:
        return ModelInfo(backend="fake", ref="fake", fingerprint="fake")

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        assert params.temperature == 0.0
        self.calls += len(prompts)
        out = []
        for p in prompts:
            assert not isinstance(p.input, str)
            system, user = p.input[0].content, p.input[1].content
            import json

            text = json.dumps(reference_verdict(system, user))
            out.append(Generation(sample_id=p.sample_id, text=text, tokens_in=50, tokens_out=20))
        return out


def _run_hf(loader, n: int = 10):  # type: ignore[no-untyped-def]
    import asyncio
    import random

    from releasegate.config.judge import JudgeConfig

    cfg = JudgeConfig(provider="hf", model="/models/judge", on_low_coverage="warn")
    exs = make_examples(n)
    plan = plan_sample(examples=exs, outputs=right_outputs(exs), config=cfg, seed=0, cache=None)

    async def go() -> list:  # type: ignore[type-arg]
        provider = HFJudgeProvider(cfg, loader=loader)
        state = RunState(
            config=cfg,
            provider=provider,
            cache=None,
            ledger=Ledger(budget_usd=cfg.budget_usd, prices=cfg.prices()),
            rng=random.Random(0),
            semaphore=asyncio.Semaphore(4),
        )
        try:
            return await judge_all(state, list[WorkItem](plan.work))
        finally:
            await provider.aclose()

    return asyncio.run(go())


def test_hf_judge_provider_uses_the_backend() -> None:
    model = _FakeLocalModel()
    items = _run_hf(lambda ref: model)
    assert model.calls == 10
    assert all(it.scores == {"accuracy": 5, "helpfulness": 5, "format_quality": 5} for it in items)
    assert all(it.tokens_in == 50 and it.cost_usd == 0.0 for it in items)


def test_hf_judge_load_failure_is_a_clear_fatal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from releasegate.backends import hf
    from releasegate.config.judge import JudgeConfig
    from releasegate.errors import BackendError

    seen: list[str] = []

    def fail(ref: str, settings: object = None) -> object:
        seen.append(ref)
        raise BackendError(f"model path {ref!r} does not exist or is not a directory")

    # The registry's hf provider goes through HFBackend.from_settings (stubbed: no torch import).
    monkeypatch.setattr(hf.HFBackend, "from_settings", staticmethod(fail))
    cfg = JudgeConfig(provider="hf", model=str(tmp_path / "nope"), on_low_coverage="warn")
    exs = make_examples(10)
    out = run_judge_stage(
        examples=exs, outputs=right_outputs(exs), config=cfg, seed=0, cache_path=None
    )
    assert seen == [str(tmp_path / "nope")]  # loaded once, then the run stopped
    assert out.status == "failed"
    assert not out.price_known
    assert "cannot load the local judge model" in (out.items[0].error or "")
    assert "does not exist" in (out.items[0].error or "")
    assert all(it.scores is None for it in out.items)
