"""Fixtures for the judge tests: a real local LLM server on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from releasegate.testing.fake_llm_server import FakeLLMServer

# importlib import mode: make judge_support importable from the test modules.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        yield srv
