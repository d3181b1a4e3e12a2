"""Paths shared by the real-engine tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from releasegate.backends.base import Generation, GenerationParams

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "task-api"
BENCHMARK = EXAMPLE / "benchmark.jsonl"
MODELS = EXAMPLE / "models"

Reference = Callable[[Path, GenerationParams], dict[str, Generation]]
"""``hf_reference(model, params)``: the HF backend's outputs by example id."""
