"""``releasegate judge-check``: run the configured judge on a labelled calibration set.

The lead registers :func:`judge_check` on the main Typer app. Exit codes:
0 the check ran (and met ``--min-kappa`` if given), 1 agreement below
``--min-kappa``, 2 bad config / calibration file / the judge could not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from releasegate.config.judge import JudgeConfig
from releasegate.config.load import load_config, load_yaml
from releasegate.errors import (
    ConfigError,
    OutputError,
    ReleaseGateError,
    describe_validation_error,
)
from releasegate.input_files import MAX_CONFIG_BYTES, read_text_capped

if TYPE_CHECKING:  # the runner pulls in the SDKs and scipy: import it only when a check runs
    from releasegate.judge.calibration import JudgeCheckReport

DEFAULT_CALIBRATION = Path("examples/task-api/judge_calibration.jsonl")


def load_judge_config(path: Path) -> JudgeConfig:
    """The ``judge:`` section of a releasegate config, or of a file that is only that section.

    A whole config goes through the main loader (line numbers, did-you-mean, the
    classic ``llm_judge_sample_rate``).
    """
    return _load_with_output_dir(path)[0]


def store_path_for(path: Path, judge: JudgeConfig) -> Path:
    """Where ``judge-check`` stores its result for the config at ``path``.

    ``judge.calibration_store`` if set, else ``<output.dir>/judge_calibration.json``
    (``output.dir`` of a whole config; ``reports`` for a judge-only file), the file
    a run with that config reads.
    """
    from releasegate.config.schema import OutputSettings

    if judge.calibration_store:
        return Path(judge.calibration_store)
    _, output_dir = _load_with_output_dir(path)
    return Path(output_dir or OutputSettings().dir) / "judge_calibration.json"


def _load_with_output_dir(path: Path) -> tuple[JudgeConfig, str | None]:
    text = read_text_capped(path, what="config", limit=MAX_CONFIG_BYTES, error=ConfigError)
    data, _ = load_yaml(text, source=str(path))  # bounded: alias bombs, duplicate keys
    if isinstance(data, dict) and "judge" in data:
        whole = load_config(path)
        return whole.judge, whole.output.dir
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: no 'judge:' section")
    try:
        return JudgeConfig.model_validate(data), None
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc, prefix='judge.')}") from exc


def render_report(report: JudgeCheckReport) -> str:
    """A plain-text summary of the agreement."""

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    lines = [
        f"judge-check: {report.status}, {report.n_judged}/{report.n_items} items judged",
        f"{'criterion':<16}{'n':>4}{'exact':>8}{'within1':>9}{'kappa':>8}{'kappa_q':>9}",
    ]
    for c in report.criteria:
        lines.append(
            f"{c.criterion:<16}{c.n:>4}{fmt(c.accuracy):>8}{fmt(c.within_one):>9}"
            f"{fmt(c.kappa):>8}{fmt(c.kappa_quadratic):>9}"
        )
    lines.append(
        f"injection: {report.injected_flagged}/{report.injected_items} injected outputs flagged, "
        f"{report.clean_flagged} clean outputs flagged"
    )
    price = "" if report.price_known else " (no known price: treated as free)"
    lines.append(
        f"cost: ${report.spent_usd:.4f}{price}, tokens in {report.tokens_in}, "
        f"out {report.tokens_out}"
    )
    lines += [f"note: {n}" for n in report.notes]
    lines += [f"error: {e}" for e in report.errors]
    return "\n".join(lines)


def _record(path: Path, report: JudgeCheckReport, judge: JudgeConfig, calibration: Path) -> None:
    from releasegate.judge.calibration_store import entry_from_report, record

    entry = entry_from_report(
        report, provider=judge.provider, model=judge.model, calibration_file=calibration
    )
    try:
        record(path, entry)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the calibration store: {exc.strerror}") from exc


def judge_check(  # noqa: PLR0917 - typer maps each parameter to a flag
    config: Annotated[Path, typer.Option("--config", "-c", help="releasegate YAML config.")],
    calibration: Annotated[
        Path, typer.Option("--calibration", help="Labelled calibration JSONL.")
    ] = DEFAULT_CALIBRATION,
    seed: Annotated[int, typer.Option(help="Seed for the fence token and backoff jitter.")] = 0,
    cache: Annotated[
        Path | None, typer.Option(help="SQLite judge cache (re-runs cost nothing).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    min_kappa: Annotated[
        float | None,
        typer.Option(help="Exit 1 if any criterion's quadratic-weighted kappa is below this."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            help="Calibration store to record the result in, keyed by the judge config hash "
            "(default: judge.calibration_store, else <output.dir>/judge_calibration.json)."
        ),
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the result.")] = False,
) -> None:
    """Run the configured judge on a labelled calibration set and report agreement and cost."""
    try:
        judge_config = load_judge_config(config)
        from releasegate.judge.calibration import load_calibration, run_judge_check

        items = load_calibration(calibration)
        report = run_judge_check(
            config=judge_config, calibration=items, seed=seed, cache_path=cache
        )
        stored = None
        if not no_store and report.status == "success" and report.n_judged > 0:
            stored = store or store_path_for(config, judge_config)
            _record(stored, report, judge_config, calibration)
    except ReleaseGateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(render_report(report))
    if stored is not None:
        typer.echo(f"stored as the calibration of judge config {report.config_hash} in {stored}")
    if json_out is not None:
        json_out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if report.status != "success":
        raise typer.Exit(code=2)
    if min_kappa is not None and any(
        c.kappa_quadratic is None or c.kappa_quadratic < min_kappa for c in report.criteria
    ):
        raise typer.Exit(code=1)
