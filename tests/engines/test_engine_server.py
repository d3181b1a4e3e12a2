"""EngineServer starts, waits for and stops a real server process group (no engine needed)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from releasegate.testing.engines import (
    EngineServer,
    EngineStartError,
    free_port,
    transformers_serve_argv,
    vllm_server_argv,
)

# A stand-in that answers /v1/models after a short delay and forks a child, as vLLM's
# server forks its engine core: stopping must take the child down too.
SERVER = textwrap.dedent(
    """
    import http.server, json, os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(sys.argv[2], "w").write(str(child.pid))
    time.sleep(0.5)
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"data": [{"id": "m"}]}).encode()
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args):
            pass
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_server_is_ready_on_entry_and_its_process_group_is_gone_on_exit(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    child_file = tmp_path / "child.pid"
    port = free_port()
    argv = [sys.executable, str(script), str(port), str(child_file)]
    server = EngineServer(
        argv, port=port, env=dict(os.environ), log_path=tmp_path / "log", ready_timeout_s=30
    )
    with server:
        assert server.base_url == f"http://127.0.0.1:{port}/v1"
        assert httpx.get(f"{server.base_url}/models").json() == {"data": [{"id": "m"}]}
        assert server.startup_s is not None and server.startup_s >= 0.5
        child = int(child_file.read_text())
        assert _alive(child)
    assert not _alive(child)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{server.base_url}/models", timeout=1.0)


def test_an_engine_that_exits_early_is_an_error_with_its_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('no such model: x'); sys.exit(3)"]
    server = EngineServer(argv, port=free_port(), env=dict(os.environ), log_path=tmp_path / "l")
    with pytest.raises(EngineStartError, match=r"exited with 3(.|\n)*no such model: x"):
        server.__enter__()


def test_an_engine_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(600)"]
    server = EngineServer(
        argv, port=free_port(), env=dict(os.environ), log_path=tmp_path / "l", ready_timeout_s=1
    )
    with pytest.raises(EngineStartError, match="not ready after 1 s"):
        server.__enter__()


def test_command_lines_name_loopback_and_the_engine_flags(tmp_path: Path) -> None:
    py = tmp_path / "bin" / "python"
    argv = vllm_server_argv(
        py, Path("m"), name="tiny", port=8123, loras={"lora": Path("a")}, max_lora_rank=16
    )
    assert argv[:3] == [str(py), "-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert "--enforce-eager" in argv and argv[-1] == "lora=a"
    assert argv[argv.index("--max-lora-rank") + 1] == "16"
    assert "--enforce-eager" not in vllm_server_argv(py, Path("m"), name="t", port=1, eager=False)
    serve = transformers_serve_argv(py, Path("m"), port=8124)
    assert serve[:3] == [str(tmp_path / "bin" / "transformers"), "serve", "m"]
    assert serve[serve.index("--host") + 1] == "127.0.0.1"
