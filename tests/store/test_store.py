"""Atomic writes and baseline files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from releasegate.errors import BaselineError
from releasegate.records.baseline import Baseline, FlatBaseline
from releasegate.store.atomic import write_text_atomic
from releasegate.store.baseline import load_baseline


def test_atomic_write_leaves_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "baseline.json"
    target.write_text("old", encoding="utf-8")

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


def test_atomic_write_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    write_text_atomic(target, "x")
    assert target.read_text(encoding="utf-8") == "x"


def test_flat_seed_baseline_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"accuracy": 0.87, "json_valid_rate": 1}), encoding="utf-8")
    baseline = load_baseline(path)
    assert isinstance(baseline, FlatBaseline)
    assert baseline.metrics == {"accuracy": 0.87, "json_valid_rate": 1.0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1]", "must be a JSON object"),
        ("{", "invalid JSON"),
        ('{"accuracy": "high"}', "accuracy: not a releasegate baseline"),
        ("{}", "no metrics"),
        ('{"kind": "releasegate-baseline", "schema_version": 99}', "schema_version 99"),
    ],
)
def test_bad_baselines_are_named_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)


def test_missing_baseline(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="cannot read baseline"):
        load_baseline(tmp_path / "none.json")


def test_full_baseline_loads(tmp_path: Path) -> None:
    baseline = Baseline(
        created_at="t",
        run_id="r",
        benchmark_name="b",
        benchmark_fingerprint="sha256:x",
        n_examples=0,
        model_ref="m",
        model_fingerprint="f",
        config_hash="c",
        seed=1,
        metrics={},
        examples=[],
    )
    path = tmp_path / "b.json"
    path.write_text(baseline.model_dump_json(), encoding="utf-8")
    assert load_baseline(path) == baseline


def test_atomic_write_respects_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "r.json"
        write_text_atomic(target, "{}")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644
