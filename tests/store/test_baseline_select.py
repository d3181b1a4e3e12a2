"""``--baseline auto``: the last DEPLOY of this benchmark, optionally on one git branch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.errors import BaselineError
from releasegate.pipeline import EvaluationPipeline
from releasegate.publish import publish_run
from releasegate.records.run import PipelineResult
from releasegate.store.baseline_select import resolve_baseline, select_baseline


def _publish(result: PipelineResult, out: Path, *, stamp: str, sha: str | None) -> str:
    run = result.run.model_copy(
        update={"run_id": f"{stamp}-x", "started_at": stamp, "git_sha": sha}
    )
    published = publish_run(
        result.model_copy(update={"run": run}),
        output=parse_config(f"output: {{dir: '{out}', baseline_path: null}}").output,
    )
    return str(published.run_dir)


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=env
    ).stdout.strip()


@pytest.fixture
def runs(
    tmp_path: Path, bench_file: Path, good_replay: Path, bad_replay: Path
) -> dict[str, object]:
    config = parse_config(SEED_CONFIG)
    good = EvaluationPipeline(config).run(
        model_path=str(good_replay), benchmark_path=str(bench_file)
    )
    bad = EvaluationPipeline(config).run(model_path=str(bad_replay), benchmark_path=str(bench_file))
    other_bench = write_jsonl(tmp_path / "other.jsonl", example_rows(10))
    other_model = write_jsonl(tmp_path / "other-m.jsonl", replay_rows(example_rows(10)))
    other = EvaluationPipeline(config).run(
        model_path=str(other_model), benchmark_path=str(other_bench)
    )
    assert (good.decision.value, bad.decision.value, other.decision.value) == (
        "DEPLOY",
        "BLOCK",
        "DEPLOY",
    )
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    main_sha = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "-b", "feature")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    feature_sha = _git(repo, "rev-parse", "HEAD")
    out = tmp_path / "reports"
    dirs = {
        "main": _publish(good, out, stamp="2026-01-01T00:00:00+00:00", sha=main_sha),
        "feature": _publish(good, out, stamp="2026-01-02T00:00:00+00:00", sha=feature_sha),
        "block": _publish(bad, out, stamp="2026-01-03T00:00:00+00:00", sha=feature_sha),
        "other": _publish(other, out, stamp="2026-01-04T00:00:00+00:00", sha=main_sha),
    }
    return {
        "db": out / "history.sqlite",
        "fp": good.run.benchmark_fingerprint,
        "repo": repo,
        "dirs": dirs,
    }


def test_auto_picks_the_last_deploy_of_this_benchmark(runs: dict[str, object]) -> None:
    db, fp = runs["db"], str(runs["fp"])
    assert isinstance(db, Path)
    chosen = select_baseline(db, benchmark_fingerprint=fp)
    assert (
        chosen.run_id == "2026-01-02T00:00:00+00:00-x"
    )  # not the later BLOCK, not the other benchmark
    assert chosen.path == Path(runs["dirs"]["feature"]) / "baseline.json"  # type: ignore[index]


def test_auto_on_a_branch_and_when_nothing_matches(runs: dict[str, object], tmp_path: Path) -> None:
    db, fp, repo = runs["db"], str(runs["fp"]), runs["repo"]
    assert isinstance(db, Path) and isinstance(repo, Path)
    on_main = select_baseline(db, benchmark_fingerprint=fp, branch="main", cwd=repo)
    assert on_main.run_id.startswith("2026-01-01")
    with pytest.raises(BaselineError, match="git does not know it"):
        select_baseline(db, benchmark_fingerprint=fp, branch="nope", cwd=repo)
    with pytest.raises(BaselineError, match="no DEPLOY run of benchmark sha256:0000"):
        select_baseline(db, benchmark_fingerprint="sha256:0000", cwd=repo)
    with pytest.raises(BaselineError, match="no run history"):
        select_baseline(tmp_path / "none.sqlite", benchmark_fingerprint=fp)
    (Path(runs["dirs"]["feature"]) / "baseline.json").unlink()  # type: ignore[index]
    assert select_baseline(db, benchmark_fingerprint=fp).run_id.startswith("2026-01-01")
    with pytest.raises(BaselineError, match="only applies with --baseline auto"):
        resolve_baseline("b.json", benchmark_path="x", history_db=str(db), branch="main")


def test_cli_run_with_baseline_auto(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    def cli(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "releasegate",
                "run",
                "--model",
                str(good_replay),
                "--benchmark",
                str(bench_file),
                "--config",
                str(seed_config),
                "--output-dir",
                "reports",
                *extra,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )

    first = cli("--baseline", "auto")
    assert first.returncode == 2 and "no run history" in first.stderr
    assert cli().returncode == 0
    second = cli("--baseline", "auto")
    assert second.returncode == 0, second.stderr
    assert "baseline auto: run " in second.stderr
    compared = [
        json.loads(p.read_text(encoding="utf-8"))["run"]["baseline_path"]
        for p in (tmp_path / "reports").glob("*/report.json")
    ]
    assert (
        len(compared) == 2
        and sum(b is not None and b.endswith("baseline.json") for b in compared) == 1
    )
