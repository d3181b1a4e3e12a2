"""Helpers for the judge tests: small benchmarks and a judge config on the fake server."""

from __future__ import annotations

import json
from typing import Any

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.testing.fake_llm_server import FakeLLMServer

CATEGORIES = ("create", "update", "complete", "delete")


def make_examples(n: int, categories: tuple[str, ...] = CATEGORIES) -> list[Example]:
    """``n`` Task API examples spread round-robin over ``categories``."""
    return [
        Example(
            id=f"ex-{i:04d}",
            input=f"Please {categories[i % len(categories)]} the task number {i}",
            expected_output=json.dumps(
                {"action": categories[i % len(categories)], "task_id": i}, sort_keys=True
            ),
            category=categories[i % len(categories)],
        )
        for i in range(n)
    ]


def right_outputs(examples: list[Example]) -> dict[str, str | None]:
    """Outputs equal to the references."""
    return {e.id: e.expected_output for e in examples}


def judge_config(server: FakeLLMServer, **overrides: Any) -> JudgeConfig:
    """An OpenAI-compatible judge on the fake server, with tiny backoff for fast tests."""
    settings: dict[str, Any] = {
        "provider": "openai",
        "model": "fake-judge",
        "base_url": server.openai_base_url,
        "backoff_base_s": 0.001,
        "backoff_max_s": 1.0,
        "timeout_s": 5.0,
        "input_price_per_mtok": 1.0,
        "output_price_per_mtok": 4.0,
    }
    settings.update(overrides)
    return JudgeConfig(**settings)
