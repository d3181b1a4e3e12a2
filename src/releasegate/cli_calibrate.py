"""``releasegate calibrate``: the A/A noise floor of a model on a benchmark.

Holds no logic beyond resolving arguments and printing; registered by ``cli.py``.
Exit 0 when the calibration was written, 2 on any error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from releasegate.records.calibration import NoiseFloor

_out = Console(width=None if Console().is_terminal else 140, highlight=False)


def calibrate_command(  # noqa: PLR0917 - typer maps each parameter to a flag
    model: Annotated[str, typer.Option(help="HF model or adapter directory, or endpoint URL.")],
    benchmark: Annotated[Path, typer.Option(help="Benchmark file (JSONL or JSON array).")],
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
    runs: Annotated[int, typer.Option(help="How many identical evaluations (2-20).")] = 3,
    output: Annotated[
        Path | None,
        typer.Option(help="Calibration JSON to write (default <output.dir>/calibration.json)."),
    ] = None,
    false_block: Annotated[
        float, typer.Option(help="False-BLOCK probability the suggested threshold aims under.")
    ] = 0.01,
    attach_to: Annotated[
        Path | None,
        typer.Option(
            help="Also store the noise floor in this baseline (same model and benchmark)."
        ),
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Force a registered backend.")] = None,
    model_name: Annotated[
        str | None, typer.Option(help="Served model name, for an endpoint URL.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    """Evaluate the same model several times: spread, flips and a threshold without false BLOCKs."""
    from releasegate.cli import _err, _guard, _override

    def go() -> None:
        from releasegate.calibrate import attach_to_baseline, calibrate
        from releasegate.calibration.files import write_noise_floor
        from releasegate.config.load import load_config
        from releasegate.console import RichProgress

        cfg = _override(load_config(config), model={"backend": backend, "model_name": model_name})
        progress = RichProgress(_err)
        try:
            noise = calibrate(
                cfg,
                model_path=model,
                benchmark_path=str(benchmark),
                runs=runs,
                target_false_block=false_block,
                progress=progress,
            )
        finally:
            progress.close()
        path = output or Path(cfg.output.dir) / "calibration.json"
        write_noise_floor(path, noise)
        print_noise_floor(_out, noise, shown=cfg.regression.metrics)
        _out.print(f"calibration: {path}")
        if attach_to is not None:
            attach_to_baseline(attach_to, noise)
            _out.print(f"attached to the baseline {attach_to}")

    _guard(debug, go)


def print_noise_floor(console: Console, noise: NoiseFloor, *, shown: Sequence[str]) -> None:
    """The calibration as a table (overall paired metrics and ``shown``) and advice.

    Every metric is in the calibration file; the table keeps to the ones a
    regression check reads.
    """
    console.print(
        f"A/A noise floor of {noise.model_ref} on {noise.benchmark_name} "
        f"({noise.n_examples} examples): {noise.runs} runs, temperature {noise.temperature:g}, "
        f"{'generation cache bypassed' if noise.cache_bypassed else 'cached'}, "
        f"{noise.seconds:.1f} s",
        markup=False,
    )
    table = Table(show_header=True, header_style="bold")
    for column in (
        "metric",
        "values",
        "sd",
        "max Δ",
        "flipped",
        "P(false BLOCK)",
        "safe threshold",
        "n for threshold",
    ):
        table.add_column(column)
    for m in noise.metrics.values():
        if m.name not in shown and not (m.paired and "[" not in m.name):
            continue
        table.add_row(
            escape(m.name),
            " ".join(f"{v:.4f}" for v in m.values),
            f"{m.sd:.4f}",
            f"{m.max_difference:.4f}",
            f"{m.flipped}/{m.n}" if m.paired else "—",
            _probability(m.false_block),
            "—" if m.safe_threshold is None else f"{m.safe_threshold:+.3f}",
            "—" if m.n_for_threshold is None else str(m.n_for_threshold),
        )
    console.print(table)
    console.print(
        f"P(false BLOCK): two runs of this model compared under regression.threshold "
        f"{noise.threshold:+g} (alpha {noise.alpha:g}), at the 95% upper bound of the share "
        "of examples that flipped; safe threshold / n: where that stays <= "
        f"{noise.target_false_block:g}.",
        markup=False,
    )
    if noise.flaky_examples:
        ids = ", ".join(noise.flaky_examples[:10])
        more = " ..." if len(noise.flaky_examples) > 10 else ""
        count = len(noise.flaky_examples)
        console.print(f"flaky examples ({count}): {ids}{more}", markup=False)
    else:
        console.print("flaky examples: none (every example had the same outcome in every run)")


def _probability(p: float | None) -> str:
    if p is None:
        return "—"
    return "<1e-6" if p < 1e-6 else f"{p:.3g}"
