"""Latency percentiles, TTFT and inter-token gaps, always stated with their concurrency."""

from __future__ import annotations

import pytest

from releasegate.backends.base import Generation
from releasegate.latency import LATENCY_METRICS, latency_metrics, token_count_note


def _gen(i: int, **kw: object) -> Generation:
    return Generation(sample_id=f"s{i}", text="{}", **kw)  # type: ignore[arg-type]


def test_percentiles_of_latency_ttft_and_pooled_gaps_with_the_concurrency() -> None:
    outputs = {
        f"s{i}": _gen(i, latency_s=float(i + 1), ttft_s=0.1 * (i + 1), inter_token_s=(0.01, 0.03))
        for i in range(100)
    }
    outputs["bad"] = Generation(sample_id="bad", text=None, error="HTTP 500", latency_s=99.0)
    metrics, notes = latency_metrics(outputs, concurrency=64)
    assert set(metrics) == set(LATENCY_METRICS)
    assert metrics["latency_p50_s"].value == pytest.approx(50.5)
    assert metrics["latency_p99_s"].value == pytest.approx(99.01)
    assert metrics["ttft_p95_s"].value == pytest.approx(9.505)
    assert metrics["itl_p50_s"].value == pytest.approx(0.02) and metrics["itl_p50_s"].n == 200
    assert all(not m.higher_is_better and m.unit == "seconds" for m in metrics.values())
    (note,) = notes
    assert "at concurrency 64" in note and "over 100 requests" in note
    assert "200 gaps" in note


def test_unstreamed_requests_give_latency_only_and_nothing_gives_nothing() -> None:
    metrics, notes = latency_metrics({"a": _gen(0, latency_s=0.5)}, concurrency=1)
    assert set(metrics) == {"latency_p50_s", "latency_p95_s", "latency_p99_s"}
    assert "at concurrency 1" in notes[0]
    assert latency_metrics({"a": _gen(0)}, concurrency=8) == ({}, [])


def test_token_counts_are_labelled_by_how_they_were_obtained() -> None:
    served = {"a": _gen(0, tokens_out=3, tokens_source="server usage"), "b": _gen(1)}
    assert token_count_note(served) == (
        "token counts: not reported for 1 of 2, server usage for 1 of 2 "
        "(counts differ by tokenizer and server)"
    )
    note = token_count_note({"a": _gen(0)})
    assert note is not None and note.startswith("token counts: not reported by the backend")
    assert token_count_note({}) is None
