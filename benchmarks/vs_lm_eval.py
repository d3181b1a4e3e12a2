"""releasegate's HF backend against lm-evaluation-harness's, whole process, interleaved.

Both runners generate for the same prompts (the Task API benchmark, rendered with
the model's chat template), greedily, with the same batch size, ``max_new_tokens``
and stop rule (a newline), one thread each. Each run is a fresh Python process
(import, model load, generation, writing the outputs), so start-up counts; runs
alternate (releasegate, lm-eval, releasegate, ...) so that a change in the
machine's load hits both. Prints wall and CPU seconds per run, the medians, their
ratio, and whether the two runners' outputs are identical.

Then the cached re-run: ``releasegate run`` on the example benchmark twice with the
same ``--output-dir`` (cold, then served from the caches), whole process, in
``--cached-rounds`` rounds (default 5) with a fresh folder each; the medians' ratio.

The ~20M-parameter model is made here (``--make-model``: a Llama config, random
initialisation, the committed tokenizer; nothing is downloaded) under the git-ignored
``.bench/`` folder, and so is lm-eval's virtualenv (``lm-eval==0.4.13`` on
``torch==2.13.0``), on first use.

Usage::

    python benchmarks/vs_lm_eval.py                       # 20M model, 3 rounds
    python benchmarks/vs_lm_eval.py --model examples/task-api/models/tiny-v1 --rounds 2
    python benchmarks/vs_lm_eval.py --limit 96 --skip-cached
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "task-api"
BENCH_DIR = ROOT / ".bench"
LM_EVAL_VENV = BENCH_DIR / "lm-eval-venv"
MODEL_20M = BENCH_DIR / "models" / "llama-20m"
TOKENIZER_FROM = EXAMPLE / "models" / "tiny-v1"

RELEASEGATE_RUNNER = """
import json, sys
from releasegate.backends.base import GenerationParams, Prompt
from releasegate.backends.hf import HFBackend
from releasegate.config.schema import ModelSettings
args = json.load(open(sys.argv[1]))
backend = HFBackend.from_settings(args["model"], ModelSettings(device="cpu", threads=1))
prompts = [Prompt(sample_id=str(i), input=t) for i, t in enumerate(args["inputs"])]
params = GenerationParams(max_new_tokens=args["max_new_tokens"], stop=("\\n",),
                          batch_size=args["batch_size"])
gens = backend.generate(prompts, params)
json.dump([g.text for g in gens], open(args["out"], "w"))
"""

LM_EVAL_RUNNER = """
import json, sys
import torch
torch.set_num_threads(1)
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM
args = json.load(open(sys.argv[1]))
lm = HFLM(pretrained=args["model"], batch_size=args["batch_size"], device="cpu",
          dtype="float32")
kwargs = {"until": ["\\n"], "max_gen_toks": args["max_new_tokens"], "do_sample": False}
requests = [Instance(request_type="generate_until", doc={}, arguments=(p, dict(kwargs)), idx=i)
            for i, p in enumerate(args["rendered"])]
json.dump(lm.generate_until(requests, disable_tqdm=True), open(args["out"], "w"))
"""


def make_model(target: Path) -> Path:
    """A ~20M-parameter Llama with random weights and the committed tokenizer."""
    if (target / "model.safetensors").is_file():
        return target
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=1024,
        hidden_size=512,
        intermediate_size=1408,
        num_hidden_layers=6,
        num_attention_heads=8,
        num_key_value_heads=8,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
        tie_word_embeddings=True,
    )
    model = transformers.LlamaForCausalLM(config)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(TOKENIZER_FROM / name, target / name)
    n = sum(p.numel() for p in model.parameters())
    print(f"made {target.relative_to(ROOT)}: {n:,} parameters (random init)")
    return target


def lm_eval_python() -> Path:
    """lm-eval's own virtualenv (created on first use)."""
    python = LM_EVAL_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LM_EVAL_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "torch==2.13.0"], check=True)  # the CPU wheel, first
        # lm-eval's hf extra, on the transformers version releasegate runs with here
        transformers = f"transformers=={version('transformers')}"
        subprocess.run([*pip, "lm-eval[hf]==0.4.13", transformers], check=True)
    return python


