"""Terminal display: live progress and the one-screen summary (CLI only)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from releasegate.enums import GateType
from releasegate.records.run import PipelineResult
from releasegate.report.markdown_repeat import determinism_line, repeats_of

_STYLE = {"DEPLOY": "bold green", "BLOCK": "bold red", "ERROR": "bold yellow"}


class RichProgress:
    """Implements ``releasegate.progress.Progress`` with a rich progress bar on stderr."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}
        self._console = console

    def start(self, step: str, *, total: int | None) -> None:
        """Open a bar for the step (plain line when not a terminal)."""
        if not self._tasks:
            self._progress.start()
        self._tasks[step] = self._progress.add_task(step, total=total)
        if not self._console.is_terminal:
            self._console.print(f"{step}: started ({total if total is not None else '?'} items)")

    def advance(self, step: str, units: int = 1) -> None:
        """Move the step's bar."""
        if step in self._tasks:
            self._progress.advance(self._tasks[step], units)

    def finish(self, step: str, *, note: str = "") -> None:
        """Close the step's bar."""
        task = self._tasks.get(step)
        if task is not None:
            self._progress.update(task, completed=self._progress.tasks[task].total)
        if not self._console.is_terminal:
            self._console.print(f"{step}: done{' — ' + note if note else ''}")

    def close(self) -> None:
        """Stop the live display."""
        if self._tasks:
            self._progress.stop()


def print_summary(console: Console, result: PipelineResult, files: dict[str, Path]) -> None:
    """Decision, gates table, reasons and report paths on one screen."""
    decision = result.decision.value
    console.print(Text(f"releasegate: {decision}", style=_STYLE[decision]))
    if result.gates:
        table = Table(show_header=True, header_style="bold")
        for column in ("gate", "metric", "value", "rule", "type", "result"):
            table.add_column(column)
        for g in result.gates:
            value = "—" if g.value is None else f"{g.value:.4f}"
            outcome = "NOT EVALUATED" if not g.evaluated else ("pass" if g.passed else "FAIL")
            soft = g.gate_type is GateType.WARNING or not g.evaluated
            style = "" if g.passed else ("yellow" if soft else "red")
            # Text(...) everywhere: metric names like accuracy[create] are not markup.
            table.add_row(
                Text(g.name),
                Text(g.metric),
                Text(value),
                Text(g.rule),
                Text(g.gate_type),
                Text(outcome, style=style),
            )
        console.print(table)
    for reason in result.reasons:
        console.print(Text(f"• {reason}"))
    regression = result.regression
    if regression is not None and regression.flipped_to_wrong:
        shown = ", ".join(regression.flipped_to_wrong[:5])
        more = len(regression.flipped_to_wrong) - 5
        console.print(
            Text(
                f"• {len(regression.flipped_to_wrong)} example(s) flipped right → wrong since "
                f"the baseline: {shown}{f' and {more} more' if more > 0 else ''} "
                f"({len(regression.flipped_to_right)} flipped wrong → right); "
                "inputs and both outputs are in report.md"
            )
        )
    _print_repeatability(console, result)
    for warning in result.warnings:
        console.print(Text(f"! {warning}", style="yellow"))
    for name, path in files.items():
        console.print(Text(f"  {name}: {path}"))


def _print_repeatability(console: Console, result: PipelineResult) -> None:
    """pass@k / pass^k with repeats, and the determinism check's count and first changes."""
    k, details = repeats_of(result), result.metric_details
    if k > 1 and "pass_at_k" in details and "pass_hat_k" in details:
        mean = details.get("accuracy")
        console.print(
            Text(
                f"• {k} draws per example: pass@{k} {details['pass_at_k'].value:.3f}, "
                + (f"accuracy (mean) {mean.value:.3f}, " if mean else "")
                + f"pass^{k} {details['pass_hat_k'].value:.3f}"
            )
        )
    report = result.determinism
    if report is not None:
        ids = ", ".join(c.id for c in report.changed[:5])
        expected = "; expected with sampling" if report.expected_to_change else ""
        style = "yellow" if report.n_changed and not report.expected_to_change else ""
        console.print(
            Text(
                f"• determinism: {determinism_line(report)}{expected}"
                + (f": {ids}" if ids else ""),
                style=style,
            )
        )
