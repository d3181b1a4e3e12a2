"""Endpoint faults through the real CLI (a subprocess) against a local fault-injecting server.

Each case failed before: a trickling or endless reply held a run with
``timeout_s: 5`` for minutes, malformed 200 replies crashed the stage, and
``user:pass@`` went out as Basic auth with a server echo of it in every artifact.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, write_jsonl
from releasegate.testing.fake_llm_server import FakeLLMServer, Fault

ROWS = example_rows(6)
ANSWERS = {str(r["input"]): str(r["expected_output"]) for r in ROWS}
KEY_ENV = "RELEASEGATE_TEST_CLI_ENDPOINT_KEY"
SECRET = "sk-cli-endpoint-secret-9f3a"


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        srv.set_verdict(lambda system, user: ANSWERS.get(user, "no"))
        yield srv


def _run(
    tmp: Path, url: str, model: str, *, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    bench = write_jsonl(tmp / "bench.jsonl", ROWS)
    config = tmp / "releasegate.yaml"
    config.write_text(SEED_CONFIG + "model:\n  model_name: tiny-served\n" + model, "utf-8")
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "releasegate",
            "run",
            "--model",
            url,
            "--benchmark",
            bench,
            "--config",
            config,
            "--output-dir",
            tmp / "reports",
        ],  # fmt: skip
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )
    return done, time.monotonic() - started


def _report(tmp: Path) -> dict[str, object]:
    (run_dir,) = (tmp / "reports").glob("2*")
    return dict(json.loads((run_dir / "report.json").read_text("utf-8")))


def _errors(report: dict[str, object]) -> list[str]:
    examples = report["examples"]
    assert isinstance(examples, list)
    return [str(e["error"]) for e in examples if e["error"]]


def test_a_trickling_or_endless_reply_cannot_hold_the_run(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    server.push_faults(
        Fault("trickle", delay_s=0.5, duration_s=60), Fault("stream_forever", duration_s=60)
    )
    done, wall = _run(
        tmp_path,
        server.openai_base_url,
        "  timeout_s: 2\n  max_retries: 3\n  concurrency: 2\n  on_missing: fail_example\n",
    )
    assert done.returncode == 1, done.stderr  # two examples failed: accuracy gate BLOCKs
    assert wall < 30, f"the run took {wall:.0f} s"
    errors = _errors(_report(tmp_path))
    assert len(errors) == 2
    assert all("no complete reply within model.timeout_s (2 s" in e for e in errors)


def test_malformed_200_replies_are_per_example_failures_with_reasons(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    server.push_faults(Fault("malformed"), Fault("html"), Fault("bad_content"), Fault("truncated"))
    done, _ = _run(
        tmp_path,
        server.openai_base_url,
        "  max_retries: 0\n  concurrency: 1\n  on_missing: fail_example\n",
    )
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr.lower()
    errors = _errors(_report(tmp_path))
    assert len(errors) == 4
    assert any("not valid JSON" in e for e in errors)
    assert any("HTML page" in e for e in errors)
    assert any("content is int 12345" in e for e in errors)


def test_malformed_replies_are_retried_like_a_5xx(server: FakeLLMServer, tmp_path: Path) -> None:
    server.push_faults(Fault("malformed"), Fault("html"), Fault("bad_content"))
    done, _ = _run(tmp_path, server.openai_base_url, "  max_retries: 3\n  concurrency: 1\n")
    assert done.returncode == 0, done.stderr + done.stdout
    assert not _errors(_report(tmp_path))
    assert len(server.requests) == len(ROWS) + 3


def test_credentials_in_the_url_are_refused_and_never_sent(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    url = server.openai_base_url.replace("http://", "http://alice:hunter2-pass@")
    done, _ = _run(tmp_path, url, "")
    assert done.returncode == 2
    assert "credentials in the URL are refused" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert server.requests == []


def test_a_server_echo_of_the_key_reaches_no_artifact(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    server.push_faults(Fault("echo_auth"))
    server.set_verdict(lambda system, user: f"my key is {SECRET}")
    done, _ = _run(
        tmp_path,
        server.openai_base_url,
        f"  api_key_env: {KEY_ENV}\n  concurrency: 1\n  on_missing: fail_example\n",
        env={KEY_ENV: SECRET},
    )
    assert done.returncode == 1, done.stderr
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    errors = _errors(_report(tmp_path))
    assert any("HTTP 400: invalid header Authorization: Bearer ***" in e for e in errors)
    forms = [SECRET, base64.b64encode(SECRET.encode()).decode().rstrip("=")]
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(form.encode() in data for form in forms), path
    assert SECRET not in done.stdout + done.stderr


def test_a_url_without_v1_names_the_url_and_suggests_v1(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    done, _ = _run(tmp_path, server.root_url, "  concurrency: 2\n")
    assert done.returncode == 2
    assert f"POST {server.root_url}/chat/completions: HTTP 404" in done.stderr
    assert f"try --model {server.root_url}/v1" in done.stderr
    assert len(server.requests) <= 2
