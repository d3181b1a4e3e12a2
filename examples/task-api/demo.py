"""The offline demo: evaluate the good model (DEPLOY, writes the baseline), then the
regressed one against that baseline (an explained BLOCK). No GPU, no key, no network.

Runs the real ``releasegate`` CLI and checks that each decision is the expected one,
so a demo that silently stops showing the product fails loudly instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "reports" / "demo"
BASELINE = OUT / "baseline.json"
CALIBRATION = OUT / "calibration.json"
CALIBRATION_RUNS = 2


def releasegate(model: str, *extra: str) -> tuple[int, float]:
    """Run the CLI for one model; stream its output; return exit code and seconds."""
    command = [
        sys.executable,
        "-m",
        "releasegate",
        "run",
        "--model",
        str(HERE / "models" / model),
        "--benchmark",
        str(HERE / "benchmark.jsonl"),
        "--config",
        str(HERE / "releasegate.yaml"),
        "--output-dir",
        str(OUT),
        *extra,
    ]
    print(f"\n$ releasegate run --model examples/task-api/models/{model} ... {' '.join(extra)}")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, check=False, env={**os.environ, "COLUMNS": "120"})
    return done.returncode, time.perf_counter() - started


def calibrate(model: str, runs: int) -> tuple[int, float]:
    """``releasegate calibrate``: the model's A/A noise floor (the cache is bypassed)."""
    command = [
        sys.executable,
        "-m",
        "releasegate",
        "calibrate",
        "--model",
        str(HERE / "models" / model),
        "--benchmark",
        str(HERE / "benchmark.jsonl"),
        "--config",
        str(HERE / "releasegate.yaml"),
        "--runs",
        str(runs),
        "--output",
        str(CALIBRATION),
    ]
    print(f"\n$ releasegate calibrate --model examples/task-api/models/{model} --runs {runs} ...")
    started = time.perf_counter()
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(command, cwd=ROOT, check=False, env=env)
    return done.returncode, time.perf_counter() - started


def noise_line() -> str:
    """One line of the noise floor for the summary, from the calibration file."""
    data = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    accuracy = data["metrics"]["accuracy"]
    p = accuracy["false_block"]
    return (
        f"accuracy {' '.join(f'{v:.3f}' for v in accuracy['values'])} over {data['runs']} runs, "
        f"{accuracy['flipped']} of {accuracy['n']} examples flipped, "
        f"P(false BLOCK) at threshold {data['threshold']:+g}: "
        + ("< 1e-6" if p < 1e-6 else f"{p:.2g}")
    )


def main() -> int:
    """Both runs, then tiny-v1's noise floor; exit 0 only when v1 DEPLOYs and v2 is BLOCKed."""
    if OUT.exists():
        shutil.rmtree(OUT)
    started = time.perf_counter()
    print("== 1/2: tiny-v1, the good fine-tune (no baseline yet) ==")
    v1, t1 = releasegate("tiny-v1", "--save-baseline", str(BASELINE))
    print("\n== 2/2: tiny-v2, the regressed fine-tune, against v1's baseline ==")
    v2, t2 = releasegate("tiny-v2", "--baseline", str(BASELINE))
    print("\n== A/A noise floor: tiny-v1 evaluated twice more, generation cache bypassed ==")
    cal, t3 = calibrate("tiny-v1", CALIBRATION_RUNS)
    total = time.perf_counter() - started
    print("\n== demo summary ==")
    print(f"tiny-v1: exit {v1} ({'DEPLOY' if v1 == 0 else 'unexpected'}) in {t1:.1f} s")
    print(f"tiny-v2: exit {v2} ({'BLOCK' if v2 == 1 else 'unexpected'}) in {t2:.1f} s")
    if cal == 0:
        print(f"noise floor (tiny-v1, {t3:.1f} s): {noise_line()}")
    else:
        print(f"noise floor: releasegate calibrate exited {cal}")
    print(f"reports: {OUT.relative_to(ROOT)}/<run-id>/report.md (also report.json, junit.xml)")
    print(f"history: releasegate history --db {(OUT / 'history.sqlite').relative_to(ROOT)}")
    print(f"total: {total:.1f} s")
    if (v1, v2, cal) != (0, 1, 0):
        print(
            "demo FAILED: expected tiny-v1 to DEPLOY (0), tiny-v2 to BLOCK (1) "
            "and the calibration to succeed (0)"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
