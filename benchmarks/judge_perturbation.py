"""What the perturbation check catches, and what it costs the judge stage.

Runs the real judge stage (openai SDK, budget, fencing, no cache) against the
local fake chat-completions server twice per judge: without and with the
perturbation check. A stable judge (the reference verdict) and an
order-sensitive one (only the criterion listed first gets the honest score).
Prices are set so the spend is visible: $1 / $4 per million tokens in / out.

    .venv/bin/python benchmarks/judge_perturbation.py [--items 200] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from judge_concurrency import bench_examples

from releasegate.config.judge import JudgeConfig
from releasegate.judge.stage import run_judge_stage
from releasegate.testing.fake_llm_server import (
    FakeLLMServer,
    Verdict,
    order_sensitive_verdict,
    reference_verdict,
)

JUDGES: dict[str, Callable[[str, str], Verdict]] = {
    "stable": reference_verdict,
    "order-sensitive": order_sensitive_verdict,
}


def main() -> None:
    """Print one line per judge and mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per judge call")
    parser.add_argument("--sample-rate", type=float, default=0.1)
    args = parser.parse_args()
    examples = bench_examples(args.items)
    outputs: dict[str, str | None] = {
        e.id: e.expected_output if i % 4 else '{"action": "list_tasks"}'
        for i, e in enumerate(examples)
    }
    print(
        f"{args.items} examples, judge sample rate {args.sample_rate}, "
        f"{args.latency * 1000:.0f} ms per call, concurrency 8"
    )
    with FakeLLMServer(latency_s=args.latency) as server:
        warm = JudgeConfig(provider="openai", model="warm-up", base_url=server.openai_base_url)
        run_judge_stage(  # SDK import and first connection, not counted
            examples=examples[:3], outputs=outputs, config=warm, seed=0, cache_path=None
        )
        for name, verdict in JUDGES.items():
            server.set_verdict(verdict)
            config = JudgeConfig(
                provider="openai",
                model="bench-judge",
                base_url=server.openai_base_url,
                sample_rate=args.sample_rate,
                input_price_per_mtok=1.0,
                output_price_per_mtok=4.0,
            )
            for perturb in (False, True):
                server.reset_counters()
                start = time.perf_counter()
                out = run_judge_stage(
                    examples=examples,
                    outputs=outputs,
                    config=config,
                    seed=0,
                    cache_path=None,
                    perturbation=perturb,
                )
                wall = time.perf_counter() - start
                p = out.perturbation
                flips = (
                    f"flip rate {p.flip_rate:.3f} ({p.flipped}/{p.compared}), "
                    f"check {p.seconds:.2f} s ${p.spent_usd:.6f}"
                    if p is not None and p.flip_rate is not None
                    else "no check"
                )
                print(
                    f"{name:>15} perturbation={'on ' if perturb else 'off'}: {wall:5.2f} s, "
                    f"{len(server.requests):3d} calls, ${out.spent_usd:.6f}; {flips}"
                )


if __name__ == "__main__":
    main()
