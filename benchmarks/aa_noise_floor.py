"""The A/A noise floor of a nondeterministic server, measured with ``releasegate calibrate``.

Starts the local chat-completions test server (``testing/fake_llm_server.py``)
answering the Task API benchmark correctly, except that each request is answered
wrongly with probability ``--flip-rate`` (``nondeterministic``: a server whose
identical requests get different replies), and runs the real
``releasegate calibrate`` against it.

    python benchmarks/aa_noise_floor.py [--flip-rate 0.12] [--runs 3] [--out /tmp/aa]

Prints the calibration table (the figures in docs/noise-floor.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from releasegate.testing.fake_llm_server import FakeLLMServer, nondeterministic

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = ROOT / "examples" / "task-api" / "benchmark.jsonl"
WRONG = '{"action":"list_tasks"}'


def main() -> int:
    """Serve, calibrate, return calibrate's exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flip-rate", type=float, default=0.12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/releasegate-aa"))
    args = parser.parse_args()
    rows = [json.loads(line) for line in BENCHMARK.read_text("utf-8").splitlines() if line]
    answers = {str(r["input"]): str(r["expected_output"]) for r in rows}
    args.out.mkdir(parents=True, exist_ok=True)
    config = args.out / "noisy.yaml"
    config.write_text(
        f"model:\n  model_name: noisy\n  concurrency: 8\noutput:\n  dir: {args.out / 'reports'}\n",
        "utf-8",
    )
    reply = nondeterministic(
        lambda system, user: answers.get(user, "no"),
        wrong=WRONG,
        flip_rate=args.flip_rate,
        seed=args.seed,
    )
    with FakeLLMServer(verdict=reply) as server:
        command = [
            sys.executable,
            "-m",
            "releasegate",
            "calibrate",
            "--model",
            server.openai_base_url,
            "--benchmark",
            str(BENCHMARK),
            "--config",
            str(config),
            "--runs",
            str(args.runs),
            "--output",
            str(args.out / "calibration.json"),
        ]
        env = {**os.environ, "COLUMNS": "150"}
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
