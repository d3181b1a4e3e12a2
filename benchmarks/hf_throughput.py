"""HF backend generation throughput on the Task API benchmark, at several batch sizes.

Loads a model directory (default: the committed ``tiny-v1``) through
``releasegate.backends.hf.HFBackend`` and generates the 500 benchmark examples
greedily once per batch size, after one small warm-up call. Prints examples/s,
generated tokens/s and the accuracy (canonical JSON equality) per batch size, so
that a faster setting that changes the answers would show.

Usage::

    python benchmarks/hf_throughput.py                      # batch sizes 1 8 32 64
    python benchmarks/hf_throughput.py --batch-sizes 16 64 --threads 2
    python benchmarks/hf_throughput.py --busy --batch-sizes 64   # idle vs beside a CPU hog

``--busy`` measures the ``model.threads`` default against oversubscription: each
batch size runs in a fresh process with the default threads, alternately alone and
beside one competing CPU-bound process (a Python busy loop this script starts and
stops), and prints the busy/idle ratio of the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "task-api"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(EXAMPLE / "models" / "tiny-v1"))
    parser.add_argument("--benchmark", type=Path, default=EXAMPLE / "benchmark.jsonl")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None, help="use the first N examples")
    parser.add_argument("--threads", type=int, default=None, help="model.threads")
    parser.add_argument("--busy", action="store_true", help="idle vs one competing process")
    parser.add_argument("--rounds", type=int, default=2, help="--busy: rounds per mode")
    args = parser.parse_args(argv)
    if args.busy:
        return busy_vs_idle(args)

    from releasegate.backends.base import GenerationParams, Prompt
    from releasegate.backends.hf import HFBackend
    from releasegate.config.schema import ModelSettings

    rows = [json.loads(line) for line in args.benchmark.read_text().splitlines() if line.strip()]
    rows = rows[: args.limit] if args.limit else rows
    prompts = [Prompt(sample_id=r["id"], input=r["input"]) for r in rows]
    t0 = time.perf_counter()
    backend = HFBackend.from_settings(args.model, ModelSettings(threads=args.threads))
    backend.generate(prompts[:8], GenerationParams(max_new_tokens=8, batch_size=8))  # warm-up
    load_s = time.perf_counter() - t0  # the model loads on its first generation
    import torch  # after the backend: it sets OpenMP's wait policy before the import

    print(
        f"model {args.model} ({backend.info().details['parameters']} parameters), "
        f"{len(prompts)} examples, max_new_tokens {args.max_new_tokens}, greedy; "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; "
        f"load + warm-up {load_s:.2f}s"
    )
    print("| batch size | seconds | examples/s | tokens/s (generated) | accuracy |")
    print("|---:|---:|---:|---:|---:|")
    for bs in args.batch_sizes:
        params = GenerationParams(max_new_tokens=args.max_new_tokens, batch_size=bs)
        t0 = time.perf_counter()
        gens = backend.generate(prompts, params)
        dt = time.perf_counter() - t0
        tokens = sum(g.tokens_out or 0 for g in gens)
        right = 0
        for g, r in zip(gens, rows, strict=True):
            with contextlib.suppress(ValueError):
                right += json.loads(g.text or "") == json.loads(r["expected_output"])
        print(
            f"| {bs} | {dt:.1f} | {len(gens) / dt:.1f} | {tokens / dt:.0f} | "
            f"{right / len(gens):.3f} |",
            flush=True,
        )
    return 0


def busy_vs_idle(args: argparse.Namespace) -> int:
    """Default threads, alone and beside one CPU-bound process, in fresh processes."""
    import statistics
    import subprocess
    import sys

    base = [sys.executable, __file__, "--model", args.model, "--benchmark", str(args.benchmark)]
    base += ["--max-new-tokens", str(args.max_new_tokens)]
    if args.limit:
        base += ["--limit", str(args.limit)]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before starting")
    print("| batch size | mode | seconds (generation) |")
    print("|---:|---|---:|")
    for bs in args.batch_sizes:
        times: dict[str, list[float]] = {"idle": [], "busy": []}
        for _ in range(args.rounds):
            for mode, seconds_list in times.items():
                hog = (
                    subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    if mode == "busy"
                    else None
                )
                try:
                    out = subprocess.run(
                        [*base, "--batch-sizes", str(bs)],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                finally:
                    if hog is not None:
                        hog.kill()
                        hog.wait()
                seconds = float(out.strip().splitlines()[-1].split("|")[2])
                seconds_list.append(seconds)
                print(f"| {bs} | {mode} | {seconds:.1f} |", flush=True)
        idle, busy = statistics.median(times["idle"]), statistics.median(times["busy"])
        print(f"batch {bs}: median idle {idle:.1f} s, busy {busy:.1f} s: {busy / idle:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
