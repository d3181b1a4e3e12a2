"""Model fingerprints remembered by the files' identity, so an unchanged model is not re-read.

A model's fingerprint hashes every byte of its weights: a 7B model in fp16 is 14 GB,
~15 s of hashing on every run, cached re-runs included. This cache maps the files'
identity (resolved path, device, inode, size, modification and change times, in
nanoseconds, and a hash of each file's first and last MiB) to the fingerprint those
exact files gave. Any write, rename, copy or ``chmod`` changes the change time or the
inode, and so the key; the value is hashed again. The edge bytes are for file systems
whose times and inodes say less (network and FUSE mounts, such as a synced drive): a
file replaced by other weights of the same size and dates still differs there.
Files modified less than :data:`SETTLE_S` before they were hashed are not
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
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from releasegate.store.disposable import open_cache

log = logging.getLogger(__name__)

SETTLE_S = 2.0
"""Files younger than this when hashed are hashed again next time (timestamps are coarse)."""

FILE_NAME = "fingerprints.sqlite"

_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
"""What a stored value must look like (anything else is a damaged row: hash again)."""

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
    before = _identity(files)
    key = _key(before, formula)
    path = cache_dir() / FILE_NAME
    if before is not None and path.is_file():
        found = _read(path, key)
        if found is not None:
            return found
    started_ns = time.time_ns()
    value = compute()
    # Unchanged while being hashed, and last changed well before it.
    if before is not None and _identity(files) == before:
        newest_ns = max((max(f[4], f[5]) for f in before), default=0)
        if newest_ns < started_ns - SETTLE_S * 1e9:
            _write(path, key, value)
    return value


EDGE_BYTES = 1 << 20
"""How much of each end of a file goes into its identity."""

Identity = list[tuple[str, int, int, int, int, int, str]]
"""Per file: resolved path, device, inode, size, mtime and ctime (ns), edge-bytes hash."""


def _identity(files: Sequence[Path]) -> Identity | None:
    try:
        stats = [(p, p.stat()) for p in files]
        return [
            (
                str(p.resolve()),
                st.st_dev,
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
                _edges(p, st.st_size),
            )
            for p, st in stats
        ]
    except OSError:
        return None


def _edges(path: Path, size: int) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        h.update(f.read(EDGE_BYTES))
        if size > EDGE_BYTES:
            f.seek(max(EDGE_BYTES, size - EDGE_BYTES))
            h.update(f.read(EDGE_BYTES))
    return h.hexdigest()


def _key(identity: Identity | None, formula: str) -> str:
    return hashlib.sha256(json.dumps([formula, identity]).encode("utf-8")).hexdigest()


def _read(path: Path, key: str) -> str | None:
    try:
        conn = open_cache(path, _SCHEMA, what="fingerprint cache")
        try:
            row = conn.execute(
                "SELECT fingerprint FROM fingerprints WHERE key = ?", (key,)
            ).fetchone()
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        log.debug("fingerprint cache %s not read: %s", path, exc)
        return None
    found = row[0] if row is not None else None
    return found if isinstance(found, str) and _FINGERPRINT.fullmatch(found) else None


def _write(path: Path, key: str, value: str) -> None:
    try:
        conn = open_cache(path, _SCHEMA, what="fingerprint cache")
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO fingerprints (key, fingerprint) VALUES (?, ?)",
                    (key, value),
                )
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        log.debug("fingerprint cache %s not written: %s", path, exc)
