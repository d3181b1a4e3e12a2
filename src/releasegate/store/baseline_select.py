"""``--baseline auto``: the last DEPLOY of this benchmark in the run history.

Reads the history database (read-only) that every run records into. A branch
restricts the choice to runs whose recorded git commit is on that branch (``git
rev-list BRANCH``), so a feature branch never silently compares against another
feature branch's model.
"""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from releasegate.errors import BaselineError

AUTO = "auto"
_MAX_COMMITS = 5000


@dataclass(frozen=True)
class SelectedBaseline:
    """The baseline ``auto`` chose, and from which run."""

    path: Path
    run_id: str
    started_at: str
    model_ref: str
    git_sha: str | None


def resolve_baseline(
    baseline: str | None,
    *,
    benchmark_path: str,
    history_db: str | None,
    branch: str | None = None,
) -> tuple[str | None, SelectedBaseline | None]:
    """The baseline path to use: as given, or chosen from the history for ``auto``.

    Raises:
        BaselineError: ``auto`` with the history turned off or nothing to choose;
            a branch without ``auto``.
    """
    if baseline != AUTO:
        if branch is not None:
            raise BaselineError("--baseline-branch only applies with --baseline auto")
        return baseline, None
    if history_db is None:
        raise BaselineError("--baseline auto needs the run history (output.history is off)")
    from releasegate.benchmark.load import load_benchmark

    fingerprint = load_benchmark(benchmark_path).fingerprint
    chosen = select_baseline(Path(history_db), benchmark_fingerprint=fingerprint, branch=branch)
    return str(chosen.path), chosen


def select_baseline(
    db: Path, *, benchmark_fingerprint: str, branch: str | None = None, cwd: Path | None = None
) -> SelectedBaseline:
    """The newest DEPLOY run of this benchmark whose baseline file still exists.

    Args:
        db: the run history database (``output.history_db``).
        benchmark_fingerprint: the fingerprint of the benchmark about to run.
        branch: only runs whose git commit is on this branch.
        cwd: the git checkout to ask about ``branch`` (default: the current directory).

    Raises:
        BaselineError: no history, no matching DEPLOY, or a branch git does not know.
    """
    if not db.is_file():
        raise BaselineError(
            f"--baseline auto: no run history at {db}; run once without --baseline (or "
            "restore the history from the last run's artifact)"
        )
    shas = _branch_commits(branch, cwd) if branch else None
    rows = _deploys(db, benchmark_fingerprint)
    on_branch = [r for r in rows if shas is None or (r[4] is not None and r[4] in shas)]
    for run_id, started_at, model_ref, run_dir, sha in on_branch:
        path = _baseline_file(db, run_dir)
        if path.is_file():
            return SelectedBaseline(path, run_id, started_at, model_ref, sha)
    where = f" on branch {branch!r}" if branch else ""
    missing = len(on_branch)
    detail = (
        f"; {missing} DEPLOY run(s) found but their baseline.json files are gone" if missing else ""
    )
    raise BaselineError(
        f"--baseline auto: {db} has no DEPLOY run of benchmark {benchmark_fingerprint[:19]}"
        f"{where}{detail}; run once without --baseline to create one"
    )


def _deploys(db: Path, fingerprint: str) -> list[tuple[str, str, str, str, str | None]]:
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            rows = conn.execute(
                "SELECT run_id, started_at, model_ref, run_dir, git_sha FROM runs "
                "WHERE decision = 'DEPLOY' AND benchmark_fingerprint = ? "
                "ORDER BY started_at DESC, run_id DESC",
                (fingerprint,),
            ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise BaselineError(f"--baseline auto: {db}: run history is unusable: {exc}") from exc
    return [
        (str(a), str(b), str(c), str(d), None if e is None else str(e)) for a, b, c, d, e in rows
    ]


def _baseline_file(db: Path, run_dir: str) -> Path:
    """The run's ``baseline.json``; a relative run dir is tried as recorded, then by the db."""
    recorded = Path(run_dir) / "baseline.json"
    if recorded.is_absolute() or recorded.is_file():
        return recorded
    return db.parent / Path(run_dir).name / "baseline.json"


def _branch_commits(branch: str, cwd: Path | None) -> set[str]:
    if branch.startswith("-") or not branch.strip():
        raise BaselineError(f"--baseline-branch {branch!r}: not a branch name")
    try:
        done = subprocess.run(
            ["git", "rev-list", f"--max-count={_MAX_COMMITS}", branch, "--"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd=cwd,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BaselineError(f"--baseline-branch {branch}: cannot run git: {exc}") from exc
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["unknown error"])[0]
        raise BaselineError(f"--baseline-branch {branch}: git does not know it ({first})")
    return set(done.stdout.split())
