"""The ``output.mlflow:`` section: export each run to an MLflow tracking server or store."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MlflowSettings"]


class MlflowSettings(BaseModel):
    """MLflow export of every run (needs the ``mlflow`` extra)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    """Log params (model, benchmark, config hash, seed, gates), metrics with their
    interval bounds, the decision and the report files as one MLflow run."""
    tracking_uri: str | None = None
    """Where to log: an MLflow server URL, ``sqlite:///...``, or ``file:...``. Default: a
    local file store at ``<output.dir>/mlruns``. Credentials come from MLflow's own
    environment variables (``MLFLOW_TRACKING_TOKEN``, ...), never from this file."""
    experiment: str = Field(default="releasegate", min_length=1)
    """Experiment name (created when missing)."""
    log_reports: bool = True
    """Attach the run directory's report files as artifacts (under ``releasegate/``)."""
