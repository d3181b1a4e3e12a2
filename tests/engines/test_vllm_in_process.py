"""The in-process vLLM backend (``--backend vllm``) gives the HF backend's outputs.

vLLM lives in the engines venv, so the backend runs there, in
``releasegate.testing.vllm_runner`` (eager, fp32, CPU), over all 500 Task API examples
without and with a stop string; the HF backend runs here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from engine_support import BENCHMARK, PLAIN, ROOT, STOP, V1, Reference, assert_same_outputs

from releasegate.backends.base import Generation
from releasegate.backends.hf import HFBackend
from releasegate.testing.engines import engine_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_in_process_vllm_backend_gives_the_hf_backends_outputs(
    engines_py: Path, hf_reference: Reference, tmp_path: Path
) -> None:
    out = tmp_path / "vllm.json"
    argv = [str(engines_py), "-m", "releasegate.testing.vllm_runner", "--model", str(V1)]
    argv += ["--benchmark", str(BENCHMARK), "--out", str(out), "--stop", STOP.stop[0]]
    proc = subprocess.run(
        argv,
        check=False,
        env=engine_env(ROOT),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1700,
    )
    assert proc.returncode == 0, f"vllm runner failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [tuple(run["stop"]) for run in result["runs"]] == [PLAIN.stop, STOP.stop]
    for run, params in zip(result["runs"], (PLAIN, STOP), strict=True):
        got = [Generation(**g) for g in run["generations"]]
        assert_same_outputs(got, hf_reference(V1, params))
    info = result["info"]
    assert info["backend"] == "vllm" and info["cacheable"] is True
    assert info["details"]["dtype"] == "float32" and info["details"]["device"] == "cpu"
    # The HF backend's content hash: the weights are fingerprinted, not the engine.
    assert info["fingerprint"] == HFBackend.from_settings(str(V1)).info().fingerprint
