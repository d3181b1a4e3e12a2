"""Write a run's files into its run directory (every file atomically)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from releasegate.record import PipelineResult
from releasegate.report.json_report import render_json
from releasegate.report.junit import render_junit
from releasegate.report.markdown import render_markdown
from releasegate.report.outputs import render_outputs
from releasegate.results import Decision
from releasegate.store.atomic import write_text_atomic
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result


@dataclass(frozen=True)
class WrittenReports:
    """Paths of what a run wrote."""

    run_dir: Path
    files: dict[str, Path]
    baseline: Path | None


def write_reports(result: PipelineResult, run_dir: Path) -> dict[str, Path]:
    """Render every report of ``result`` into ``run_dir``; returns name -> path."""
    renderers = {
        "report.json": render_json,
        "report.md": render_markdown,
        "junit.xml": render_junit,
        "outputs.jsonl": render_outputs,
    }
    written: dict[str, Path] = {}
    for name, render in renderers.items():
        path = run_dir / name
        write_text_atomic(path, render(result))
        written[name] = path
    return written


def write_run(
    result: PipelineResult, *, output_dir: Path, baseline_path: Path | None
) -> WrittenReports:
    """Write the run directory, the baseline on DEPLOY, and the GitHub step summary."""
    run_dir = output_dir / result.run.run_id
    files = write_reports(result, run_dir)
    new_baseline = None
    if result.decision is Decision.DEPLOY:
        baseline = baseline_from_result(result)
        write_baseline(run_dir / "baseline.json", baseline)
        files["baseline.json"] = run_dir / "baseline.json"
        if baseline_path is not None:
            write_baseline(baseline_path, baseline)
            new_baseline = baseline_path
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(files["report.md"].read_text(encoding="utf-8"))
    return WrittenReports(run_dir=run_dir, files=files, baseline=new_baseline)
