"""Model fingerprints are remembered by the files' identity, and never outlive a change."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from releasegate.backends import model_dir
from releasegate.backends.model_dir import ModelDir
from releasegate.store import fingerprint_cache

TINY = Path(__file__).resolve().parents[2] / "examples" / "task-api" / "models" / "tiny-v1"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """A private cache folder, and a count of the times the files are really hashed."""
    monkeypatch.setenv("RELEASEGATE_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[int] = []
    real = model_dir._hash_files

    def counting(files: list[Path]) -> str:
        calls.append(len(files))
        return real(files)

    monkeypatch.setattr(model_dir, "_hash_files", counting)
    return calls


def _old_copy(tmp_path: Path) -> Path:
    """tiny-v1 copied, its files dated an hour back (settled)."""
    copy = tmp_path / "model"
    shutil.copytree(TINY, copy)
    hour_ago = os.path.getmtime(TINY / "config.json") - 3600
    for p in copy.iterdir():
        os.utime(p, (hour_ago, hour_ago))
    return copy


def test_settled_files_are_remembered_and_any_change_is_hashed_again(
    tmp_path: Path, counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _old_copy(tmp_path)
    monkeypatch.setattr(fingerprint_cache, "SETTLE_S", -60.0)  # treat just-written as settled
    first = ModelDir.locate(str(copy)).fingerprint()
    assert first == ModelDir.locate(str(TINY)).fingerprint()  # same files, same fingerprint
    hashed = len(counted)
    assert ModelDir.locate(str(copy)).fingerprint() == first
    assert len(counted) == hashed  # remembered
    weights = next(p for p in copy.iterdir() if p.suffix == ".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # same size; mtime set back to what it was: only ctime tells
    stat = weights.stat()
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    changed = ModelDir.locate(str(copy)).fingerprint()
    assert changed != first and len(counted) == hashed + 1


def test_files_changed_just_before_hashing_are_not_remembered(
    tmp_path: Path, counted: list[int]
) -> None:
    copy = tmp_path / "fresh"
    shutil.copytree(TINY, copy)  # written now: inside the settle window
    ModelDir.locate(str(copy)).fingerprint()
    ModelDir.locate(str(copy)).fingerprint()
    assert len(counted) == 2


def test_an_unusable_cache_only_costs_the_hashing(
    tmp_path: Path, counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("RELEASEGATE_CACHE_DIR", str(blocker))
    monkeypatch.setattr(fingerprint_cache, "SETTLE_S", -60.0)
    assert ModelDir.locate(str(TINY)).fingerprint().startswith("sha256:")
    assert ModelDir.locate(str(TINY)).fingerprint().startswith("sha256:")
    assert len(counted) == 2


def test_a_damaged_entry_is_hashed_again(
    tmp_path: Path, counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _old_copy(tmp_path)
    monkeypatch.setattr(fingerprint_cache, "SETTLE_S", -60.0)
    first = ModelDir.locate(str(copy)).fingerprint()
    with sqlite3.connect(tmp_path / "cache" / fingerprint_cache.FILE_NAME) as conn:
        conn.execute("UPDATE fingerprints SET fingerprint = 'sha256:not-a-digest'")
    assert ModelDir.locate(str(copy)).fingerprint() == first
    assert len(counted) == 2


def test_a_replaced_file_is_found_where_the_times_and_inode_say_nothing(
    tmp_path: Path, counted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that keeps size, times and inode across a rewrite (some FUSE mounts)."""
    copy = _old_copy(tmp_path)
    monkeypatch.setattr(fingerprint_cache, "SETTLE_S", -60.0)
    frozen = {p.name: p.stat() for p in copy.iterdir()}
    real_stat = Path.stat

    def stale_stat(self: Path, **kwargs: bool) -> object:
        return frozen.get(self.name) or real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", stale_stat)
    first = ModelDir.locate(str(copy)).fingerprint()
    weights = next(p for p in copy.iterdir() if p.suffix == ".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # same size; the (frozen) stat cannot tell
    weights.write_bytes(bytes(data))
    assert ModelDir.locate(str(copy)).fingerprint() != first
    assert len(counted) == 2
