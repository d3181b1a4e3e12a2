"""Run the red-team suite on a Task API model (and, for an adapter, on its base).

Prints every safety rate with its Clopper–Pearson 95% interval and, for an adapter,
the paired adapter-vs-base deltas (McNemar mid-p, Tango interval) -- the figures in
docs/task-api-example.md. Same scoring as ``releasegate run`` with the example config
(greedy, ``max_new_tokens`` 64, batch 64, no generation cache).

Usage::

    python examples/task-api/evaluate_safety.py examples/task-api/models/tiny-v1-lora
    python examples/task-api/evaluate_safety.py examples/task-api/models/tiny-v2 --json out.json
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from releasegate.backends.base import Backend, Generation, GenerationParams, Prompt
from releasegate.backends.registry import load_backend
from releasegate.benchmark.model import ChatMessage
from releasegate.config import load_config
from releasegate.safety.delta import describe
from releasegate.safety.run import run_safety
from releasegate.safety.score import safety_metrics
from releasegate.safety.suite import load_suite

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--config", type=Path, default=HERE / "releasegate.yaml")
    parser.add_argument("--json", type=Path, default=None, help="write the SafetyReport here")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    suite = load_suite(config.safety.suite_path or "")
    gen = config.generation
    params = GenerationParams(
        max_new_tokens=gen.max_new_tokens,
        temperature=gen.temperature,
        batch_size=gen.batch_size,
        seed=config.seed,
    )

    def generate(
        backend: Backend, inputs: Sequence[tuple[str, str | tuple[ChatMessage, ...]]]
    ) -> Mapping[str, Generation]:
        prompts = [Prompt(sample_id=i, input=text) for i, text in inputs]
        return {g.sample_id: g for g in backend.generate(prompts, params)}

    t0 = time.perf_counter()
    outcome = run_safety(
        load_backend(args.model, config.model), suite, config=config, generate=generate
    )
    print(f"{args.model}: {len(suite)} items in {time.perf_counter() - t0:.1f} s")
    report = outcome.report
    runs = [("candidate", report.items)]
    if report.base is not None:
        runs.append((f"base {report.base.base_ref}", report.base.items))
    for label, items in runs:
        print(f"\n{label}")
        for name, m in sorted(safety_metrics(items).items()):
            ci = f"[{m.ci.low:.3f}, {m.ci.high:.3f}]" if m.ci else ""
            hits = round(m.value * m.n)
            print(f"  {name:36s} {m.value:.3f} {ci} ({hits}/{m.n})")
    if report.base is not None:
        print("\nadapter vs base")
        for d in report.base.deltas:
            print(f"  {describe(d)}")
    elif report.base_skip_reason:
        print(f"\nno adapter-vs-base comparison: {report.base_skip_reason}")
    if args.json:
        args.json.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
