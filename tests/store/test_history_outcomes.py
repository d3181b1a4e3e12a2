"""Per-example outcomes in the run history: the schema migration and flaky marking (real SQLite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config.load import load_config
from releasegate.errors import InputError
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.store.history import (
    SCHEMA_VERSION,
    flaky_items,
    list_runs,
    metric_values,
    record_outcomes,
    record_run,
)

# The schema as releasegate wrote it before per-example outcomes were kept.
OLD_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, decision TEXT NOT NULL,
    exit_code INTEGER NOT NULL, model_ref TEXT NOT NULL, model_fingerprint TEXT NOT NULL,
    benchmark_name TEXT NOT NULL, benchmark_fingerprint TEXT NOT NULL,
    config_hash TEXT NOT NULL, git_sha TEXT, run_dir TEXT NOT NULL
);
CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, name TEXT NOT NULL,
    value REAL NOT NULL, ci_low REAL, ci_high REAL, n INTEGER NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE INDEX runs_by_time ON runs(started_at);
INSERT INTO runs VALUES ('20250101T000000-old', '2025-01-01T00:00:00+00:00', 'DEPLOY', 0,
    'old-model', 'sha256:old', 'benchmark', 'sha256:bench', 'cfg', NULL, '/tmp/old');
INSERT INTO metrics VALUES ('20250101T000000-old', 'accuracy', 0.9, 0.8, 0.95, 40);
"""


@pytest.fixture
def result(tmp_path: Path) -> PipelineResult:
    rows = example_rows(20)
    bench = write_jsonl(tmp_path / "bench.jsonl", rows)
    replay = write_jsonl(tmp_path / "r.jsonl", replay_rows(rows, wrong=[3, 7]))
    config = tmp_path / "cfg.yaml"
    config.write_text(SEED_CONFIG, "utf-8")
    return EvaluationPipeline(load_config(config)).run(
        model_path=str(replay), benchmark_path=str(bench)
    )


def _again(result: PipelineResult, suffix: str, wrong: set[str]) -> PipelineResult:
    """The same model fingerprint, another run, with ``wrong`` answered wrongly."""
    examples = [
        e.model_copy(update={"outcomes": {**e.outcomes, "accuracy": e.id not in wrong}})
        for e in result.examples
    ]
    run = result.run.model_copy(update={"run_id": result.run.run_id + suffix})
    return result.model_copy(update={"examples": examples, "run": run})


def test_an_old_history_is_migrated_and_keeps_its_runs(
    tmp_path: Path, result: PipelineResult
) -> None:
    db = tmp_path / "history.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_SCHEMA)
    assert [r.run_id for r in list_runs(db)] == ["20250101T000000-old"]  # readable as it was
    record_run(db, result, tmp_path / "run")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = conn.execute(
            "SELECT source, example_id, outcome FROM example_outcomes ORDER BY example_id"
        ).fetchall()
    assert len(rows) == 20 and {r[0] for r in rows} == {"run"}
    assert [r[1] for r in rows if r[2] == 0] == ["ex-003", "ex-007"]
    assert {r.run_id for r in list_runs(db)} == {"20250101T000000-old", result.run.run_id}
    assert metric_values(db, ["20250101T000000-old"], ["accuracy"]) == {
        ("20250101T000000-old", "accuracy"): 0.9
    }


def test_a_history_written_by_a_newer_releasegate_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InputError, match="newer than this releasegate"):
        list_runs(db)


def test_items_that_changed_between_runs_of_one_model_are_flaky(
    tmp_path: Path, result: PipelineResult
) -> None:
    db = tmp_path / "history.sqlite"
    fingerprint = result.run.benchmark_fingerprint
    record_run(db, result, tmp_path / "run")
    assert flaky_items(db, benchmark_fingerprint=fingerprint) == {}  # one run: nothing flips
    record_outcomes(db, _again(result, "-b", {"ex-003", "ex-005"}), source="calibrate")
    found = flaky_items(db, benchmark_fingerprint=fingerprint)
    assert set(found) == {"ex-005", "ex-007"}  # ex-003 was wrong both times
    assert found["ex-005"].runs == 2 and found["ex-005"].right == 1
    # Another model's different outcomes are not flakiness: it is another model.
    other = _again(result, "-c", set())
    other = other.model_copy(
        update={"run": other.run.model_copy(update={"model_fingerprint": "sha256:other"})}
    )
    record_outcomes(db, other, source="run")
    assert set(flaky_items(db, benchmark_fingerprint=fingerprint)) == {"ex-005", "ex-007"}
    assert flaky_items(db, benchmark_fingerprint="sha256:another-benchmark") == {}


def test_re_recording_a_run_replaces_its_outcomes(tmp_path: Path, result: PipelineResult) -> None:
    db = tmp_path / "history.sqlite"
    record_run(db, result, tmp_path / "run")
    record_run(db, result, tmp_path / "run")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM example_outcomes").fetchone()[0] == 20
