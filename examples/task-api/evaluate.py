"""Evaluate a Task API model directory with releasegate's HF backend, per category.

Metrics (the same definitions as releasegate's automated metrics):

* ``json_valid_rate`` -- the output parses as a JSON object.
* ``accuracy`` -- output and expected are equal after ``json.loads`` of both
  (key order and whitespace do not matter); plain string equality (stripped)
  when the expected output is not JSON.

Usage::

    python examples/task-api/evaluate.py examples/task-api/models/tiny-v1
    python examples/task-api/evaluate.py examples/task-api/models/tiny-v1-lora --json out.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.hf import HFBackend

HERE = Path(__file__).resolve().parent


def parse_object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def is_correct(output: str | None, expected: str) -> bool:
    try:
        want = json.loads(expected)
    except ValueError:
        return output is not None and output.strip() == expected.strip()
    if output is None:
        return False
    try:
        return bool(json.loads(output) == want)
    except ValueError:
        return False


def evaluate(
    model_dir: str, benchmark: Path, *, batch_size: int, max_new_tokens: int
) -> dict[str, Any]:
    rows = [json.loads(line) for line in benchmark.read_text().splitlines() if line.strip()]
    t0 = time.perf_counter()
    backend = HFBackend.from_settings(model_dir)
    load_s = time.perf_counter() - t0
    prompts = [Prompt(sample_id=r["id"], input=r["input"]) for r in rows]
    params = GenerationParams(max_new_tokens=max_new_tokens, batch_size=batch_size)
    t0 = time.perf_counter()
    gens = backend.generate(prompts, params)
    gen_s = time.perf_counter() - t0
    per_cat: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for r, g in zip(rows, gens, strict=True):
        outcome = (parse_object(g.text) is not None, is_correct(g.text, r["expected_output"]))
        per_cat[r["category"]].append(outcome)
        per_cat["ALL"].append(outcome)
    table = {
        cat: {
            "n": len(v),
            "json_valid_rate": round(sum(a for a, _ in v) / len(v), 4),
            "accuracy": round(sum(b for _, b in v) / len(v), 4),
        }
        for cat, v in sorted(per_cat.items())
    }
    return {
        "model": model_dir,
        "fingerprint": backend.info().fingerprint,
        "load_seconds": round(load_s, 2),
        "generate_seconds": round(gen_s, 2),
        "tokens_out": sum(g.tokens_out or 0 for g in gens),
        "errors": sum(g.error is not None for g in gens),
        "per_category": table,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Per-category accuracy of a Task API model.")
    parser.add_argument("model", help="model or adapter directory")
    parser.add_argument("--benchmark", type=Path, default=HERE / "benchmark.jsonl")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    res = evaluate(
        args.model, args.benchmark, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens
    )
    print(f"{res['model']}  ({res['fingerprint'][:19]}…)")
    print(
        f"load {res['load_seconds']}s, generate {res['generate_seconds']}s, "
        f"{res['tokens_out']} tokens out, {res['errors']} errors"
    )
    print(f"{'category':<16}{'n':>5}{'json_valid':>12}{'accuracy':>10}")
    for cat, m in res["per_category"].items():
        print(f"{cat:<16}{m['n']:>5}{m['json_valid_rate']:>12.3f}{m['accuracy']:>10.3f}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
