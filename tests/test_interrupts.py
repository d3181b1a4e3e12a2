"""Real signals to a real ``releasegate run`` process: a complete run or none, a true message.

The process is paused at a known point with the fault-injection hook
``RELEASEGATE_TEST_PAUSE_AT`` (publishing), or is kept busy by a slow local
chat-completions server (evaluation), and then signalled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, write_jsonl
from releasegate.testing.fake_llm_server import FakeLLMServer

pytestmark = pytest.mark.timeout(180)
OLD_BASELINE = '{"accuracy": 0.5}\n'


def _start(tmp: Path, model: str, *extra: str, env: dict[str, str]) -> subprocess.Popen[str]:
    bench = write_jsonl(tmp / "bench.jsonl", example_rows(20))
    config = tmp / "c.yaml"
    config.write_text(SEED_CONFIG, encoding="utf-8")
    (tmp / "baselines").mkdir(exist_ok=True)
    (tmp / "baselines" / "b.json").write_text(OLD_BASELINE, encoding="utf-8")
    args = ["run", "--model", model, "--benchmark", str(bench), "--config", str(config)]
    args += ["--output-dir", str(tmp / "reports"), "--save-baseline", str(tmp / "baselines/b.json")]
    return subprocess.Popen(
        [sys.executable, "-c", _AS_FROM_A_TERMINAL, *args, *extra],
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
    )


_AS_FROM_A_TERMINAL = """
import runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv = ["releasegate", *sys.argv[1:]]
runpy.run_module("releasegate", run_name="__main__", alter_sys=True)
"""
"""``python -m releasegate`` with Ctrl-C handled as from a terminal. A test run started
in the background without job control inherits SIGINT ignored, and a process that
starts with SIGINT ignored rightly keeps ignoring it; these tests are about Ctrl-C."""


def _wait_for(predicate: object, *, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("the process never reached the point to interrupt")


def _replay(tmp: Path) -> str:
    rows = [{"id": r["id"], "output": r["expected_output"]} for r in example_rows(20)]
    return str(write_jsonl(tmp / "replay.jsonl", rows))


def _assert_nothing_published(tmp: Path) -> None:
    reports = tmp / "reports"
    visible = [p for p in reports.iterdir() if p.is_dir()] if reports.exists() else []
    assert visible == [], visible
    stray = [p for p in tmp.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    assert stray == [], stray
    assert (tmp / "baselines" / "b.json").read_text(encoding="utf-8") == OLD_BASELINE
    history = reports / "history.sqlite"
    if history.exists():
        import sqlite3

        with sqlite3.connect(history) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_publishing_rolls_everything_back(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    ready = tmp_path / "paused"
    proc = _start(
        tmp_path,
        _replay(tmp_path),
        env={"RELEASEGATE_TEST_PAUSE_AT": "publish", "RELEASEGATE_TEST_PAUSE_FILE": str(ready)},
    )
    _wait_for(ready.exists)
    staged = list((tmp_path / "reports").glob(".*.partial"))
    assert staged and (staged[0] / "report.json").exists()  # really interrupted mid-publish
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert f"interrupted by {sig.name} during publishing: publishing was rolled back" in err
    _assert_nothing_published(tmp_path)


def test_sigkill_while_publishing_leaves_only_a_folder_marked_incomplete(tmp_path: Path) -> None:
    ready = tmp_path / "paused"
    proc = _start(
        tmp_path,
        _replay(tmp_path),
        env={"RELEASEGATE_TEST_PAUSE_AT": "publish", "RELEASEGATE_TEST_PAUSE_FILE": str(ready)},
    )
    _wait_for(ready.exists)
    proc.kill()
    proc.communicate(timeout=60)
    (staged,) = (tmp_path / "reports").glob(".*.partial")
    assert (staged / "INCOMPLETE").is_file()
    # Caches are not results: the schema cache is written when the stages are done.
    left = {p.name for p in (tmp_path / "reports").iterdir() if not p.name.startswith(".")}
    assert left - {"schema_cache.sqlite"} in (set(), {"history.sqlite"})
    assert (tmp_path / "baselines" / "b.json").read_text(encoding="utf-8") == OLD_BASELINE


def test_sigterm_during_generation_publishes_nothing(tmp_path: Path) -> None:
    with FakeLLMServer(latency_s=0.5) as server:
        server.set_verdict(lambda system, user: json.dumps({"action": "list_tasks"}))
        proc = _start(
            tmp_path,
            server.openai_base_url,
            "--model-name",
            "slow",
            env={},
        )
        _wait_for(lambda: len(server.requests) > 0 or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "interrupted by SIGTERM during evaluation: nothing was published" in err
    _assert_nothing_published(tmp_path)
