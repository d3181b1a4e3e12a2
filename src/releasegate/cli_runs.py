"""CLI commands over saved runs: ``compare``, ``history``, ``baseline promote``.

Holds no logic beyond resolving arguments and printing; registered by ``cli.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from releasegate.config.load import load_config
from releasegate.config.regression import RegressionSettings
from releasegate.enums import GateType
from releasegate.errors import InputError, describe_validation_error
from releasegate.input_files import loads_json_document, read_text_capped
from releasegate.records.run import SCHEMA_VERSION, PipelineResult
from releasegate.store.history import find_run_dir, list_runs, metric_values

DEFAULT_DB = Path("reports/history.sqlite")
_SPARK = "▁▂▃▄▅▆▇█"


def report_path(ref: Path, *, db: Path = DEFAULT_DB) -> Path:
    """The report.json of a run directory, a report.json, or a run id in the history.

    Raises:
        InputError: no such run.
    """
    path = ref
    if not path.exists():
        found = find_run_dir(db, str(ref))
        if found is None:
            raise InputError(f"{ref}: no such run directory, report.json, or run id in {db}")
        path = found
    return path / "report.json" if path.is_dir() else path


def load_run(ref: Path, *, db: Path = DEFAULT_DB) -> PipelineResult:
    """A saved run (see ``report_path``).

    Raises:
        InputError: no such run, or not a releasegate report.
    """
    path = report_path(ref, db=db)
    text = read_text_capped(path, what="saved run", error=InputError)
    data = loads_json_document(text, path=path, error=InputError)
    try:
        return PipelineResult.model_validate(data)
    except ValidationError as exc:
        version = _schema_version(text)
        if version is not None and version != SCHEMA_VERSION:
            raise InputError(
                f"{path}: report schema_version {version} was written by another releasegate "
                f"version (this one reads {SCHEMA_VERSION}); re-run the evaluation"
            ) from exc
        detail = describe_validation_error(exc)
        raise InputError(f"{path}: not a releasegate report: {detail}") from exc


def _schema_version(text: str) -> object:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data.get("schema_version") if isinstance(data, dict) else None


def compare_runs(
    run_a: Path,
    run_b: Path,
    *,
    config: Path | None,
    allow_benchmark_change: bool,
    console: Console,
) -> int:
    """Compare run B (candidate) against run A (baseline).

    Exit 1 when a blocking regression gate fails (``regression.gate_type: warning``
    reports the regression and exits 0), as the same comparison does inside ``run``.
    """
    from releasegate.pipeline import compare_saved
    from releasegate.report.markdown_stages import regression_section

    a, b = load_run(run_a), load_run(run_b)
    if a.run.benchmark_fingerprint != b.run.benchmark_fingerprint and not allow_benchmark_change:
        raise InputError(
            f"the runs used different benchmarks ({a.run.benchmark_fingerprint[:19]} vs "
            f"{b.run.benchmark_fingerprint[:19]}); pass --allow-benchmark-change to compare "
            "the examples they share"
        )
    settings = load_config(config).regression if config else _settings_of(b)
    report, gates = compare_saved(a, b, settings=settings, source=str(run_a))
    console.print(regression_section(report), markup=False, highlight=False)
    blocking = [g.metric for g in gates if not g.passed and g.gate_type is GateType.BLOCKING]
    warned = [g.metric for g in gates if not g.passed and g.gate_type is GateType.WARNING]
    if report.incomparable is not None:
        console.print(f"\nno regression check ran: {report.incomparable}", markup=False)
    if blocking:
        console.print(f"\nregressed: {', '.join(blocking)}", markup=False)
    elif warned:
        console.print(
            f"\nregressed (warning gates, not blocking): {', '.join(warned)}", markup=False
        )
    elif report.incomparable is None:
        console.print("\nno metric regressed", markup=False)
    return 1 if blocking else 0


def _settings_of(result: PipelineResult) -> RegressionSettings:
    raw = result.run.config.get("regression")
    return RegressionSettings.model_validate(raw) if isinstance(raw, dict) else RegressionSettings()


def show_history(
    *, db: Path, metrics: list[str], limit: int, benchmark: str | None, console: Console
) -> None:
    """A table of recent runs and a trend line per metric."""
    runs = list_runs(db, limit=limit, benchmark=benchmark)
    if not runs:
        console.print(f"no runs recorded in {db}", markup=False)
        return
    values = metric_values(db, [r.run_id for r in runs], metrics)
    table = Table(show_header=True, header_style="bold")
    for column in ("run", "started", "decision", "model", *metrics):
        table.add_column(column)
    for r in runs:
        cells = [
            f"{values[(r.run_id, m)]:.4f}" if (r.run_id, m) in values else "—" for m in metrics
        ]
        table.add_row(r.run_id, r.started_at[:19], r.decision, Path(r.model_ref).name, *cells)
    console.print(table)
    for metric in metrics:
        series = [
            values[(r.run_id, metric)] for r in reversed(runs) if (r.run_id, metric) in values
        ]
        if series:
            console.print(
                f"{metric:>20} {_sparkline(series)}  (oldest → newest, last {series[-1]:.4f})"
            )


def _sparkline(series: list[float]) -> str:
    low, high = min(series), max(series)
    if high - low < 1e-12:
        return _SPARK[len(_SPARK) // 2] * len(series)
    return "".join(_SPARK[round((v - low) / (high - low) * (len(_SPARK) - 1))] for v in series)


def promote(run: Path, *, to: Path, force: bool, console: Console) -> None:
    """Write the run's baseline to ``to`` atomically (a BLOCK run needs ``force``)."""
    from releasegate.store.baseline import write_baseline
    from releasegate.store.snapshot import baseline_from_result

    result = load_run(run)
    if result.decision.value != "DEPLOY" and not force:
        raise InputError(
            f"run {result.run.run_id} was {result.decision.value}, not DEPLOY; pass --force "
            "to promote it anyway"
        )
    write_baseline(to, baseline_from_result(result))
    console.print(
        f"promoted run {result.run.run_id} ({result.decision.value}) to {to}", markup=False
    )
