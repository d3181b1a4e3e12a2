"""Judge wall time for 50 items at concurrency 1, 4 and 16.

Runs the real judge stage (openai SDK, retries, budget, fencing) against the
local fake chat-completions server with a fixed per-call latency, so the figure
isolates what concurrency buys. No network beyond 127.0.0.1, no API key.

    .venv/bin/python benchmarks/judge_concurrency.py [--items 50] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import time

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.judge.stage import run_judge_stage
from releasegate.testing.fake_llm_server import FakeLLMServer


def bench_examples(n: int) -> list[Example]:
    """``n`` seeded Task API examples over five categories (shared by the judge benchmarks)."""
    cats = ("create", "update", "complete", "delete", "list")
    return [
        Example(
            id=f"bench-{i:04d}",
            input=f"please {cats[i % 5]} task {i}",
            expected_output=json.dumps({"action": f"{cats[i % 5]}_task", "task_id": i}),
            category=cats[i % 5],
        )
        for i in range(n)
    ]


def main() -> None:
    """Print one line per concurrency level."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per judge call")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    examples = bench_examples(args.items)
    outputs: dict[str, str | None] = {e.id: e.expected_output for e in examples}
    print(f"judge wall time, {args.items} items, {args.latency * 1000:.0f} ms per call")
    with FakeLLMServer(latency_s=args.latency) as server:
        for level in args.levels:
            config = JudgeConfig(
                provider="openai",
                model="bench-judge",
                base_url=server.openai_base_url,
                sample_rate=1.0,
                concurrency=level,
            )
            server.reset_counters()
            start = time.perf_counter()
            outcome = run_judge_stage(
                examples=examples, outputs=outputs, config=config, seed=0, cache_path=None
            )
            wall = time.perf_counter() - start
            judged = sum(it.scores is not None for it in outcome.items)
            print(
                f"concurrency {level:>3}: {wall:6.2f} s  ({judged}/{len(outcome.items)} judged, "
                f"max in flight at server {server.max_in_flight}, "
                f"{len(outcome.items) / wall:5.1f} items/s)"
            )


if __name__ == "__main__":
    main()
