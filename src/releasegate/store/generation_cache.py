"""SQLite cache of model outputs.

A re-run of an unchanged model costs nothing, and an interrupted run resumes where
it stopped.

Only backends whose outputs are a function of fingerprinted content declare
themselves cacheable (``ModelInfo.cacheable``: the HF backend, whose fingerprint
hashes the weights, adapter, config and tokenizer files). An endpoint is not: the
model behind a name can change. Only successful outputs are stored, never errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.redact import holds_credential
from releasegate.store.disposable import open_cache

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    finish_reason TEXT,
    latency_s REAL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def generation_key(info: ModelInfo, prompt: Prompt, params: GenerationParams) -> str:
    """sha256 over everything that determines an output (not the example id).

    The draw index (``params.draw``) is part of the key from draw 1 on, so the k
    draws of ``generation.repeats`` are k entries; draw 0 keeps the key it always had.
    """
    raw_input: object = (
        prompt.input
        if isinstance(prompt.input, str)
        else [[m.role, m.content] for m in prompt.input]
    )
    blob = json.dumps(
        [
            info.backend,
            info.fingerprint,
            sorted(info.details.items()),
            raw_input,
            prompt.system_prompt,
            params.max_new_tokens,
            params.temperature,
            list(params.stop),
            params.seed,
            # the functions an example offers (only where it has any: old keys stay valid)
            *([[[f.name, f.parameters] for f in prompt.tools]] if prompt.tools else []),
            # draws after the first of generation.repeats (draw 0 keeps the old key)
            *([["draw", params.draw]] if params.draw else []),
        ],
        ensure_ascii=False,
    ).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


class GenerationCache:
    """Outputs by key; every ``put`` commits, so progress survives a crash."""

    def __init__(self, path: Path, *, secrets: Iterable[str] = ()) -> None:
        # A corrupt cache is moved aside and rebuilt: caches only ever save time.
        self._conn = open_cache(path, _SCHEMA, what="generation cache")
        self._secrets = tuple(secrets)
        """Credential values: an output that echoes one (in any form) is never stored."""

    def get(self, key: str, *, sample_id: str) -> Generation | None:
        """The stored output for ``key``, re-labelled for ``sample_id``."""
        row = self._conn.execute(
            "SELECT text, finish_reason, latency_s, tokens_in, tokens_out "
            "FROM generations WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return Generation(
            sample_id=sample_id,
            text=row[0],
            finish_reason=row[1],
            latency_s=row[2],
            tokens_in=row[3],
            tokens_out=row[4],
            cached=True,
        )

    def put_many(self, rows: list[tuple[str, Generation]]) -> None:
        """Store successful outputs in one transaction.

        Errors are skipped, and so is any output that holds a credential (a known
        secret in any encoding, an ``Authorization`` echo, URL userinfo): the cache is
        a file on disk like any artifact, and such an output is simply generated again.
        """
        values = [
            (key, g.text, g.finish_reason, g.latency_s, g.tokens_in, g.tokens_out)
            for key, g in rows
            if g.text is not None
            and g.error is None
            and not holds_credential(g.text, self._secrets)
        ]
        with self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO generations "
                "(key, text, finish_reason, latency_s, tokens_in, tokens_out) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()
