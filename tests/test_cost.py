"""Cost per 1,000 requests: from token prices or a GPU hourly rate, never invented."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult


def _run(tmp_path: Path, extra: str) -> PipelineResult:
    rows = example_rows(10)
    replay = [
        {**r, "tokens_in": 100 + i, "tokens_out": 20} for i, r in enumerate(replay_rows(rows))
    ]
    config = parse_config(SEED_CONFIG + extra + f"output:\n  dir: {tmp_path / 'r'}\n")
    return EvaluationPipeline(config).run(
        model_path=str(write_jsonl(tmp_path / "m.jsonl", replay)),
        benchmark_path=str(write_jsonl(tmp_path / "b.jsonl", rows)),
    )


def test_token_prices_give_cost_per_1000_requests(tmp_path: Path) -> None:
    result = _run(tmp_path, "cost:\n  input_price_per_mtok: 0.5\n  output_price_per_mtok: 2.0\n")
    assert result.metrics["tokens_in_mean"] == pytest.approx(104.5)
    expected = 1000 * (104.5 * 0.5 + 20 * 2.0) / 1e6
    assert result.metrics["cost_per_1k_requests_usd"] == pytest.approx(expected)


def test_gpu_rate_follows_the_measured_throughput(tmp_path: Path) -> None:
    result = _run(tmp_path, "cost:\n  gpu_usd_per_hour: 0.35\n")
    wall = result.metrics["generation_seconds"]
    assert result.metrics["gpu_cost_per_1k_requests_usd"] == pytest.approx(
        1000 * wall / 10 * 0.35 / 3600
    )
    assert "cost_per_1k_requests_usd" not in result.metrics


def test_no_prices_no_cost_metrics(tmp_path: Path) -> None:
    result = _run(tmp_path, "")
    assert not any("cost" in name for name in result.metrics)
