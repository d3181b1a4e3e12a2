"""Model fingerprints remembered by the files' identity, so an unchanged model is not re-read.

A model's fingerprint hashes every byte of its weights: a 7B model in fp16 is 14 GB,
~15 s of hashing on every run, cached re-runs included. This cache maps the files'
identity (resolved path, device, inode, size, modification and change times, in
nanoseconds) to the fingerprint those exact files gave. Any write, rename, copy or
``chmod`` changes the change time or the inode, and so the key; the value is hashed
again. Files modified less than :data:`SETTLE_S` before they were hashed are not
remembered (a second write within one timestamp tick could keep all of it equal:
git's "racy" rule).

The file lives in the user's cache folder (``RELEASEGATE_CACHE_DIR``, else
``$XDG_CACHE_HOME/releasegate``, else ``~/.cache/releasegate``). A cache that cannot
be read or written only costs the hashing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from releasegate.store.disposable import open_cache

log = logging.getLogger(__name__)

SETTLE_S = 2.0
"""Files younger than this when hashed are hashed again next time (timestamps are coarse)."""

FILE_NAME = "fingerprints.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fingerprints (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def cache_dir() -> Path:
    """Where releasegate keeps per-user caches."""
    explicit = os.environ.get("RELEASEGATE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "releasegate"


def remembered_fingerprint(
    files: Sequence[Path], compute: Callable[[], str], *, formula: str
) -> str:
    """``compute()``, or what it gave for these very files before.

    ``formula`` names how ``compute`` hashes (part of the key: a new formula is a miss).
    """
    identity = _identity(files, formula)
    path = cache_dir() / FILE_NAME
    if identity is not None and path.is_file():
        found = _read(path, identity)
        if found is not None:
            return found
    started = time.time()
    value = compute()
    if identity is not None and _settled(files, identity, started, formula):
        _write(path, identity, value)
    return value


def _identity(files: Sequence[Path], formula: str) -> str | None:
    try:
        parts: list[object] = [formula]
        for p in files:
            st = p.stat()
            parts.append(
                [str(p.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
            )
    except OSError:
        return None
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def _settled(files: Sequence[Path], identity: str, started: float, formula: str) -> bool:
    """The files are as they were before hashing, and were last changed long before it."""
    if _identity(files, formula) != identity:
        return False  # changed while being hashed
    try:
        newest = max((max(p.stat().st_mtime, p.stat().st_ctime) for p in files), default=0.0)
    except OSError:
        return False
    return newest < started - SETTLE_S


def _read(path: Path, identity: str) -> str | None:
    try:
        conn = open_cache(path, _SCHEMA, what="fingerprint cache")
        try:
            row = conn.execute(
                "SELECT fingerprint FROM fingerprints WHERE key = ?", (identity,)
            ).fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        log.debug("fingerprint cache %s not read: %s", path, exc)
        return None
    return str(row[0]) if row is not None else None


def _write(path: Path, identity: str, value: str) -> None:
    try:
        conn = open_cache(path, _SCHEMA, what="fingerprint cache")
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO fingerprints (key, fingerprint) VALUES (?, ?)",
                    (identity, value),
                )
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        log.debug("fingerprint cache %s not written: %s", path, exc)
