"""Shared fixtures: a small benchmark, replays of good and bad models, the classic config."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Per-user caches (model fingerprints) go to a session folder, never ~/.cache.

    Set in the environment, so that the CLI run in subprocesses uses it too.
    """
    os.environ["RELEASEGATE_CACHE_DIR"] = str(tmp_path_factory.mktemp("user-cache"))


@pytest.fixture
def bench_rows() -> list[dict[str, object]]:
    return example_rows(40)


@pytest.fixture
def bench_file(tmp_path: Path, bench_rows: list[dict[str, object]]) -> Path:
    return write_jsonl(tmp_path / "bench.jsonl", bench_rows)


@pytest.fixture
def good_replay(tmp_path: Path, bench_rows: list[dict[str, object]]) -> Path:
    return write_jsonl(tmp_path / "good.jsonl", replay_rows(bench_rows, wrong=[3]))


@pytest.fixture
def bad_replay(tmp_path: Path, bench_rows: list[dict[str, object]]) -> Path:
    return write_jsonl(
        tmp_path / "bad.jsonl", replay_rows(bench_rows, wrong=range(0, 40, 4), invalid=[1, 2])
    )


@pytest.fixture
def seed_config(tmp_path: Path) -> Path:
    path = tmp_path / "releasegate.yaml"
    path.write_text(SEED_CONFIG, encoding="utf-8")
    return path
