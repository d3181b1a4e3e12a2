"""Run history in SQLite (embedded, no server): every run, its decision and metrics.

Three tables: ``runs`` (one row per run), ``metrics`` (one row per run and metric)
and ``example_outcomes`` (one row per run and example: its headline outcome, keyed
by model and benchmark fingerprint, from ``run`` and from ``calibrate``). Writes
happen in one transaction, so a crash never leaves a run half-recorded.

Schema versions (``PRAGMA user_version``): 0 = runs and metrics only (databases
written before per-example outcomes were kept; they open unchanged and gain the
empty table), 1 = with ``example_outcomes``. Opening a database migrates it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import InputError, OutputError
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
CREATE TABLE IF NOT EXISTS example_outcomes (
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    benchmark_fingerprint TEXT NOT NULL,
    example_id TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    outcome INTEGER,
    PRIMARY KEY (run_id, example_id)
);
CREATE INDEX IF NOT EXISTS outcomes_by_item
    ON example_outcomes(benchmark_fingerprint, model_fingerprint, example_id);
"""
SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of a database this releasegate wrote or migrated."""
OUTCOME_METRIC = "accuracy"
"""The per-example outcome kept in the history (the headline metric)."""


def _ensure_schema(conn: sqlite3.Connection) -> None:
    """Create missing tables and migrate an older database to ``SCHEMA_VERSION``.

    Version 0 -> 1 only adds ``example_outcomes`` (the old rows stay as they are).
    Nothing is written to a database that is already current.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"history schema version {version} is newer than this releasegate's "
            f"({SCHEMA_VERSION}); upgrade releasegate"
        )
    conn.executescript(_SCHEMA)
    if version < SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


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
            _ensure_schema(conn)
            with conn:  # one transaction
                yield conn
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: run history database is unusable: {exc}") from exc


_QUICK_CHECK = (
    "PRAGMA quick_check(runs)" if sqlite3.sqlite_version_info >= (3, 33) else "PRAGMA quick_check"
)
"""SQLite 3.33 added the one-table form."""


def check_history(path: Path) -> None:
    """Open an existing database, verify it and take a write lock (released at once).

    Called before any model runs, so that a corrupt or read-only history fails a run
    while it is still cheap. The check reads the schema and the ``runs`` table: a check
    of the whole file grows with the history (~45 ms at 100 runs, 25 MB, mostly
    per-example outcomes), and SQLite reports a damaged page of the other tables when
    publishing writes them, which fails the publish with nothing published.

    Raises:
        OutputError: the database is corrupt, locked or read-only.
    """
    try:
        with closing(sqlite3.connect(path)) as conn:
            _ensure_schema(conn)
            problem = conn.execute(_QUICK_CHECK).fetchone()[0]
            if problem != "ok":
                raise OutputError(f"{path}: run history database is corrupt: {problem}")
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
    except sqlite3.Error as exc:
        raise OutputError(f"{path}: run history database is unusable: {exc}") from exc


@contextmanager
def pending_run(path: Path, result: PipelineResult, run_dir: Path) -> Iterator[PendingRun]:
    """Write one run's rows inside a transaction that the caller commits.

    Leaving the block without ``commit()`` (or with an exception) rolls the rows back.

    Raises:
        OutputError: the database cannot be opened or written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the run history: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise OutputError(f"{path}: run history database is unusable: {exc}") from exc
    pending = PendingRun(conn, path)
    try:
        try:
            _ensure_schema(conn)
            conn.execute("BEGIN IMMEDIATE")
            _insert(conn, result, run_dir)
        except sqlite3.Error as exc:
            raise OutputError(f"{path}: cannot record the run in the history: {exc}") from exc
        yield pending
    finally:
        if not pending.committed:
            with suppress(sqlite3.Error):
                conn.rollback()
        conn.close()


class PendingRun:
    """A history row written but not yet committed."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self.committed = False

    def commit(self) -> None:
        """Make the row durable (SQLite syncs on commit).

        Raises:
            OutputError: the commit failed; the row is rolled back.
        """
        try:
            self._conn.commit()
        except sqlite3.Error as exc:
            raise OutputError(f"{self._path}: cannot record the run in the history: {exc}") from exc
        self.committed = True


def record_run(path: Path, result: PipelineResult, run_dir: Path) -> None:
    """Insert (or replace) one run and its metrics."""
    with _connect(path) as conn:
        _insert(conn, result, run_dir)


def _insert(conn: sqlite3.Connection, result: PipelineResult, run_dir: Path) -> None:
    run = result.run
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
    _insert_outcomes(conn, result, source="run")


def _insert_outcomes(conn: sqlite3.Connection, result: PipelineResult, *, source: str) -> None:
    run = result.run
    conn.execute("DELETE FROM example_outcomes WHERE run_id = ?", (run.run_id,))
    conn.executemany(
        "INSERT INTO example_outcomes VALUES (?,?,?,?,?,?,?)",
        [
            (
                run.run_id,
                source,
                run.model_fingerprint,
                run.benchmark_fingerprint,
                e.id,
                e.input_hash,
                None
                if e.outcomes.get(OUTCOME_METRIC) is None
                else int(bool(e.outcomes[OUTCOME_METRIC])),
            )
            for e in result.examples
        ],
    )


def record_outcomes(path: Path, result: PipelineResult, *, source: str) -> None:
    """Keep one run's per-example outcomes (``source``: ``run`` or ``calibrate``).

    Raises:
        InputError: the database is unusable.
    """
    with _connect(path) as conn:
        _insert_outcomes(conn, result, source=source)


@dataclass(frozen=True)
class FlakyItem:
    """An example whose outcome changed between runs of the same model."""

    example_id: str
    model_fingerprint: str
    runs: int
    """Runs of that model with an outcome for it."""
    right: int
    """Of which right."""

    def describe(self) -> str:
        """One line: right in k of n runs of model <fingerprint>."""
        return f"right in {self.right} of {self.runs} runs of model {self.model_fingerprint[:19]}"


def flaky_items(path: Path, *, benchmark_fingerprint: str) -> dict[str, FlakyItem]:
    """Examples of this benchmark whose outcome changed between runs of one model fingerprint.

    Runs and A/A calibration runs count alike; an example whose input changed is a
    different item (grouped by input hash too). Returns id -> the first model it flipped for.
    """
    if not path.exists():
        return {}
    query = (
        "SELECT example_id, model_fingerprint, COUNT(*), SUM(outcome) FROM example_outcomes "
        "WHERE benchmark_fingerprint = ? AND outcome IS NOT NULL "
        "GROUP BY model_fingerprint, example_id, input_hash "
        "HAVING MIN(outcome) != MAX(outcome) ORDER BY example_id, model_fingerprint"
    )
    with _connect(path) as conn:
        rows = conn.execute(query, (benchmark_fingerprint,)).fetchall()
    found: dict[str, FlakyItem] = {}
    for example_id, model, runs, right in rows:
        found.setdefault(example_id, FlakyItem(example_id, model, int(runs), int(right)))
    return found


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
