"""Open a disposable SQLite cache: a corrupt one is moved aside and rebuilt, with a warning.

Caches (generated outputs, judge verdicts) only save time, so a damaged file must
never stop a run: it is renamed to ``<name>.corrupt-<timestamp>`` (kept for a post
mortem, never read again) and an empty cache takes its place.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 5.0
"""How long to wait for another process's lock (sqlite3's default) before giving up."""


def open_cache(path: Path, schema: str, *, what: str) -> sqlite3.Connection:
    """A connection to the cache at ``path`` with ``schema`` applied.

    Args:
        path: The SQLite file (created with its folder when missing).
        schema: ``CREATE TABLE IF NOT EXISTS ...`` statements.
        what: Names the cache in the warning (``generation cache``, ``judge cache``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path, schema)
    except sqlite3.OperationalError:  # locked, read-only, disk full: not a damaged file
        raise  # (moving it aside would lose a healthy cache that another run is using)
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(path, aside)
        for suffix in ("-wal", "-shm", "-journal"):
            stale = path.with_name(path.name + suffix)
            if stale.exists():
                os.replace(stale, aside.with_name(aside.name + suffix))
        log.warning(
            "%s %s is unreadable (%s): moved aside to %s; starting an empty one",
            what,
            path,
            exc,
            aside,
        )
        return _open(path, schema)


def _open(path: Path, schema: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    try:
        with conn:
            conn.executescript(schema)
        status = conn.execute("PRAGMA quick_check").fetchone()[0]
        if status != "ok":
            raise sqlite3.DatabaseError(status)
    except BaseException:
        conn.close()
        raise
    return conn
