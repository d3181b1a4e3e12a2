"""Fault injection for docs/reliability.md: random inputs to every loader, real signals at
random moments to real ``releasegate run`` processes, and a count of what was lost.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fault_injection.py --inputs 2000 --signals 12

Prints: inputs tried per loader and how many raised anything but a ReleaseGateError;
signals sent (SIGINT, SIGTERM, SIGKILL at a uniform random delay) and, for each end
state, whether it was a complete run, no run, or a broken one (a run directory
without every report, a report.json that does not parse, a baseline that is neither
the old one nor a valid new one, a history row without its run directory).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl  # noqa: E402
from releasegate.backends.replay import ReplayBackend  # noqa: E402
from releasegate.benchmark.load import load_benchmark  # noqa: E402
from releasegate.config import parse_config  # noqa: E402
from releasegate.errors import ReleaseGateError  # noqa: E402
from releasegate.safety.suite import load_suite  # noqa: E402
from releasegate.store.baseline import load_baseline  # noqa: E402

OLD_BASELINE = '{"accuracy": 0.5}\n'
REPORTS = {"report.json", "report.md", "report.html", "junit.xml", "outputs.jsonl"}


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        pos = rng.randrange(len(out) + 1)
        if op < 0.4 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op < 0.7:
            out[pos:pos] = rng.choice(
                [b"\\ud800", b"\xe2\x80\xa8", b"[" * 5000, b"NaN", b"-1", b"\r\n", b"\xff", b"\0"]
            )
        else:
            del out[pos : pos + rng.randint(1, 20)]
    return bytes(out)


def fuzz_loaders(n: int, seed: int) -> dict[str, tuple[int, int]]:
    rng = random.Random(seed)
    rows = example_rows(5)
    seeds = {
        "benchmark": "".join(json.dumps(r) + "\n" for r in rows).encode(),
        "replay": "".join(json.dumps(r) + "\n" for r in replay_rows(rows)).encode(),
        "suite": b'{"id": "a", "input": "x", "kind": "attack", "category": "c", '
        b'"must_not_contain": ["k"]}\n',
        "baseline": b'{"accuracy": 0.9, "json_valid_rate": 1.0}',
        "config": SEED_CONFIG.encode(),
    }
    loaders = {
        "benchmark": load_benchmark,
        "replay": ReplayBackend,
        "suite": load_suite,
        "baseline": load_baseline,
        "config": lambda p: parse_config(Path(p).read_bytes().decode("utf-8", "replace")),
    }
    results: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.jsonl"
        for name, load in loaders.items():
            escaped = 0
            for _ in range(n):
                path.write_bytes(_mutate(rng, seeds[name]))
                try:
                    load(path)
                except ReleaseGateError:
                    pass
                except Exception as exc:  # noqa: BLE001 - that is what we count
                    escaped += 1
                    print(f"  {name}: {type(exc).__name__}: {exc}"[:200])
            results[name] = (n, escaped)
    return results


def _end_state(tmp: Path) -> str:
    reports = tmp / "reports"
    dirs = [p for p in reports.iterdir() if p.is_dir()] if reports.exists() else []
    visible = [d for d in dirs if not d.name.startswith(".")]
    baseline = (tmp / "b.json").read_text(encoding="utf-8")
    rows = 0
    if (reports / "history.sqlite").exists():
        with sqlite3.connect(reports / "history.sqlite") as conn:
            rows = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    if not visible:
        ok = baseline == OLD_BASELINE and rows == 0
        return "no run" if ok else "BROKEN (no run dir, but baseline or history changed)"
    (run,) = visible
    names = {p.name for p in run.iterdir()}
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    complete = names >= REPORTS and rows == 1 and "INCOMPLETE" not in names
    if report["decision"] == "DEPLOY":
        complete = complete and "baseline.json" in names and baseline != OLD_BASELINE
    return "complete run" if complete else f"BROKEN ({sorted(names)}, history rows {rows})"


def inject_signals(n: int, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    for i in range(n):
        sig = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL][i % 3]
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            rows = example_rows(200)
            bench = write_jsonl(tmp / "bench.jsonl", rows)
            replay = write_jsonl(tmp / "replay.jsonl", replay_rows(rows))
            (tmp / "c.yaml").write_text(SEED_CONFIG, encoding="utf-8")
            (tmp / "b.json").write_text(OLD_BASELINE, encoding="utf-8")
            cmd = [sys.executable, "-m", "releasegate", "run", "--model", str(replay)]
            cmd += ["--benchmark", str(bench), "--config", str(tmp / "c.yaml")]
            cmd += ["--output-dir", str(tmp / "reports"), "--save-baseline", str(tmp / "b.json")]
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # Find how long a whole run takes once, then aim anywhere inside it.
            delay = rng.uniform(0.5, inject_signals.full_run_s)  # type: ignore[attr-defined]
            time.sleep(delay)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=300)
            state = _end_state(tmp)
            outcomes[f"{sig.name} -> {state}"] += 1
            message = err.decode().strip().splitlines()[-1:] if err else []
            print(
                f"  {sig.name} after {delay:.2f}s (ran {time.perf_counter() - t0:.1f}s): "
                f"exit {proc.returncode}, {state}; {message}"
            )
    return outcomes


def _time_full_run() -> float:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        rows = example_rows(200)
        bench = write_jsonl(tmp / "bench.jsonl", rows)
        replay = write_jsonl(tmp / "replay.jsonl", replay_rows(rows))
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "releasegate",
                "run",
                "--model",
                str(replay),
                "--benchmark",
                str(bench),
                "--output-dir",
                str(tmp / "r"),
                "--save-baseline",
                str(tmp / "b.json"),
            ],
            check=True,
            capture_output=True,
            env={**os.environ},
        )
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=2000, help="random inputs per loader")
    parser.add_argument("--signals", type=int, default=12, help="signalled runs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"fuzzing loaders with {args.inputs} mutated inputs each")
    for name, (tried, escaped) in fuzz_loaders(args.inputs, args.seed).items():
        print(f"{name:10s} inputs {tried:6d}  escaped (not a ReleaseGateError): {escaped}")
    full = _time_full_run()
    inject_signals.full_run_s = full  # type: ignore[attr-defined]
    print(f"a whole run (200 examples, replay) takes {full:.1f}s; signals land in 0.5..{full:.1f}s")
    outcomes = inject_signals(args.signals, args.seed)
    for outcome, count in sorted(outcomes.items()):
        print(f"{count:3d}  {outcome}")
    broken = sum(c for o, c in outcomes.items() if "BROKEN" in o)
    print(
        f"signals sent: {args.signals}; broken end states (data lost or half-published): {broken}"
    )


if __name__ == "__main__":
    main()
