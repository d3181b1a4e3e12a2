"""The Task API benchmark through HF, vLLM in-process, a vLLM server and transformers serve.

Each engine generates the same examples greedily (``max_new_tokens`` 64, as the
example config) from the same model (default: the committed ``tiny-v1``), after an
untimed warm-up call on 8 examples. Prints, per engine: start-up time (load, or
launch until ``/v1/models`` answers), wall time for all examples, examples/s,
generated tokens/s, per-request latency p50/p95 (servers: each request timed on its
own by the endpoint backend, ``--concurrency`` in flight; in-process engines run
batches, so they have no per-request latency), accuracy (the example config's
metric) and how many outputs are identical to the HF backend's.

HF runs in this interpreter (the main venv); the vLLM engines and ``transformers
serve`` run from the engines venv (``make setup-vllm``), eager unless ``--compile``.

Usage::

    python benchmarks/engines.py                               # all four engines
    python benchmarks/engines.py --engines hf vllm-server --limit 100 --concurrency 32
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from releasegate.backends.base import Generation, GenerationParams, Prompt

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "task-api"
ENGINES = ("hf", "vllm", "vllm-server", "transformers-serve")


@dataclass
class Row:
    engine: str
    startup_s: float
    wall_s: float
    texts: dict[str, str | None]
    tokens_out: int
    latencies: list[float]
    errors: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=EXAMPLE / "models" / "tiny-v1")
    parser.add_argument("--benchmark", type=Path, default=EXAMPLE / "benchmark.jsonl")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--limit", type=int, default=None, help="use the first N examples")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64, help="HF backend batch size")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--threads", type=int, default=1, help="threads per engine process")
    parser.add_argument("--compile", action="store_true", help="vLLM with torch.compile")
    args = parser.parse_args(argv)

    from releasegate.backends.base import GenerationParams, Prompt
    from releasegate.benchmark.load import load_benchmark
    from releasegate.scoring.schema import load_output_schema
    from releasegate.scoring.task import score_example
    from releasegate.testing.engines import engines_python

    examples = load_benchmark(args.benchmark).examples[: args.limit]
    prompts = [Prompt(sample_id=ex.id, input=ex.input) for ex in examples]
    params = GenerationParams(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    python = engines_python(ROOT)
    if any(e != "hf" for e in args.engines) and not python.is_file():
        raise SystemExit(f"{python} is missing: run `make setup-vllm` first")
    schema = load_output_schema(None)

    print(
        f"model {args.model}, {len(prompts)} examples, max_new_tokens {args.max_new_tokens}, "
        f"greedy; {args.threads} thread(s) per engine, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}); endpoint concurrency "
        f"{args.concurrency}; vLLM {'compiled' if args.compile else 'eager'}",
        flush=True,
    )
    runners = {
        "hf": lambda: run_hf(args, prompts, params),
        "vllm": lambda: run_vllm_in_process(args, python),
        "vllm-server": lambda: run_server(args, python, prompts, params, "vllm"),
        "transformers-serve": lambda: run_server(args, python, prompts, params, "transformers"),
    }
    rows: list[Row] = []
    for engine in args.engines:
        row = runners[engine]()
        rows.append(row)
        print(f"  {engine}: done in {row.startup_s + row.wall_s:.1f} s", flush=True)

    reference = next((r.texts for r in rows if r.engine == "hf"), None)
    print()
    print(
        "| engine | start-up s | wall s | examples/s | tokens/s (generated) | "
        "latency p50 / p95 s | accuracy | identical to HF | failed |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        right = sum(
            bool(score_example(ex, row.texts.get(ex.id), schema=schema).outcomes["accuracy"])
            for ex in examples
        )
        if row.latencies:
            q = statistics.quantiles(row.latencies, n=20, method="inclusive")
            latency = f"{statistics.median(row.latencies):.3f} / {q[18]:.3f}"
        else:
            latency = "n/a (batched)"
        same = (
            f"{sum(row.texts[k] == v for k, v in reference.items())}/{len(reference)}"
            if reference is not None
            else "n/a"
        )
        print(
            f"| {row.engine} | {row.startup_s:.1f} | {row.wall_s:.1f} | "
            f"{len(examples) / row.wall_s:.1f} | {row.tokens_out / row.wall_s:.0f} | {latency} | "
            f"{right / len(examples):.3f} | {same} | {row.errors} |"
        )
    return 0


def run_hf(args: argparse.Namespace, prompts: list[Prompt], params: GenerationParams) -> Row:
    import torch

    from releasegate.backends.hf import HFBackend

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    backend = HFBackend.from_settings(str(args.model))
    startup = time.perf_counter() - t0
    backend.generate(prompts[:8], params)
    t0 = time.perf_counter()
    gens = backend.generate(prompts, params)
    return _row("hf", startup, time.perf_counter() - t0, gens, per_request=False)


def run_vllm_in_process(args: argparse.Namespace, python: Path) -> Row:
    from releasegate.testing.engines import engine_env

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vllm.json"
        argv = [str(python), "-m", "releasegate.testing.vllm_runner", "--model", str(args.model)]
        argv += ["--benchmark", str(args.benchmark), "--out", str(out), "--warmup", "8"]
        argv += ["--max-new-tokens", str(args.max_new_tokens)]
        argv += ["--limit", str(args.limit)] if args.limit else []
        argv += ["--compile"] if args.compile else []
        proc = subprocess.run(
            argv,
            env=engine_env(ROOT, threads=args.threads),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"vllm runner failed:\n{proc.stderr[-4000:]}")
        result = json.loads(out.read_text(encoding="utf-8"))
    run = result["runs"][0]
    gens = run["generations"]
    return Row(
        engine="vllm",
        startup_s=result["load_s"],
        wall_s=run["generate_s"],
        texts={g["sample_id"]: g["text"] for g in gens},
        tokens_out=sum(g["tokens_out"] or 0 for g in gens),
        latencies=[],
        errors=sum(g["error"] is not None for g in gens),
    )


def run_server(
    args: argparse.Namespace,
    python: Path,
    prompts: list[Prompt],
    params: GenerationParams,
    kind: str,
) -> Row:
    from releasegate.backends.openai_endpoint import OpenAIEndpointBackend
    from releasegate.config.schema import ModelSettings
    from releasegate.testing.engines import (
        EngineServer,
        engine_env,
        free_port,
        transformers_serve_argv,
        vllm_server_argv,
    )

    port = free_port()
    if kind == "vllm":
        name, ready = "model", "/v1/models"
        argv = vllm_server_argv(python, args.model, name=name, port=port, eager=not args.compile)
    else:
        name, ready = str(args.model), "/health"
        argv = transformers_serve_argv(python, args.model, port=port)
    settings = ModelSettings(
        model_name=name, concurrency=args.concurrency, timeout_s=300.0, max_retries=0
    )
    with tempfile.TemporaryDirectory() as tmp:
        server = EngineServer(
            argv,
            port=port,
            env=engine_env(ROOT, threads=args.threads),
            log_path=Path(tmp) / "server.log",
            ready_path=ready,
        )
        with server:
            backend = OpenAIEndpointBackend.from_settings(server.base_url, settings)
            backend.generate(prompts[:8], params)
            t0 = time.perf_counter()
            gens = backend.generate(prompts, params)
            wall = time.perf_counter() - t0
    label = "vllm-server" if kind == "vllm" else "transformers-serve"
    return _row(label, server.startup_s or 0.0, wall, gens, per_request=True)


def _row(
    engine: str, startup: float, wall: float, gens: list[Generation], *, per_request: bool
) -> Row:
    return Row(
        engine=engine,
        startup_s=startup,
        wall_s=wall,
        texts={g.sample_id: g.text for g in gens},
        tokens_out=sum(g.tokens_out or 0 for g in gens),
        latencies=[g.latency_s for g in gens if per_request and g.latency_s is not None],
        errors=sum(g.error is not None for g in gens),
    )


if __name__ == "__main__":
    raise SystemExit(main())
