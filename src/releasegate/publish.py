"""Everything a finished run leaves behind.

The run directory, the baseline on DEPLOY, the history row and the GitHub step summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from releasegate.config.schema import OutputSettings
from releasegate.records.core import Decision
from releasegate.records.run import PipelineResult
from releasegate.report.write import write_reports
from releasegate.store.baseline import write_baseline
from releasegate.store.history import record_run
from releasegate.store.snapshot import baseline_from_result


@dataclass(frozen=True)
class Published:
    """Paths of what a run wrote."""

    run_dir: Path
    files: dict[str, Path]
    baseline: Path | None


def publish_run(result: PipelineResult, *, output: OutputSettings) -> Published:
    """Write reports; on DEPLOY also the run's baseline and ``output.baseline_path``."""
    run_dir = Path(output.dir) / result.run.run_id
    files = write_reports(result, run_dir)
    new_baseline = None
    if result.decision is Decision.DEPLOY:
        baseline = baseline_from_result(result)
        write_baseline(run_dir / "baseline.json", baseline)
        files["baseline.json"] = run_dir / "baseline.json"
        if output.baseline_path is not None:
            new_baseline = Path(output.baseline_path)
            write_baseline(new_baseline, baseline)
    if output.history_path is not None:
        record_run(Path(output.history_path), result, run_dir)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(files["report.md"].read_text(encoding="utf-8"))
    if output.mlflow.enabled:  # last: the run's own files are already safe on disk
        from releasegate.export_mlflow import export_run

        export_run(result, run_dir, settings=output.mlflow, output_dir=output.dir)
    return Published(run_dir=run_dir, files=files, baseline=new_baseline)
