"""``releasegate import ...``: convert other benchmarks' files into releasegate benchmarks.

Reads only files the user already has; nothing is downloaded. Exit 0 when the
benchmark was written, 2 with one line naming file, line and field otherwise.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from releasegate.errors import ReleaseGateError

import_app = typer.Typer(
    help="Convert other benchmarks' files into a releasegate benchmark.", no_args_is_help=True
)
_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


@import_app.command("bfcl")
def import_bfcl_command(
    questions: Annotated[
        Path, typer.Argument(help="A BFCL question file, e.g. BFCL_v4_simple_python.json.")
    ],
    answers: Annotated[
        Path,
        typer.Option(help="Its possible_answer file (same name under possible_answer/)."),
    ],
    out: Annotated[Path, typer.Option(help="Benchmark file to write (JSON Lines).")] = Path(
        "benchmarks/bfcl.jsonl"
    ),
    limit: Annotated[int | None, typer.Option(min=1, help="Convert only the first N.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Convert a BFCL question file and its possible answers (single-turn Python categories)."""
    from releasegate.importers.bfcl import import_bfcl

    try:
        summary = import_bfcl(questions, answers, out, limit=limit)
    except ReleaseGateError as exc:
        if debug:
            traceback.print_exc()
        _err.print(escape(str(exc)), soft_wrap=True)  # one line, whatever the width
        raise typer.Exit(exc.exit_code) from None
    cats = ", ".join(f"{k} {v}" for k, v in sorted(summary.categories.items()))
    _out.print(escape(f"wrote {summary.written} examples to {summary.out} ({cats})"))
    if summary.skipped:
        shown = ", ".join(summary.skipped[:5]) + (" ..." if len(summary.skipped) > 5 else "")
        _out.print(
            escape(
                f"left out {len(summary.skipped)} question(s) whose possible answer no output "
                f"could pass under BFCL's own checker: {shown}"
            )
        )
