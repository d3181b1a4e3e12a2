"""Prompt-lookup decoding against ``model.generate``: why it helps, and by how much.

Part 1 times the matrix products of one decoding step of a ~20M-parameter Llama
(hidden 512, MLP 1408, 6 layers) for 1 to 128 token rows on one thread: the cost per
token falls steeply while the products are bound by memory (each weight is read once
per pass whatever the rows), which is the headroom verified guesses use.

Part 2 runs the HF backend on the same prompts twice, ``model.prompt_lookup_tokens``
0 (``model.generate``) and 6 (the default), and prints CPU seconds, forward passes
and how many outputs are identical (text, token count and finish reason).

Usage::

    python benchmarks/lookup_decoding.py                      # the ~20M model, 96 prompts
    python benchmarks/lookup_decoding.py --model examples/task-api/models/tiny-v1 \\
        --limit 500 --batch-size 64
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported

from vs_lm_eval import EXAMPLE, MODEL_20M, make_model

from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.hf import HFBackend
from releasegate.config.schema import ModelSettings


def products(rounds: int = 20) -> None:
    """One decoding step's matrix products for the ~20M shapes, per token row count."""
    import torch

    torch.set_num_threads(1)
    shapes = [(512, 512)] * 4 + [(1408, 512)] * 2  # q k v o, gate up (out, in)
    weights = [torch.randn(*s) for s in shapes]
    down = torch.randn(512, 1408)
    print("| token rows per pass | ms per pass (6 layers) | ms per token |")
    print("|---:|---:|---:|")
    for rows in (1, 8, 16, 32, 64, 128):
        h, g = torch.randn(rows, 512), torch.randn(rows, 1408)
        t0 = time.perf_counter()
        for _ in range(rounds * 6):
            for w in weights:
                torch.nn.functional.linear(h, w)
            torch.nn.functional.linear(g, down)
        ms = (time.perf_counter() - t0) / rounds * 1000
        print(f"| {rows} | {ms:.1f} | {ms / rows:.2f} |")


def versus_generate(model: str, limit: int, batch_size: int, max_new_tokens: int) -> None:
    rows = [json.loads(line) for line in (EXAMPLE / "benchmark.jsonl").read_text().splitlines()]
    prompts = [Prompt(sample_id=r["id"], input=r["input"]) for r in rows[:limit]]
    params = GenerationParams(max_new_tokens=max_new_tokens, stop=("\n",), batch_size=batch_size)
    results = {}
    print(
        f"\n{model}: {len(prompts)} prompts, batch {batch_size}, {max_new_tokens} new tokens, "
        f"stop at a newline, greedy, 1 thread; load average {os.getloadavg()[0]:.1f}"
    )
    print("| prompt_lookup_tokens | CPU s | forward passes |")
    print("|---:|---:|---:|")
    for k in (0, 6):
        backend = HFBackend.from_settings(
            model, ModelSettings(device="cpu", threads=1, prompt_lookup_tokens=k)
        )
        backend.generate(prompts[:2], params)  # load and warm up, not counted
        passes: list[int] = []
        net = backend._loaded().model
        hook = net.register_forward_pre_hook(lambda module, args, seen=passes: seen.append(1))
        t0 = time.process_time()
        gens = backend.generate(prompts, params)
        cpu = time.process_time() - t0
        hook.remove()
        results[k] = [(g.text, g.tokens_out, g.finish_reason) for g in gens]
        print(f"| {k} | {cpu:.2f} | {len(passes)} |", flush=True)
    same = sum(a == b for a, b in zip(results[0], results[6], strict=True))
    print(f"identical outputs: {same} of {len(prompts)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the generated ~20M model")
    parser.add_argument("--limit", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--skip-products", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_products:
        products()
    model = args.model or str(make_model(MODEL_20M))
    versus_generate(str(Path(model)), args.limit, args.batch_size, args.max_new_tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
