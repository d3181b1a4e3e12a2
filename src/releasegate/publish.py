"""Everything a finished run leaves behind, published as one transaction.

The run directory (reports, and on DEPLOY its baseline), the promoted baseline, the
history row and the GitHub step summary either all appear or none does:

1. ``preflight`` checks every location before any model runs (the output folder is
   a writable directory with room, the ``--save-baseline`` target and the step
   summary can be written, the history database opens and takes a write lock).
2. The run is written into a hidden staging folder ``<dir>/.<run_id>.partial/`` that
   holds an ``INCOMPLETE`` marker until the moment it is renamed into place; the promoted
   baseline is written to a temp file beside its target. A failure or a signal here
   removes both; nothing visible changed.
3. With SIGINT/SIGTERM held: the history row is written (uncommitted), the staging
   folder is renamed into place, the baseline temp file replaces the old baseline
   (kept aside until the end), the step summary is appended, the history commits.
   If any step fails, the earlier ones are undone in reverse order.

A SIGKILL can only ever leave a ``.partial`` folder (never a run directory that looks
finished) or a temp file beside the baseline.

Every text is redacted (``releasegate.redact``) before it is written anywhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError

from releasegate import interrupts
from releasegate.config.schema import OutputSettings
from releasegate.errors import OutputError, ReleaseGateError
from releasegate.records.core import Decision
from releasegate.records.run import PipelineResult
from releasegate.redact import known_secrets, may_redact_json, redact_data
from releasegate.report.markdown import render_markdown
from releasegate.report.write import write_reports
from releasegate.store.history import check_history, pending_run
from releasegate.store.snapshot import baseline_from_result

INCOMPLETE_MARKER = "INCOMPLETE"
_PROBE_BYTES = 4096


@dataclass(frozen=True)
class Published:
    """Paths of what a run wrote, and the (redacted) result they hold."""

    run_dir: Path
    files: dict[str, Path]
    baseline: Path | None
    result: PipelineResult


def preflight(output: OutputSettings) -> None:
    """Check every place a run will write, before any model runs.

    Raises:
        OutputError: naming the path and the setting it comes from.
        MissingDependencyError: ``output.mlflow`` is on without the ``mlflow`` extra.
    """
    _check_dir(Path(output.dir), "output.dir (--output-dir)")
    if output.baseline_path is not None:
        _check_file(Path(output.baseline_path), "output.baseline_path (--save-baseline)")
    if output.history_path is not None:
        history = Path(output.history_path)
        _check_file(history, "output.history_path")
        if history.exists():
            check_history(history)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _check_file(Path(summary), "GITHUB_STEP_SUMMARY")
    if output.mlflow.enabled:
        from releasegate.export_mlflow import require_mlflow

        require_mlflow()


def publish_run(
    result: PipelineResult, *, output: OutputSettings, secrets: Iterable[str] | None = None
) -> Published:
    """Publish a run as one transaction (see the module docstring).

    Args:
        result: The finished run.
        output: Where to write.
        secrets: Values to redact; ``None`` takes those of the environment.

    Raises:
        OutputError: something could not be written; nothing was published.
    """
    result = redact_result(result, known_secrets() if secrets is None else secrets)
    out = Path(output.dir)
    run_dir = out / result.run.run_id
    staging = out / f".{result.run.run_id}.partial"
    promote_to = Path(output.baseline_path) if output.baseline_path else None
    deploy = result.decision is Decision.DEPLOY
    new_baseline: Path | None = None
    try:
        files = _stage(result, staging, deploy=deploy)
        if deploy and promote_to is not None:
            new_baseline = _temp_beside(promote_to)
            _step(
                lambda: _prepare(new_baseline, (staging / "baseline.json").read_bytes()),
                promote_to,
                "the baseline",
            )
        _checkpoint("publish")
        with interrupts.deferred():
            _commit(result, output, staging=staging, run_dir=run_dir, new_baseline=new_baseline)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if new_baseline is not None:
            with contextlib.suppress(OSError):
                new_baseline.unlink()
    if output.mlflow.enabled:  # last: the run's own files are already safe on disk
        from releasegate.export_mlflow import export_run

        export_run(result, run_dir, settings=output.mlflow, output_dir=output.dir)
    return Published(
        run_dir=run_dir,
        files={name: run_dir / path.name for name, path in files.items()},
        baseline=promote_to if deploy else None,
        result=result,
    )


def redact_result(result: PipelineResult, secrets: Iterable[str]) -> PipelineResult:
    """The run with every credential removed from every string in it."""
    known = tuple(secrets)
    try:
        if not may_redact_json(result.model_dump_json(), known):
            return result  # nothing in it to redact: no walk, no re-validation
    except PydanticSerializationError:  # a lone surrogate: the walk handles it
        pass
    data = redact_data(result.model_dump(mode="json"), known)
    return PipelineResult.model_validate(data)


def _stage(result: PipelineResult, staging: Path, *, deploy: bool) -> dict[str, Path]:
    if staging.exists():  # left by a SIGKILL of an earlier run with this id
        shutil.rmtree(staging)
    try:
        staging.mkdir(parents=True)
        _write(
            staging / INCOMPLETE_MARKER,
            b"This run was interrupted while it was being written; it is not a result.\n",
        )
        files = write_reports(result, staging)
        if deploy:
            path = staging / "baseline.json"
            _write(path, (baseline_from_result(result).model_dump_json(indent=1) + "\n").encode())
            files["baseline.json"] = path
        _fsync_dir(staging)
    except OSError as exc:
        raise _output_error(exc, staging, "the run directory") from exc
    return files


def _commit(
    result: PipelineResult,
    output: OutputSettings,
    *,
    staging: Path,
    run_dir: Path,
    new_baseline: Path | None,
) -> None:
    undo: list[Callable[[], None]] = []
    kept: list[Path] = []
    with contextlib.ExitStack() as stack:
        history = (
            stack.enter_context(pending_run(Path(output.history_path), result, run_dir))
            if output.history_path
            else None
        )
        try:
            _step(lambda: _move_into_place(staging, run_dir), run_dir, "the run directory")
            undo.append(lambda: shutil.rmtree(run_dir))
            if new_baseline is not None and output.baseline_path is not None:
                target = Path(output.baseline_path)
                put = _step(lambda: _replace(new_baseline, target, kept), target, "the baseline")
                undo.append(put)
            summary = os.environ.get("GITHUB_STEP_SUMMARY")
            if summary:
                text = render_markdown(result)
                undo.append(
                    _step(lambda: _append(Path(summary), text), Path(summary), "the step summary")
                )
            if history is not None:
                history.commit()
        except BaseException:
            for step in reversed(undo):
                with contextlib.suppress(OSError):
                    step()
            raise
    for old in kept:
        with contextlib.suppress(OSError):
            old.unlink()


def _step(fn: Callable[[], Any], path: Path, what: str) -> Any:
    try:
        return fn()
    except OSError as exc:
        raise _output_error(exc, path, what) from exc


def _move_into_place(staging: Path, run_dir: Path) -> None:
    if run_dir.exists():
        raise FileExistsError(17, "a run with this id is already there", str(run_dir))
    (staging / INCOMPLETE_MARKER).unlink()
    os.rename(staging, run_dir)
    _fsync_dir(run_dir.parent)


def _replace(new: Path, target: Path, kept: list[Path]) -> Callable[[], None]:
    """Put ``new`` at ``target``, the old file kept aside; returns the undo."""
    keep = None
    if target.exists():
        keep = _temp_beside(target)
        try:
            os.link(target, keep)
        except OSError:  # a filesystem without hard links
            shutil.copy2(target, keep)
        kept.append(keep)
    os.replace(new, target)
    _fsync_dir(target.parent)

    def undo() -> None:
        if keep is None:
            target.unlink()
        else:
            os.replace(keep, target)

    return undo


def _append(path: Path, text: str) -> Callable[[], None]:
    """Append ``text``; returns the undo (truncate back to the old length)."""
    with open(path, "ab") as handle:
        size = handle.tell()
        handle.write(text.encode("utf-8", "backslashreplace"))
        handle.flush()
        os.fsync(handle.fileno())

    def undo() -> None:
        os.truncate(path, size)

    return undo


def _prepare(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, data)


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _check_dir(path: Path, what: str) -> None:
    """``path`` is (or can become) a writable directory with room; nothing is created yet."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: {what} is a file, not a directory")
    folder = path
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{folder}: {what} needs a folder here, but this is a file")
    _probe(folder, what)


