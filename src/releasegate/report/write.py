"""Write a run's files into its run directory (every file atomically).

``WRITERS`` maps each file name to its renderer, a pure function of the run record;
a plugin adds a file through the ``releasegate.report_writers`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from releasegate.records.run import PipelineResult
from releasegate.registry import Registry
from releasegate.store.atomic import write_text_atomic

Renderer = Callable[[PipelineResult], str]

WRITERS: Registry[Renderer] = Registry("report writer", group="releasegate.report_writers")
WRITERS.add("report.json", "releasegate.report.json_report:render_json")
WRITERS.add("report.md", "releasegate.report.markdown:render_markdown")
WRITERS.add("report-comment.md", "releasegate.report.comment:render_comment")
WRITERS.add("report.html", "releasegate.report.html:render_html")
WRITERS.add("junit.xml", "releasegate.report.junit:render_junit")
WRITERS.add("outputs.jsonl", "releasegate.report.outputs:render_outputs")


def write_reports(result: PipelineResult, run_dir: Path) -> dict[str, Path]:
    """Render every registered report of ``result`` into ``run_dir``; returns name -> path."""
    written: dict[str, Path] = {}
    for name in WRITERS.names():
        path = run_dir / name
        write_text_atomic(path, WRITERS.get(name)(result))
        written[name] = path
    return written
