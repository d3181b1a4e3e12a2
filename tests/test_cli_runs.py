"""history, compare and baseline promote through the real CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from helpers import replay_rows, run_cli, write_jsonl


def _two_runs(tmp: Path, bench: Path, config: Path, rows: list[dict[str, object]]) -> list[Path]:
    good = write_jsonl(tmp / "good.jsonl", replay_rows(rows))
    worse = write_jsonl(tmp / "worse.jsonl", replay_rows(rows, wrong=range(0, 40, 3)))
    for model in (good, worse):
        run_cli("run", "--model", model, "--benchmark", bench, "--config", config, cwd=tmp)
    return sorted((tmp / "reports").glob("2*"))


def test_history_records_every_run_and_compare_uses_the_statistics(
    tmp_path: Path, bench_file: Path, seed_config: Path, bench_rows: list[dict[str, object]]
) -> None:
    first, second = _two_runs(tmp_path, bench_file, seed_config, bench_rows)
    with sqlite3.connect(tmp_path / "reports" / "history.sqlite") as conn:
        decisions = [r[0] for r in conn.execute("SELECT decision FROM runs ORDER BY started_at")]
    assert sorted(decisions) == ["BLOCK", "DEPLOY"]

    shown = run_cli("history", "--metric", "accuracy", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "DEPLOY" in shown.stdout and "BLOCK" in shown.stdout and "accuracy" in shown.stdout

    runs = {p: (p / "report.json").read_text() for p in (first, second)}
    deploy = next(p for p, text in runs.items() if '"decision": "DEPLOY"' in text)
    block = next(p for p in runs if p != deploy)
    compared = run_cli("compare", deploy, block, cwd=tmp_path)
    assert compared.returncode == 1, compared.stdout + compared.stderr
    assert "regressed: accuracy" in compared.stdout
    assert "tango" in compared.stdout  # the paired test that decided
    same = run_cli("compare", deploy, deploy.name, cwd=tmp_path)
    assert same.returncode == 0, same.stderr


def test_promote_writes_the_baseline_and_refuses_a_block_without_force(
    tmp_path: Path, bench_file: Path, seed_config: Path, bench_rows: list[dict[str, object]]
) -> None:
    runs = _two_runs(tmp_path, bench_file, seed_config, bench_rows)
    block = next(p for p in runs if '"decision": "BLOCK"' in (p / "report.json").read_text())
    target = tmp_path / "promoted.json"
    refused = run_cli("baseline", "promote", block, "--to", target, cwd=tmp_path)
    assert refused.returncode == 2 and "pass --force" in refused.stderr
    assert not target.exists()
    forced = run_cli("baseline", "promote", block, "--to", target, "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert '"kind": "releasegate-baseline"' in target.read_text()


def test_unknown_run_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli("compare", "nope-a", "nope-b", cwd=tmp_path)
    assert done.returncode == 2
    assert "no such run directory, report.json, or run id" in done.stderr