def timed(
    command: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process (its output discarded)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command, check=False, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    if done.returncode not in ok:
        raise SystemExit(f"{command[:4]} exited {done.returncode}")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def rendered_inputs(model: Path, inputs: list[str]) -> list[str]:
    """The exact prompt texts the HF backend feeds the model (its chat template)."""
    import transformers

    tok = transformers.AutoTokenizer.from_pretrained(str(model))
    return [
        str(
            tok.apply_chat_template(
                [{"role": "user", "content": t}], add_generation_prompt=True, tokenize=False
            )
        )
        for t in inputs
    ]


def versus(args: argparse.Namespace, env: dict[str, str], work: Path) -> None:
    rows = [json.loads(line) for line in args.benchmark.read_text().splitlines() if line.strip()]
    rows = rows[: args.limit] if args.limit else rows
    inputs = [str(r["input"]) for r in rows]
    model = Path(args.model)
    job = {
        "model": str(model),
        "inputs": inputs,
        "rendered": rendered_inputs(model, inputs),
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
    }
    runners = {
        "releasegate": [sys.executable, "-c", RELEASEGATE_RUNNER],
        "lm-eval": [str(lm_eval_python()), "-c", LM_EVAL_RUNNER],
    }
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    outputs: dict[str, list[str]] = {}
    print(
        f"model {model} , {len(inputs)} prompts, batch {args.batch_size}, "
        f"max_new_tokens {args.max_new_tokens}, stop at newline, greedy, 1 thread, "
        f"{args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.1f}"
    )
    print("| round | runner | wall s | CPU s |")
    print("|---:|---|---:|---:|")
    for r in range(1, args.rounds + 1):
        for name, command in runners.items():
            spec = work / f"{name}.json"
            out = work / f"{name}-out.json"
            spec.write_text(json.dumps({**job, "out": str(out)}))
            wall, cpu = timed([*command, str(spec)], env)
            figures[name].append((wall, cpu))
            outputs[name] = json.loads(out.read_text())
            print(f"| {r} | {name} | {wall:.1f} | {cpu:.1f} |", flush=True)
    med = {
        name: (statistics.median(w for w, _ in f), statistics.median(c for _, c in f))
        for name, f in figures.items()
    }
    rg, lm = med["releasegate"], med["lm-eval"]
    same = sum(a == b for a, b in zip(outputs["releasegate"], outputs["lm-eval"], strict=True))
    print(
        f"\nmedian wall: releasegate {rg[0]:.1f} s, lm-eval {lm[0]:.1f} s "
        f"({lm[0] / rg[0]:.2f}x); median CPU: releasegate {rg[1]:.1f} s, "
        f"lm-eval {lm[1]:.1f} s ({lm[1] / rg[1]:.2f}x)"
    )
    print(f"identical outputs: {same} of {len(inputs)}")


def _cacheable_config(work: Path) -> Path:
    """The example config without the determinism check (and its gate), which regenerates.

    The check regenerates a sample with the cache off on every run (that is its job),
    so with it a re-run loads the model again; the cached figure is measured without it.
    """
    text = (EXAMPLE / "releasegate.yaml").read_text(encoding="utf-8")
    edits = {
        "determinism:\n  enabled: true": "determinism:\n  enabled: false",
        (
            "  - name: determinism\n    metric: determinism_changed_rate\n    threshold: 0\n"
            "    comparison: less_equal\n    gate_type: warning\n"
            "    description: Greedy decoding should give the same output whatever the batch.\n"
        ): "",
        "schema_path: schema.json": f"schema_path: {EXAMPLE / 'schema.json'}",
        "suite_path: redteam.jsonl": f"suite_path: {EXAMPLE / 'redteam.jsonl'}",
    }
    for old, new in edits.items():
        if old not in text:
            raise SystemExit(f"the example config no longer has {old!r}: update this benchmark")
        text = text.replace(old, new)
    path = work / "releasegate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def cached_rerun(env: dict[str, str], work: Path, *, rounds: int) -> None:
    """``releasegate run`` on the example twice per round, one output folder each round.

    Each round starts empty: a cold run (generates), then a fully cached one. The
    ratio of the medians is the figure; single pairs vary by ±15% on a shared machine.
    """
    print(
        "\n`releasegate run` on the example (tiny-v1, 500 examples + red-team, determinism "
        "check off), cold then cached, a fresh output dir per round:"
    )
    print("| round | cold wall s | cold CPU s | cached wall s | cached CPU s | cached/cold |")
    print("|---:|---:|---:|---:|---:|---:|")
    config = _cacheable_config(work)
    quiet = {**env, "COLUMNS": "120"}
    colds: list[tuple[float, float]] = []
    warms: list[tuple[float, float]] = []
    for n in range(1, rounds + 1):
        out = work / f"round-{n}"
        command = [
            sys.executable,
            "-m",
            "releasegate",
            "run",
            "--model",
            str(EXAMPLE / "models" / "tiny-v1"),
            "--benchmark",
            str(EXAMPLE / "benchmark.jsonl"),
            "--config",
            str(config),
            "--output-dir",
            str(out / "reports"),
            "--save-baseline",  # a DEPLOY writes its baseline here, not into the repository
            str(out / "baseline.json"),
        ]
        cold = timed(command, quiet, ok=(0, 1))  # DEPLOY or BLOCK, not ERROR
        warm = timed(command, quiet, ok=(0, 1))
        colds.append(cold)
        warms.append(warm)
        print(
            f"| {n} | {cold[0]:.1f} | {cold[1]:.1f} | {warm[0]:.2f} | {warm[1]:.2f} "
            f"| {warm[0] / cold[0]:.1%} |",
            flush=True,
        )
    cold_wall, cold_cpu = (statistics.median(c[i] for c in colds) for i in (0, 1))
    warm_wall, warm_cpu = (statistics.median(w[i] for w in warms) for i in (0, 1))
    print(
        f"medians: cold {cold_wall:.1f} s wall, {cold_cpu:.1f} s CPU; cached {warm_wall:.2f} s "
        f"wall, {warm_cpu:.2f} s CPU; cached/cold: wall {warm_wall / cold_wall:.1%}, "
        f"CPU {warm_cpu / cold_cpu:.1%}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the generated ~20M model")
    parser.add_argument("--benchmark", type=Path, default=EXAMPLE / "benchmark.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="use the first N examples")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-versus", action="store_true")
    parser.add_argument("--skip-cached", action="store_true")
    parser.add_argument("--cached-rounds", type=int, default=5, help="cold+cached pairs")
    args = parser.parse_args(argv)
    if args.model is None:
        args.model = str(make_model(MODEL_20M))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    env.pop("PYTHONPATH", None)
    # As a user runs it: with bytecode caching (a cached re-run otherwise spends ~0.5 s
    # compiling releasegate's own modules again).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="vs-lm-eval-") as tmp:
        if not args.skip_versus:
            versus(args, env, Path(tmp))
        if not args.skip_cached:
            cached_rerun(env, Path(tmp), rounds=args.cached_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
