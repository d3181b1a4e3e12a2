"""How many times a model has been gated before: a read-only query of the run history.

The anytime-valid regression mode spends its alpha across attempts at gating
the same candidate; the candidate is identified by its model fingerprint in
the run history (:mod:`releasegate.store.history`, whose schema this reads and
never writes).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from releasegate.errors import InputError

__all__ = ["previous_attempts"]


def previous_attempts(path: Path, *, model_fingerprint: str) -> int:
    """Runs already recorded for ``model_fingerprint`` (0 when there is no history yet).

    Args:
        path: The history database (``history.sqlite``).
        model_fingerprint: The candidate's fingerprint.

    Returns:
        The number of recorded runs of that fingerprint.

    Raises:
        InputError: If the file exists but is not a readable run history.
    """
    if not path.is_file():
        return 0
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if "runs" not in tables:
                return 0
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM runs WHERE model_fingerprint = ?", (model_fingerprint,)
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: run history database is unusable: {exc}") from exc
    return int(count)
