"""SQLite judge cache: a verdict per (judge model + full prompt + config hash).

Only parsed, valid verdicts are stored (never errors), with the usage figures of
the call that produced them; a hit costs $0. The API key is not part of the key
and never stored: a reply that echoes it (or any credential) is redacted first. A
corrupt cache file is moved aside and rebuilt (``store.disposable``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from releasegate.input_files import visible_surrogates
from releasegate.redact import known_secrets, redact_text
from releasegate.store.disposable import open_cache

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judge_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    reply TEXT NOT NULL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def cache_key(
    *, provider: str, model: str, base_url: str | None, config_hash: str, system: str, user: str
) -> str:
    """sha256 over everything that determines the judge's reply."""
    blob = json.dumps(
        [provider, model, base_url or "", config_hash, system, user], ensure_ascii=False
    ).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    """A stored judge reply."""

    reply: str
    tokens_in: int | None
    tokens_out: int | None


class JudgeCache:
    """A small synchronous SQLite store, used from the event-loop thread only."""

    def __init__(self, path: Path) -> None:
        self._conn = open_cache(path, _SCHEMA, what="judge cache")
        self._secrets = known_secrets()

    def get(self, key: str) -> CachedReply | None:
        """The stored reply for ``key``, if any."""
        row = self._conn.execute(
            "SELECT reply, tokens_in, tokens_out FROM judge_cache WHERE key = ?", (key,)
        ).fetchone()
        return CachedReply(row[0], row[1], row[2]) if row else None

    def put(self, key: str, *, model: str, reply: CachedReply) -> None:
        """Store a valid verdict (idempotent), credentials redacted."""
        text = visible_surrogates(redact_text(reply.reply, self._secrets))
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO judge_cache (key, model, reply, tokens_in, tokens_out) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, model, text, reply.tokens_in, reply.tokens_out),
            )

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