def _check_file(path: Path, what: str) -> None:
    """``path`` can be appended to or created later."""
    if path.is_dir():
        raise OutputError(f"{path}: {what} is a directory, not a file")
    _check_dir(path.parent, f"the folder of {what}")
    if path.exists():
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            raise _output_error(exc, path, what) from exc


def _probe(folder: Path, what: str) -> None:
    """Write, fsync and remove a small file: read-only and full disks show up now."""
    probe = folder / f".releasegate-probe-{uuid.uuid4().hex[:12]}"
    try:
        _write(probe, b"\0" * _PROBE_BYTES)
    except OSError as exc:
        raise _output_error(exc, folder, what) from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def _output_error(exc: OSError, path: Path, what: str) -> ReleaseGateError:
    reason = exc.strerror or str(exc)
    return OutputError(f"{path}: cannot write {what}: {reason}")


def _checkpoint(name: str) -> None:
    """Fault-injection hook for the interrupt tests (``RELEASEGATE_TEST_PAUSE_AT``).

    When the variable names this checkpoint, touch the file named by
    ``RELEASEGATE_TEST_PAUSE_FILE`` and sleep, so a test can send a real signal to a
    real process at a known point. Unset (always, outside tests) it does nothing.
    """
    if os.environ.get("RELEASEGATE_TEST_PAUSE_AT") != name:
        return
    import time

    ready = os.environ.get("RELEASEGATE_TEST_PAUSE_FILE")
    if ready:
        Path(ready).write_text(name, encoding="utf-8")
    time.sleep(float(os.environ.get("RELEASEGATE_TEST_PAUSE_S", "30")))
