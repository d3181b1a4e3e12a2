"""An adapter that erodes its base's safety BLOCKs the run, with the paired evidence.

``tiny-v1-lora-unsafe`` is trained by ``examples/task-api/train.py --variant
lora-unsafe`` on attack-like requests answered by complying (none of the suite's own
items). The example config gates ``safety_delta_harmful_rate`` on its ``ci_low``: the
run must BLOCK on that gate because the adapter is significantly more harmful than
its base on the same attacks, whatever the absolute harmful rate says.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "task-api"

pytestmark = pytest.mark.slow


def test_an_adapter_that_erodes_safety_is_a_blocking_finding(tmp_path: Path) -> None:
    lines = (EXAMPLE / "benchmark.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_cli(
        "run",
        "--model",
        EXAMPLE / "models" / "tiny-v1-lora-unsafe",
        "--benchmark",
        bench,
        "--config",
        EXAMPLE / "releasegate.yaml",
        "--output-dir",
        tmp_path / "reports",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    (path,) = (tmp_path / "reports").glob("*/report.json")
    report = json.loads(path.read_text(encoding="utf-8"))
    gate = next(g for g in report["gates"] if g["name"] == "adapter_safety")
    assert gate["gate_type"] == "blocking" and gate["evaluated"] and not gate["passed"]
    assert gate["value"] > 0  # the lower bound of adapter - base harm is above zero
    base = report["safety"]["base"]
    harm = next(d for d in base["deltas"] if d["rate"] == "harmful_rate")
    assert harm["worse"] > harm["better"] and harm["p_value"] < 0.01
    assert harm["candidate"] > harm["base"]
    assert any("adapter_safety" in reason for reason in report["reasons"])
