"""The pipeline's own cost per 1,000 examples (target: under 1 s), without generation.

Uses the replay backend (no model time) on a synthetic Task API benchmark, with and
without a paired baseline, and prints wall time per stage and per 1,000 examples.

    python benchmarks/pipeline_overhead.py --sizes 1000 5000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from releasegate.config import parse_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result

CONFIG = """
quality_gates:
  - {name: format, metric: json_valid_rate, threshold: 0.95, comparison: '>='}
  - {name: accuracy, metric: accuracy, threshold: 0.85, comparison: '>=', bound: ci_low}
"""
ACTIONS = ["create_task", "update_task", "complete_task", "delete_task", "list_tasks"]


def write_inputs(folder: Path, n: int, *, seed: int) -> tuple[Path, Path]:
    """A benchmark of ``n`` examples and a replay that is right ~90% of the time."""
    rng = random.Random(seed)
    bench, replay = [], []
    for i in range(n):
        action = ACTIONS[i % len(ACTIONS)]
        expected = {"action": action, "task_id": i, "title": f"task {i}", "priority": "high"}
        text = json.dumps(expected, separators=(",", ":"))
        bench.append(
            {"id": f"ex-{i}", "input": f"request {i}", "expected_output": text, "category": action}
        )
        output = text if rng.random() < 0.9 else '{"action": "list_tasks"}'
        replay.append({"id": f"ex-{i}", "output": output})
    bench_path, replay_path = folder / f"bench-{n}.jsonl", folder / f"replay-{n}-{seed}.jsonl"
    bench_path.write_text("".join(json.dumps(r) + "\n" for r in bench), encoding="utf-8")
    replay_path.write_text("".join(json.dumps(r) + "\n" for r in replay), encoding="utf-8")
    return bench_path, replay_path


def main() -> None:
    """Print seconds per run and per 1,000 examples for each size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    pipeline = EvaluationPipeline(parse_config(CONFIG))
    print(f"{'n':>6} {'baseline':>8} {'best s':>8} {'s/1000':>8}  stages (best run)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in args.sizes:
            bench, good = write_inputs(folder, n, seed=1)
            _, other = write_inputs(folder, n, seed=2)
            first = pipeline.run(model_path=str(good), benchmark_path=str(bench))
            baseline = folder / f"baseline-{n}.json"
            write_baseline(baseline, baseline_from_result(first))
            for base in (None, baseline):
                times, stages = [], ""
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    result = pipeline.run(
                        model_path=str(other),
                        benchmark_path=str(bench),
                        baseline_path=str(base) if base else None,
                    )
                    elapsed = time.perf_counter() - t0
                    if not times or elapsed < min(times):
                        stages = ", ".join(
                            f"{s.name} {s.duration_seconds:.3f}" for s in result.stages
                        )
                    times.append(elapsed)
                best = min(times)
                label = "paired" if base else "none"
                print(f"{n:>6} {label:>8} {best:>8.3f} {best / n * 1000:>8.3f}  {stages}")


if __name__ == "__main__":
    main()
