"""SQLite cache of JSON Schema verdicts on outputs (``<output.dir>/schema_cache.sqlite``).

Validation is a pure function of the schema, the output and jsonschema's version, and
all three are in the key (``releasegate.scoring.schema``), so a re-run of unchanged
outputs reads its verdicts here instead of validating again. The file is read if it
exists and written once, after the stages ran (:meth:`SchemaVerdictCache.save`): a run
rejected at setup creates nothing, and a cache that cannot be written costs only time.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from releasegate.redact import holds_credential
from releasegate.store.disposable import open_cache

log = logging.getLogger(__name__)

_WHAT = "schema cache"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY,
    verdict TEXT,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


class SchemaVerdictCache:
    """Verdicts by key (NULL: valid); new ones are kept in memory until :meth:`save`."""

    def __init__(self, path: Path, *, secrets: Iterable[str] = ()) -> None:
        self._path = path
        # A corrupt cache is moved aside and rebuilt: caches only ever save time.
        self._conn = open_cache(path, _SCHEMA, what=_WHAT) if path.exists() else None
        self._secrets = tuple(secrets)
        """Credential values: a verdict that quotes one (in any form) is never stored."""
        self._new: dict[str, str | None] = {}
        """Verdicts made by this run, stored on close."""
        self._run_only: dict[str, str] = {}
        """Verdicts made by this run that the file must not hold."""

    def get(self, key: str) -> tuple[bool, str | None]:
        """(found, verdict)."""
        if key in self._new:
            return True, self._new[key]
        if key in self._run_only:
            return True, self._run_only[key]
        if self._conn is None:
            return False, None
        row = self._conn.execute("SELECT verdict FROM verdicts WHERE key = ?", (key,)).fetchone()
        if row is None or not (row[0] is None or isinstance(row[0], str)):
            return False, None  # absent, or not a verdict (a damaged row): validate again
        return True, row[0]

    def put(self, key: str, verdict: str | None) -> None:
        """Remember a verdict; one that quotes a credential is remembered by this run only.

        An error message quotes the output, and the cache is a file on disk like any
        artifact: such a verdict is simply made again next time.
        """
        if verdict is not None and (
            not _encodable(verdict) or holds_credential(verdict, self._secrets)
        ):
            self._run_only[key] = verdict
        else:
            self._new[key] = verdict

    def save(self) -> None:
        """Store the new verdicts in one transaction (creating the file if need be)."""
        rows = list(self._new.items())
        if not rows:
            return
        created = self._conn is None
        try:
            if self._conn is None:
                self._conn = open_cache(self._path, _SCHEMA, what=_WHAT)
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO verdicts (key, verdict) VALUES (?, ?)", rows
                )
        except (sqlite3.Error, OSError) as exc:
            log.warning("%s %s: %d verdicts not stored (%s)", _WHAT, self._path, len(rows), exc)
            if created:  # a full disk keeps no half-made cache
                self.close()
                for suffix in ("", "-journal", "-wal", "-shm"):
                    Path(f"{self._path}{suffix}").unlink(missing_ok=True)
        else:
            self._new.clear()

    def close(self) -> None:
        """Close the file (unsaved verdicts are dropped)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate quoted from an output
        return False
    return True
