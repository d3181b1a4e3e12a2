"""MLflow export: one MLflow run per releasegate run (``output.mlflow``).

Logged through MLflow's own client (the ``mlflow`` extra, ``mlflow-skinny``):

- params: model reference and fingerprint, backend, benchmark name and fingerprint,
  config hash, seed, releasegate version, git commit, and each gate's rule;
- metrics: every metric, with ``<name>.ci_low`` / ``<name>.ci_high`` where it has an
  interval (MLflow names admit no brackets: ``accuracy[create]`` is ``accuracy__create``;
  not a slash, which a file store turns into a folder that clashes with ``accuracy``),
  plus ``releasegate.exit_code`` and ``releasegate.deploy`` (1 or 0);
- tags: ``releasegate.decision``, ``releasegate.run_id`` and the reasons;
- artifacts: the run directory's report files, under ``releasegate/``.

The default tracking URI is a local file store under ``<output.dir>/mlruns``. MLflow
3 keeps its file store in maintenance mode behind ``MLFLOW_ALLOW_FILE_STORE``; for a
``file:`` URI that variable is set for the duration of the export unless the
environment already says otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releasegate.config.mlflow import MlflowSettings
from releasegate.errors import MissingDependencyError, ReleaseGateError
from releasegate.records.run import PipelineResult

_NAME_OK = re.compile(r"[^0-9A-Za-z_\-. ]")
_PARAM_MAX = 6000
_REPORT_FILES = (
    "report.json",
    "report.md",
    "report-comment.md",
    "report.html",
    "junit.xml",
    "outputs.jsonl",
    "baseline.json",
)


class TrackingError(ReleaseGateError):
    """The MLflow export failed (the run's own reports are already written)."""


@dataclass(frozen=True)
class Exported:
    """Where a run was logged."""

    tracking_uri: str
    experiment_id: str
    run_id: str


def default_tracking_uri(output_dir: str) -> str:
    """The local file store used when ``output.mlflow.tracking_uri`` is unset."""
    return (Path(output_dir).resolve() / "mlruns").as_uri()


def metric_key(name: str) -> str:
    """An MLflow-legal metric or param name: ``accuracy[create]`` -> ``accuracy__create``."""
    key = name.replace("[", "__").replace("]", "")
    return _NAME_OK.sub("_", key)


def mlflow_params(result: PipelineResult) -> dict[str, str]:
    """The run's provenance and gate rules as MLflow params."""
    run = result.run
    params: dict[str, str] = {
        "model_ref": run.model_ref,
        "model_fingerprint": run.model_fingerprint,
        "model_backend": run.model_backend,
        "benchmark_name": run.benchmark_name,
        "benchmark_fingerprint": run.benchmark_fingerprint,
        "n_examples": str(run.n_examples),
        "config_hash": run.config_hash,
        "seed": str(run.seed),
        "releasegate_version": run.releasegate_version,
        "git_sha": run.git_sha or "",
        "baseline_path": run.baseline_path or "",
    }
    for gate in result.gates:
        rule = (
            f"{gate.metric} {gate.comparison} {gate.threshold:g} ({gate.gate_type}, {gate.bound})"
        )
        params[metric_key(f"gate.{gate.name}")] = rule
    return {k: v[:_PARAM_MAX] for k, v in params.items()}


def mlflow_metrics(result: PipelineResult) -> dict[str, float]:
    """Every metric with its interval bounds, the exit code and a 0/1 deploy flag."""
    metrics: dict[str, float] = {}
    for name, mv in result.metric_details.items():
        key = metric_key(name)
        metrics[key] = mv.value
        if mv.ci is not None:
            metrics[f"{key}.ci_low"] = mv.ci.low
            metrics[f"{key}.ci_high"] = mv.ci.high
    metrics["releasegate.exit_code"] = float(result.exit_code)
    metrics["releasegate.deploy"] = 1.0 if result.deploy_allowed else 0.0
    return metrics


def export_run(
    result: PipelineResult, run_dir: Path, *, settings: MlflowSettings, output_dir: str
) -> Exported:
    """Log one releasegate run to MLflow and end it.

    Raises:
        MissingDependencyError: the ``mlflow`` extra is not installed.
        TrackingError: MLflow refused the run (unreachable server, bad URI, ...).
    """
    client_cls, entities = _mlflow()
    uri = settings.tracking_uri or default_tracking_uri(output_dir)
    with _file_store_allowed(uri):
        try:
            return _log(client_cls(tracking_uri=uri), entities, result, run_dir, settings, uri)
        except ReleaseGateError:
            raise
        except Exception as exc:
            raise TrackingError(
                f"output.mlflow: logging to {_scrub(uri)} failed: {type(exc).__name__}: "
                f"{_scrub(str(exc))[:300]}"
            ) from exc


def _log(
    client: Any,
    entities: Any,
    result: PipelineResult,
    run_dir: Path,
    settings: MlflowSettings,
    uri: str,
) -> Exported:
    experiment = client.get_experiment_by_name(settings.experiment)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(settings.experiment)
    )
    tags = {
        "releasegate.decision": result.decision.value,
        "releasegate.run_id": result.run.run_id,
        "releasegate.reasons": "\n".join(result.reasons)[:_PARAM_MAX],
        "mlflow.runName": f"{result.run.run_id} {result.decision.value}",
    }
    run = client.create_run(experiment_id, tags=tags)
    run_id = run.info.run_id
    try:
        _batches(client, entities, run_id, mlflow_params(result), mlflow_metrics(result))
        if settings.log_reports:
            for name in _REPORT_FILES:
                if (run_dir / name).is_file():
                    client.log_artifact(run_id, str(run_dir / name), artifact_path="releasegate")
    except Exception:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return Exported(tracking_uri=uri, experiment_id=str(experiment_id), run_id=str(run_id))


def _batches(
    client: Any, entities: Any, run_id: str, params: Mapping[str, str], metrics: Mapping[str, float]
) -> None:
    """``log_batch`` in chunks within MLflow's per-call limits (100 params, 1000 metrics)."""
    items = [entities.Param(k, v) for k, v in params.items()]
    for start in range(0, len(items), 100):
        client.log_batch(run_id, params=items[start : start + 100])
    points = [entities.Metric(k, v, 0, 0) for k, v in metrics.items()]
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start : start + 1000])


def require_mlflow() -> None:
    """Check, without importing it, that MLflow is installed (before any model runs).

    Raises:
        MissingDependencyError: the ``mlflow`` extra is not installed.
    """
    try:
        found = importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):  # a broken or blocked installation
        found = False
    if not found:
        raise MissingDependencyError("output.mlflow", extra="mlflow")


def _mlflow() -> tuple[Any, Any]:
    try:
        from mlflow import entities
        from mlflow.tracking import MlflowClient
    except ImportError as exc:
        raise MissingDependencyError("output.mlflow", extra="mlflow") from exc
    return MlflowClient, entities


@contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    key = "MLFLOW_ALLOW_FILE_STORE"
    if not uri.startswith("file:") or key in os.environ:
        yield
        return
    os.environ[key] = "true"
    try:
        yield
    finally:
        os.environ.pop(key, None)


def _scrub(text: str) -> str:
    """Credentials embedded in a URI (``https://user:token@host``) never reach a message."""
    return re.sub(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@", r"\1***@", text)
