"""The read-only attempt count over the run history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from releasegate.errors import InputError
from releasegate.store.attempts import previous_attempts


def test_counts_runs_of_one_fingerprint(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    assert previous_attempts(db, model_fingerprint="sha256:a") == 0
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, model_fingerprint TEXT)")
        conn.executemany(
            "INSERT INTO runs VALUES (?, ?)",
            [("r1", "sha256:a"), ("r2", "sha256:a"), ("r3", "sha256:b")],
        )
    before = db.read_bytes()
    assert previous_attempts(db, model_fingerprint="sha256:a") == 2
    assert previous_attempts(db, model_fingerprint="sha256:c") == 0
    assert db.read_bytes() == before  # read-only


def test_empty_and_broken_histories(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    assert previous_attempts(empty, model_fingerprint="x") == 0
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="unusable"):
        previous_attempts(broken, model_fingerprint="x")
