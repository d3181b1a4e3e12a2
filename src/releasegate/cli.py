"""The ``releasegate`` command line. Maps errors to exit codes; holds no logic.

Exit codes: 0 DEPLOY, 1 BLOCK, 2 ERROR (bad input, bad config, a stage that could
not run, or a run in which no blocking gate was evaluated).
``run`` stopped by a signal exits 128 + its number: 130 for SIGINT (Ctrl-C), 143
for SIGTERM (a cancelled CI job), after a message that says whether the run was
published (see docs/reliability.md).
"""

from __future__ import annotations

import gc
import logging
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from releasegate import interrupts
from releasegate.config.load import load_config
from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError, ReleaseGateError, describe_validation_error

app = typer.Typer(
    name="releasegate",
    help="Decide whether a fine-tuned LLM may ship: DEPLOY (exit 0), BLOCK (1) or ERROR (2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# CI logs are not terminals; give them room for the gates table.
_out = Console(width=None if Console().is_terminal else 140)
_err = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 140)
T = TypeVar("T")

DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]


def _guard(debug: bool, fn: Callable[[], T]) -> T:
    """Run ``fn``; turn every error into one line on stderr and exit 2."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        return fn()
    except ReleaseGateError as exc:
        if debug:
            traceback.print_exc()
        _print_error(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        _err.print("interrupted: nothing half-written was left behind")
        raise typer.Exit(2) from None
    except Exception as exc:
        if debug:
            traceback.print_exc()
        _err.print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)"
        )
        raise typer.Exit(2) from None


def _print_error(message: str) -> None:
    # Text, not markup: messages name things like accuracy[create] literally.
    _err.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)


def _override(config: PipelineConfig, **sections: dict[str, object]) -> PipelineConfig:
    """Apply command-line flags over the config file (flags win), validated like the file."""
    # Only what the file set, so that defaults stay defaults (e.g. which regression
    # metrics were chosen explicitly) after the flags are applied.
    data = config.model_dump(exclude_unset=True)
    for name, values in sections.items():
        data.setdefault(name, {}).update({k: v for k, v in values.items() if v is not None})
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"command-line flag for {describe_validation_error(exc)}") from exc


def _baseline_arg(
    baseline: str | None, branch: str | None, benchmark: Path, cfg: PipelineConfig
) -> str | None:
    """``--baseline`` as a path: given, or chosen from the history for ``auto``."""
    from releasegate.store.baseline_select import resolve_baseline

    path, chosen = resolve_baseline(
        baseline, benchmark_path=str(benchmark), history_db=cfg.output.history_path, branch=branch
    )
    if chosen is not None:
        _err.print(
            f"baseline auto: run {chosen.run_id} ({chosen.model_ref}, {chosen.started_at}) "
            f"-> {chosen.path}",
            markup=False,
            highlight=False,
        )
    return path


@app.command()
def run(  # noqa: PLR0917 - typer maps each parameter to a flag
    model: Annotated[str, typer.Option(help="HF model or adapter directory, or a replay .jsonl.")],
    benchmark: Annotated[Path, typer.Option(help="Benchmark file (JSONL or JSON array).")],
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Baseline JSON from an earlier passing run, or 'auto': the last DEPLOY "
            "of this benchmark in the run history."
        ),
    ] = None,
    baseline_branch: Annotated[
        str | None,
        typer.Option(help="With --baseline auto: only runs of commits on this git branch."),
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
    output_dir: Annotated[
        Path | None, typer.Option(help="Parent folder for the run directory.")
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="Force a registered backend (hf, vllm, replay, openai, ...)."),
    ] = None,
    model_name: Annotated[
        str | None, typer.Option(help="Served model name, for an endpoint URL.")
    ] = None,
    save_baseline: Annotated[
        Path | None, typer.Option(help="Where a DEPLOY writes the new baseline.")
    ] = None,
    noise_floor: Annotated[
        Path | None,
        typer.Option(
            help="calibration.json of this model (releasegate calibrate) for the baseline."
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Evaluate a model on a benchmark and decide DEPLOY or BLOCK."""
    phase = ["evaluation"]

    def go() -> int:
        with _collector_paused():
            from releasegate.config.secrets import run_secrets
            from releasegate.console import RichProgress, print_summary
            from releasegate.pipeline import EvaluationPipeline
            from releasegate.publish import preflight, publish_run

        with _collect_only_new_objects():  # the modules just imported live to the end
            cfg = _override(
                load_config(config),
                model={"backend": backend, "model_name": model_name},
                output={
                    "dir": str(output_dir) if output_dir else None,
                    "baseline_path": str(save_baseline) if save_baseline else None,
                },
                regression={"noise_floor": str(noise_floor) if noise_floor else None},
            )
            preflight(cfg.output)
            baseline_path = _baseline_arg(baseline, baseline_branch, benchmark, cfg)
            progress = RichProgress(_err)
            try:
                result = EvaluationPipeline(cfg, progress=progress, debug=debug).run(
                    model_path=model,
                    benchmark_path=str(benchmark),
                    baseline_path=baseline_path,
                )
            finally:
                progress.close()
            phase[0] = "publishing"
            written = publish_run(
                result, output=cfg.output, secrets=run_secrets(cfg, model_ref=model)
            )
            phase[0] = f"published:{written.run_dir}"
            files = dict(written.files)
            if written.baseline is not None:
                files["new baseline"] = written.baseline
            print_summary(_out, written.result, files)
            # An ERROR's reasons are its errors (a failed stage, no evaluated blocking gate).
            for error in written.result.reasons if written.result.decision.value == "ERROR" else ():
                _print_error(error)
            return written.result.exit_code

    def interruptible() -> int:
        with interrupts.handled():
            try:
                return go()
            except KeyboardInterrupt:
                raise _interrupted(interrupts.last_signal(), phase[0]) from None

    raise typer.Exit(_guard(debug, interruptible))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection inside the block.

    For imports: they make ~70,000 objects that live to the end and almost no garbage,
    and collecting while they run costs ~0.12 s of a cached run for nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _collect_only_new_objects() -> Iterator[None]:
    """Keep the garbage collector off every object alive now, until the block ends.

    Entered after the imports: those objects (~70,000 modules, classes and functions)
    live as long as the process, yet each full collection would scan them all again
    (~0.08 s of a cached run); so does the little garbage the imports left (~2,000
    objects). Unfrozen at the end for callers in the same process.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _interrupted(signum: signal.Signals, phase: str) -> ReleaseGateError:
    """The error for a run stopped by a signal: exit 128 + signum, and what was left."""
    if phase.startswith("published:"):
        left = f"the run was already published complete in {phase.removeprefix('published:')}"
    elif phase == "publishing":
        left = "publishing was rolled back: no run directory, baseline or history row was written"
    else:
        left = (
            "nothing was published (outputs already generated stay in the generation cache, "
            "so a re-run resumes)"
        )
    during = phase.split(":", maxsplit=1)[0]
    error = ReleaseGateError(f"interrupted by {signum.name} during {during}: {left}")
    error.exit_code = interrupts.exit_code(signum)
    return error


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="YAML config file to check.")],
    benchmark: Annotated[Path | None, typer.Option(help="Also check this benchmark file.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Check a config (and a benchmark) without loading any model."""
    from releasegate.pipeline import validate_setup

    def go() -> None:
        cfg = load_config(config)
        summary = validate_setup(cfg, str(benchmark) if benchmark is not None else None)
        _out.print(f"{config}: {summary}", highlight=False)

    _guard(debug, go)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory, its report.json, or a run id.")],
    debug: DebugOpt = False,
) -> None:
    """Re-render report.md, junit.xml and outputs.jsonl from a saved report.json."""
    from releasegate.cli_runs import load_run, report_path
    from releasegate.report.write import write_reports

    def go() -> None:
        result = load_run(run_dir)
        for name, written in write_reports(result, report_path(run_dir).parent).items():
            _out.print(f"{name}: {written}", highlight=False)

    _guard(debug, go)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a commented starter config and a GitHub Actions workflow."""
    from releasegate.init import write_starter_files

    written = _guard(debug, lambda: write_starter_files(directory, force=force))
    for path in written:
        _out.print(f"wrote {path}", highlight=False)
    _out.print("next: releasegate validate releasegate.yaml --benchmark YOUR_BENCHMARK.jsonl")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run: run dir, report.json or run id.")],
    run_b: Annotated[Path, typer.Argument(help="Candidate run: run dir, report.json or run id.")],
    config: Annotated[Path | None, typer.Option(help="Take regression settings from here.")] = None,
    allow_benchmark_change: Annotated[
        bool, typer.Option(help="Compare runs on different benchmarks (shared examples only).")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Compare two saved runs with the regression statistics; exit 1 if B regressed."""
    from releasegate.cli_runs import compare_runs

    code = _guard(
        debug,
        lambda: compare_runs(
            run_a, run_b, config=config, allow_benchmark_change=allow_benchmark_change, console=_out
        ),
    )
    raise typer.Exit(code)


