"""Write a run's files into its run directory (every file atomically)."""

from __future__ import annotations

from pathlib import Path

from releasegate.records.run import PipelineResult
from releasegate.report.html import render_html
from releasegate.report.json_report import render_json
from releasegate.report.junit import render_junit
from releasegate.report.markdown import render_markdown
from releasegate.report.outputs import render_outputs
from releasegate.store.atomic import write_text_atomic


def write_reports(result: PipelineResult, run_dir: Path) -> dict[str, Path]:
    """Render every report of ``result`` into ``run_dir``; returns name -> path."""
    renderers = {
        "report.json": render_json,
        "report.md": render_markdown,
        "report.html": render_html,
        "junit.xml": render_junit,
        "outputs.jsonl": render_outputs,
    }
    written: dict[str, Path] = {}
    for name, render in renderers.items():
        path = run_dir / name
        write_text_atomic(path, render(result))
        written[name] = path
    return written
