"""Endpoint generation: a sliding window of requests against per-batch waits.

Runs the real endpoint backend through ``run_generation`` against the local fake
chat-completions server (streaming, a fixed per-request latency plus a slow tail:
one request in ``--tail-every`` takes ``--tail`` seconds more), once as it runs now
(``model.concurrency`` in flight as a sliding window) and once the way it ran before
(``generation.batch_size`` prompts per call, each call waiting for its slowest
request). Prints wall time, the most requests the server saw at once, and the
latency / TTFT percentiles at that concurrency. Loopback only, no model.

    .venv/bin/python benchmarks/endpoint_window.py [--requests 256] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.backends.openai_endpoint import OpenAIEndpointBackend
from releasegate.config.schema import ModelSettings
from releasegate.generate import run_generation
from releasegate.latency import latency_metrics
from releasegate.testing.fake_llm_server import FakeLLMServer, Fault


class _PerBatch:
    """The endpoint backend without its window: one ``generate`` call per batch (the old path)."""

    def __init__(self, inner: OpenAIEndpointBackend) -> None:
        self.inner = inner
        self.name = inner.name

    def info(self) -> ModelInfo:
        return self.inner.info()

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        return self.inner.generate(prompts, params)


def main() -> None:
    """Print one line per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--tail", type=float, default=0.5, help="extra seconds, slow requests")
    parser.add_argument("--tail-every", type=int, default=16)
    args = parser.parse_args()
    prompts = [Prompt(sample_id=f"r{i}", input=f"request {i}") for i in range(args.requests)]
    params = GenerationParams(batch_size=args.batch_size, max_new_tokens=16)
    settings = ModelSettings(model_name="fake", concurrency=args.concurrency, timeout_s=60)
    print(
        f"{args.requests} requests, concurrency {args.concurrency}, batch size "
        f"{args.batch_size}, {args.latency} s per request, +{args.tail} s for 1 in "
        f"{args.tail_every}"
    )
    for mode in ("sliding window", "per batch (before)"):
        with FakeLLMServer(latency_s=args.latency) as server:
            server.set_verdict(lambda system, user: '{"action": "list_tasks"}')
            server.push_faults(
                *(
                    Fault("slow", delay_s=args.tail if i % args.tail_every == 0 else 0.0)
                    for i in range(args.requests)
                )
            )
            backend = OpenAIEndpointBackend.from_settings(server.openai_base_url, settings)
            runner = backend if mode == "sliding window" else _PerBatch(backend)
            started = time.perf_counter()
            outputs, _ = run_generation(runner, prompts, params=params, max_output_chars=1000)
            wall = time.perf_counter() - started
            metrics, _ = latency_metrics(outputs, concurrency=args.concurrency)
            failed = sum(g.text is None for g in outputs.values())
            figures = ", ".join(
                f"{name} {metrics[name].value:.3f}"
                for name in ("latency_p50_s", "latency_p95_s", "ttft_p50_s")
                if name in metrics
            )
            print(
                f"{mode:>20}: wall {wall:6.2f} s, max in flight {server.max_in_flight:3d}, "
                f"failed {failed}, {figures}"
            )


if __name__ == "__main__":
    main()