@app.command()
def history(
    db: Annotated[Path, typer.Option(help="Run history database.")] = Path(
        "reports/history.sqlite"
    ),
    metric: Annotated[list[str] | None, typer.Option(help="Metric to show (repeatable).")] = None,
    limit: Annotated[int, typer.Option(help="How many recent runs.")] = 20,
    benchmark: Annotated[
        str | None, typer.Option(help="Only this benchmark (name or hash).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Recent runs with their decisions, and a trend line per metric."""
    from releasegate.cli_runs import show_history

    metrics = metric or ["accuracy", "json_valid_rate"]
    _guard(
        debug,
        lambda: show_history(
            db=db, metrics=metrics, limit=limit, benchmark=benchmark, console=_out
        ),
    )


baseline_app = typer.Typer(help="Manage baselines.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("promote")
def baseline_promote(
    run: Annotated[Path, typer.Argument(help="Run dir, report.json or run id.")],
    to: Annotated[Path, typer.Option(help="Baseline file to write.")] = Path(
        "baselines/new_baseline.json"
    ),
    force: Annotated[bool, typer.Option(help="Promote a run that was not DEPLOY.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Make a saved run the baseline (atomic write)."""
    from releasegate.cli_runs import promote

    _guard(debug, lambda: promote(run, to=to, force=force, console=_out))


def _register_judge_check() -> None:
    from releasegate.judge.check_cli import judge_check

    app.command(
        "judge-check", help="Measure the configured judge against a labelled calibration set."
    )(judge_check)


_register_judge_check()

from releasegate.import_cli import import_app  # noqa: E402  (a sub-app in its own module)

app.add_typer(import_app, name="import")
app.command("calibrate")(__import__("releasegate.cli_calibrate").cli_calibrate.calibrate_command)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        # The process ends next: leave what is alive to the operating system rather than
        # to a last full garbage collection of every module (~0.3 s after a run).
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
