"""The run record: everything a run found, as one typed, versioned object.

``PipelineResult`` is what ``report.json`` holds and what every writer reads; a
saved run loads back into it (``releasegate report RUN``, ``compare``, baselines).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from releasegate.metrics import MetricKey
from releasegate.records.calibration import NoiseFloor
from releasegate.records.core import (
    CIEntry,
    Decision,
    ExampleResult,
    GateResult,
    Interval,
    MetricInfo,
    MetricValue,
    StageResult,
)
from releasegate.records.determinism import DeterminismReport
from releasegate.records.judge import JudgeOutcome
from releasegate.records.regression import RegressionReport
from releasegate.records.safety import SafetyReport

SCHEMA_VERSION = 2
"""2: gates carry enums, ``rule`` and ``evaluated``; the run keeps its metric catalog."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunManifest(_Record):
    """Provenance: enough to reproduce the decision exactly."""

    run_id: str
    started_at: str
    finished_at: str
    duration_seconds: float
    releasegate_version: str
    python: str
    platform: str
    git_sha: str | None
    packages: dict[str, str]
    seed: int
    benchmark_path: str
    benchmark_name: str
    benchmark_fingerprint: str
    n_examples: int
    model_backend: str
    model_ref: str
    model_fingerprint: str
    model_details: dict[str, str]
    config: dict[str, object]
    """The effective config (secrets are referenced by env-var name only)."""
    config_hash: str
    baseline_path: str | None
    methods: dict[str, str]
    """Statistical methods used, by purpose (e.g. ``rate_ci: wilson``)."""
    default_gates: bool = False
    """True when the config had no ``quality_gates`` and the built-in gates applied."""


class PipelineResult(_Record):
    """A whole run; ``report.json`` is this object serialised."""

    schema_version: int = SCHEMA_VERSION
    decision: Decision
    deploy_allowed: bool
    exit_code: int
    reasons: list[str]
    """One line per cause of the decision (failed blocking gates, errors)."""
    warnings: list[str] = Field(default_factory=list)
    metrics: dict[str, float]
    """Flat metric name -> value: what gates read."""
    metrics_ci: dict[str, CIEntry]
    metric_details: dict[str, MetricValue]
    catalog: list[MetricInfo] = Field(default_factory=list)
    """Every metric this run could produce, as declared by its stage, in stage order."""
    gates: list[GateResult]
    stages: list[StageResult]
    examples: list[ExampleResult]
    judge: JudgeOutcome | None = None
    """Stage 2: the judged sample, per-item scores and rationales, spend and coverage."""
    regression: RegressionReport | None = None
    """Stage 3: the comparison with the baseline (None without a baseline)."""
    safety: SafetyReport | None = None
    """The red-team stage: every attack and benign control with its outcome."""
    determinism: DeterminismReport | None = None
    """The determinism check: the regenerated sample's changed outputs and likely causes."""
    run: RunManifest
    errors: list[str] = Field(default_factory=list)
    noise_floor: NoiseFloor | None = None
    """The A/A calibration attached with ``regression.noise_floor`` (checked against
    this run's model and benchmark); a DEPLOY stores it in its baseline."""


def flatten_metrics(values: dict[str, MetricValue]) -> tuple[dict[str, float], dict[str, CIEntry]]:
    """Split metric values into the flat ``metrics`` and ``metrics_ci`` dicts."""
    flat = {name: mv.value for name, mv in values.items()}
    cis = {name: _ci_entry(mv.ci, mv.n) for name, mv in values.items() if mv.ci is not None}
    return flat, cis


def _ci_entry(ci: Interval, n: int) -> CIEntry:
    return CIEntry(low=ci.low, high=ci.high, n=n, method=ci.method, level=ci.level)


def spec_of(result: PipelineResult, name: str) -> MetricInfo | None:
    """The declaration of metric ``name`` (``accuracy[create]`` resolves to ``accuracy``)."""
    base = MetricKey.parse(name).name
    return next((m for m in result.catalog if m.name == base), None)
