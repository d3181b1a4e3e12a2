"""The schema verdict cache: the same verdicts as validating, and nothing kept that must not be."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema.validators import validator_for

from releasegate.scoring.schema import OutputSchema, load_output_schema
from releasegate.store import disposable
from releasegate.store.disposable import open_cache
from releasegate.store.schema_cache import SchemaVerdictCache

EXAMPLE_SCHEMA = Path(__file__).resolve().parents[2] / "examples" / "task-api" / "schema.json"


def _instances(seed: int, n: int) -> list[object]:
    rng = random.Random(seed)
    values: list[object] = [
        1,
        0,
        -3,
        2.5,
        "x",
        "",
        "2026-01-02",
        "soon",
        True,
        None,
        [],
        ["a", "a"],
    ]
    keys = ["action", "task_id", "title", "due_date", "priority", "tags", "filters", "reason"]
    actions = ["create_task", "update_task", "list_tasks", "refuse", "clarify", "fly", 7]
    out: list[object] = []
    for _ in range(n):
        obj: dict[str, object] = {"action": rng.choice(actions)} if rng.random() < 0.9 else {}
        for key in rng.sample(keys, rng.randint(0, 4)):
            obj[key] = rng.choice(values) if key != "filters" else {"status": rng.choice(values)}
        out.append(obj)
    return out


def _fresh_error(schema: dict[str, object], instance: object) -> str | None:
    error = next(iter(validator_for(schema)(schema).iter_errors(instance)), None)
    if error is None:
        return None
    return (f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}")[:300]


def test_cached_verdicts_are_the_verdicts_validation_gives(tmp_path: Path) -> None:
    path = tmp_path / "schema_cache.sqlite"
    schema = json.loads(EXAMPLE_SCHEMA.read_text(encoding="utf-8"))
    instances = _instances(1, 400)
    first = SchemaVerdictCache(path)
    made = [
        load_output_schema(str(EXAMPLE_SCHEMA), verdicts=first).first_error(i) for i in instances
    ]
    first.save()
    first.close()
    assert made == [_fresh_error(schema, i) for i in instances]
    assert 0 < sum(v is None for v in made) < len(made)  # both kinds were made
    again = SchemaVerdictCache(path)
    rows = again._conn.execute("SELECT count(*) FROM verdicts").fetchone()[0]  # type: ignore[union-attr]
    assert rows == len({json.dumps(i) for i in instances}) + 1  # + the schema's own check
    reread = load_output_schema(str(EXAMPLE_SCHEMA), verdicts=again)
    assert [reread.first_error(i) for i in instances] == made
    again.close()


def test_a_fully_cached_scoring_never_imports_jsonschema(tmp_path: Path) -> None:
    path = tmp_path / "schema_cache.sqlite"
    instances = _instances(2, 50)
    cache = SchemaVerdictCache(path)
    schema = load_output_schema(str(EXAMPLE_SCHEMA), verdicts=cache)
    expected = [schema.first_error(i) for i in instances]
    cache.save()
    cache.close()
    script = (
        "import json, sys\n"
        "from releasegate.scoring.schema import load_output_schema\n"
        "from releasegate.store.schema_cache import SchemaVerdictCache\n"
        f"cache = SchemaVerdictCache(__import__('pathlib').Path({str(path)!r}))\n"
        f"schema = load_output_schema({str(EXAMPLE_SCHEMA)!r}, verdicts=cache)\n"
        f"print(json.dumps([schema.first_error(i) for i in {instances!r}]))\n"
        "print('jsonschema' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert json.loads(out[0]) == expected
    assert out[1] == "False"


def test_a_changed_schema_or_key_order_is_a_different_verdict(tmp_path: Path) -> None:
    cache = SchemaVerdictCache(tmp_path / "c.sqlite")
    one = OutputSchema({"type": "object", "required": ["a", "b"]}, source=None, verdicts=cache)
    two = OutputSchema({"type": "object", "required": ["b", "a"]}, source=None, verdicts=cache)
    assert one.first_error({}) == "(root): 'a' is a required property"
    assert two.first_error({}) == "(root): 'b' is a required property"
    # patternProperties walks the output's keys in order: which error comes first differs
    pattern = OutputSchema(
        {"patternProperties": {"^x": {"type": "string"}}}, source=None, verdicts=cache
    )
    assert pattern.first_error({"x1": 1, "x2": 2}) == "x1: 1 is not of type 'string'"
    assert pattern.first_error({"x2": 2, "x1": 1}) == "x2: 2 is not of type 'string'"
    cache.close()


def test_verdicts_quoting_a_secret_or_a_lone_surrogate_are_kept_by_the_run_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.sqlite"
    secret = "sk-schema-cache-0123456789"
    cache = SchemaVerdictCache(path, secrets=[secret])
    schema = OutputSchema({"properties": {"a": {"type": "integer"}}}, source=None, verdicts=cache)
    quoting = schema.first_error({"a": secret})
    plain = schema.first_error({"a": "x"})
    assert quoting is not None and secret in quoting
    assert schema.first_error({"a": secret}) == quoting  # the run still remembers it
    cache.put("k-surrogate", "bad \ud800")  # SQLite cannot store it as UTF-8
    assert cache.get("k-surrogate") == (True, "bad \ud800")
    cache.save()
    cache.close()
    stored = [row[0] for row in sqlite3.connect(path).execute("SELECT verdict FROM verdicts")]
    assert stored == [plain]
    assert secret.encode() not in path.read_bytes()


def test_a_cache_that_cannot_be_written_costs_only_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite"
    cache = SchemaVerdictCache(path)
    OutputSchema({"type": "object"}, source=None, verdicts=cache).first_error([])

    def full(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("releasegate.store.schema_cache.open_cache", full)
    with caplog.at_level(logging.WARNING):
        cache.save()
    cache.close()
    assert "1 verdicts not stored (database or disk is full)" in caplog.text
    assert list(tmp_path.iterdir()) == []  # nothing half-made is left


def test_a_locked_cache_is_an_error_and_is_never_moved_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.sqlite"
    open_cache(path, "CREATE TABLE IF NOT EXISTS t (x)", what="test cache").close()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(disposable, "BUSY_TIMEOUT_S", 0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        open_cache(path, "CREATE TABLE IF NOT EXISTS t (x)", what="test cache")
    holder.rollback()
    holder.close()
    assert [p.name for p in tmp_path.iterdir()] == ["c.sqlite"]


def test_a_damaged_verdict_is_validated_again(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    cache = SchemaVerdictCache(path)
    schema = OutputSchema({"properties": {"a": {"type": "integer"}}}, source=None, verdicts=cache)
    assert schema.first_error({"a": "x"}) is not None
    cache.save()
    cache.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE verdicts SET verdict = x'07'")  # a blob: no text, no NULL
    again = SchemaVerdictCache(path)
    reread = OutputSchema({"properties": {"a": {"type": "integer"}}}, source=None, verdicts=again)
    assert reread.first_error({"a": "x"}) == "a: 'x' is not of type 'integer'"
    assert reread.first_error({"a": 1}) is None
    again.close()
