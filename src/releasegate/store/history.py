"""Run history in SQLite (embedded, no server): every run, its decision and metrics.

Two tables: ``runs`` (one row per run) and ``metrics`` (one row per run and metric).
Writes happen in one transaction, so a crash never leaves a run half-recorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import InputError
from releasegate.records.run import PipelineResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    model_ref TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    benchmark_name TEXT NOT NULL,
    benchmark_fingerprint TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    git_sha TEXT,
    run_dir TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    ci_low REAL,
    ci_high REAL,
    n INTEGER NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs(started_at);
"""


@dataclass(frozen=True)
class RunRow:
    """One recorded run."""

    run_id: str
    started_at: str
    decision: str
    model_ref: str
    model_fingerprint: str
    benchmark_name: str
    benchmark_fingerprint: str
    run_dir: str


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(path)) as conn:
            conn.executescript(_SCHEMA)
            with conn:  # one transaction
                yield conn
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: run history database is unusable: {exc}") from exc


def record_run(path: Path, result: PipelineResult, run_dir: Path) -> None:
    """Insert (or replace) one run and its metrics."""
    run = result.run
    with _connect(path) as conn:
        conn.execute("DELETE FROM metrics WHERE run_id = ?", (run.run_id,))
        conn.execute(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                run.run_id,
                run.started_at,
                result.decision.value,
                result.exit_code,
                run.model_ref,
                run.model_fingerprint,
                run.benchmark_name,
                run.benchmark_fingerprint,
                run.config_hash,
                run.git_sha,
                str(run_dir),
            ),
        )
        conn.executemany(
            "INSERT INTO metrics VALUES (?,?,?,?,?,?)",
            [
                (
                    run.run_id,
                    name,
                    mv.value,
                    mv.ci.low if mv.ci else None,
                    mv.ci.high if mv.ci else None,
                    mv.n,
                )
                for name, mv in result.metric_details.items()
            ],
        )


def list_runs(path: Path, *, limit: int = 20, benchmark: str | None = None) -> list[RunRow]:
    """The latest runs, newest first (optionally of one benchmark fingerprint or name)."""
    if not path.exists():
        return []
    query = (
        "SELECT run_id, started_at, decision, model_ref, model_fingerprint, benchmark_name, "
        "benchmark_fingerprint, run_dir FROM runs"
    )
    params: tuple[object, ...] = ()
    if benchmark is not None:
        query += " WHERE benchmark_name = ? OR benchmark_fingerprint = ?"
        params = (benchmark, benchmark)
    query += " ORDER BY started_at DESC, run_id DESC LIMIT ?"
    with _connect(path) as conn:
        rows = conn.execute(query, (*params, limit)).fetchall()
    return [RunRow(*row) for row in rows]


def metric_values(path: Path, run_ids: list[str], names: list[str]) -> dict[tuple[str, str], float]:
    """(run_id, metric) -> value for the given runs and metrics."""
    if not path.exists() or not run_ids or not names:
        return {}
    marks_r = ",".join("?" * len(run_ids))
    marks_n = ",".join("?" * len(names))
    with _connect(path) as conn:
        rows = conn.execute(
            f"SELECT run_id, name, value FROM metrics WHERE run_id IN ({marks_r}) "  # noqa: S608
            f"AND name IN ({marks_n})",
            (*run_ids, *names),
        ).fetchall()
    return {(r, n): v for r, n, v in rows}


def find_run_dir(path: Path, run_id: str) -> Path | None:
    """The directory of a recorded run, by id."""
    if not path.exists():
        return None
    with _connect(path) as conn:
        row = conn.execute("SELECT run_dir FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return Path(row[0]) if row else None
