"""Run the in-process vLLM backend over a benchmark and write its outputs as JSON.

For the engine tests and ``benchmarks/engines.py``, which run in the main venv while
vLLM lives in the engines venv (``make setup-vllm``):

    .venv-vllm/bin/python -m releasegate.testing.vllm_runner --model DIR --out out.json
        --benchmark bench.jsonl [--limit N] [--stop S ...] [--compile] [--warmup N]
        [--tool-calls native]

The JSON holds ``load_s``, ``generate_s``, the model info and one record per example
(``sample_id``, ``text``, ``error``, ``finish_reason``, ``tokens_in``, ``tokens_out``)
for each pass: the first without stop strings, the second (when ``--stop`` is given)
with them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from releasegate.backends.base import GenerationParams, Prompt
from releasegate.benchmark.load import load_benchmark
from releasegate.config.schema import ModelSettings


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--stop", action="append", default=[])
    parser.add_argument(
        "--compile", action="store_true", help="let vLLM torch.compile (default: eager)"
    )
    parser.add_argument("--warmup", type=int, default=0, help="untimed first call on N prompts")
    parser.add_argument(
        "--tool-calls", choices=("text", "native"), default="text", help="model.tool_calls"
    )
    args = parser.parse_args(argv)

    from releasegate.backends.vllm import VLLMBackend

    examples = load_benchmark(args.benchmark).examples[: args.limit]
    prompts = [Prompt(sample_id=ex.id, input=ex.input, tools=ex.functions) for ex in examples]
    started = time.perf_counter()
    backend = VLLMBackend.from_settings(
        args.model,
        ModelSettings(tool_calls=args.tool_calls),
        **({} if args.compile else {"enforce_eager": True}),
    )
    load_s = time.perf_counter() - started
    passes = [GenerationParams(max_new_tokens=args.max_new_tokens)]
    if args.stop:
        passes.append(GenerationParams(max_new_tokens=args.max_new_tokens, stop=tuple(args.stop)))
    runs = []
    try:
        if args.warmup:
            backend.generate(prompts[: args.warmup], passes[0])
        for params in passes:
            t0 = time.perf_counter()
            gens = backend.generate(prompts, params)
            runs.append(
                {
                    "stop": list(params.stop),
                    "generate_s": time.perf_counter() - t0,
                    "generations": [
                        {
                            k: getattr(g, k)
                            for k in (
                                "sample_id",
                                "text",
                                "error",
                                "finish_reason",
                                "tokens_in",
                                "tokens_out",
                            )
                        }
                        for g in gens
                    ],
                }
            )
    finally:
        backend.close()
    info = dataclasses.asdict(backend.info())
    Path(args.out).write_text(
        json.dumps({"load_s": load_s, "info": info, "runs": runs}), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
