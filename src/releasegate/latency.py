"""Latency figures of a generation run: per-request percentiles, TTFT and inter-token gaps.

Only meaningful where each example was timed on its own (``ModelInfo.per_request_latency``).
Every figure is produced together with a note stating the concurrency it was
measured at, because a p95 at 64 requests in flight is not a p95 at one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from releasegate.backends.base import Generation
from releasegate.records.core import MetricValue

PERCENTILES = (50, 95, 99)
LATENCY_METRICS = tuple(
    f"{kind}_p{q}_s" for kind in ("latency", "ttft", "itl") for q in PERCENTILES
)
"""Every metric name this module can produce (gates may read them)."""


def latency_metrics(
    outputs: Mapping[str, Generation], *, concurrency: int | None
) -> tuple[dict[str, MetricValue], list[str]]:
    """p50/p95/p99 of request latency, time to first token and inter-token latency.

    Args:
        outputs: Fresh generations (cached ones were not timed); failures are left out.
        concurrency: Requests in flight while they were measured (None: unknown).

    Returns:
        The metrics, and notes naming the concurrency and what each figure covers.
    """
    done = [g for g in outputs.values() if g.text is not None]
    latencies = [g.latency_s for g in done if g.latency_s]
    ttfts = [g.ttft_s for g in done if g.ttft_s is not None]
    gaps = [gap for g in done for gap in g.inter_token_s]
    metrics: dict[str, MetricValue] = {}
    for kind, values in (("latency", latencies), ("ttft", ttfts), ("itl", gaps)):
        metrics.update(_percentiles(kind, values))
    if not metrics:
        return {}, []
    at = f"at concurrency {concurrency}" if concurrency else "at an unrecorded concurrency"
    covered = [f"latency over {len(latencies)} requests"]
    if ttfts:
        covered.append(f"time to first token over {len(ttfts)} streamed requests")
    if gaps:
        covered.append(f"inter-token latency over {len(gaps)} gaps between streamed chunks")
    return metrics, [f"latency percentiles measured {at} (model.concurrency): {'; '.join(covered)}"]


def token_count_note(outputs: Mapping[str, Generation]) -> str | None:
    """How the token counts of this run were obtained, so throughput and cost compare."""
    done = [g for g in outputs.values() if g.text is not None]
    if not done:
        return None
    sources = Counter(_source(g) for g in done)
    if set(sources) == {"not reported"} and all(g.tokens_out is None for g in done):
        return (
            "token counts: not reported by the backend, so token throughput and token-priced "
            "cost are not computed"
        )
    parts = [f"{source} for {n} of {len(done)}" for source, n in sorted(sources.items())]
    return "token counts: " + ", ".join(parts) + " (counts differ by tokenizer and server)"


def _source(generation: Generation) -> str:
    if generation.tokens_source:
        return generation.tokens_source
    return "counted by the backend" if generation.tokens_out is not None else "not reported"


def _percentiles(kind: str, values: list[float]) -> dict[str, MetricValue]:
    if not values:
        return {}
    points = np.percentile(np.array(values), PERCENTILES)
    return {
        f"{kind}_p{q}_s": MetricValue(
            name=f"{kind}_p{q}_s",
            value=float(v),
            n=len(values),
            higher_is_better=False,
            unit="seconds",
        )
        for q, v in zip(PERCENTILES, points, strict=True)
    }
