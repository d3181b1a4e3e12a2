"""The run record: everything a run found, as one typed, versioned object.

``PipelineResult`` is what ``report.json`` holds and what every writer reads; a
saved run loads back into it (``releasegate report RUN``, ``compare``, baselines).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from releasegate.results import Decision, Interval, MetricValue, StageResult

SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExampleResult(_Record):
    """One example's output and automated outcomes."""

    id: str
    category: str
    input_hash: str
    input: str
    """The input flattened to text."""
    expected_output: str
    output: str | None
    """The model's output (untrusted text), None when there is none."""
    error: str | None = None
    """Why there is no output (missing replay row, backend failure)."""
    outcomes: dict[str, bool | None]
    """Rate metric name -> pass/fail (None: not applicable to this example)."""
    field_tp: int | None = None
    field_predicted: int | None = None
    field_expected: int | None = None
    parse_error: str | None = None
    schema_error: str | None = None
    truncated: bool = False
    """The output was longer than ``generation.max_output_chars`` and was cut."""
    latency_s: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str | None = None


class GateResult(_Record):
    """One gate's verdict (SPEC §6 ``gates``)."""

    name: str
    metric: str
    value: float | None
    """The number compared: the point estimate or the chosen CI bound."""
    point: float | None
    """The metric's point estimate (equals ``value`` when ``bound`` is ``point``)."""
    threshold: float
    comparison: str
    gate_type: str
    bound: str
    passed: bool
    skipped: bool = False
    """Not evaluated (an optional stage was skipped); then ``passed`` is False and ignored."""
    explanation: str
    description: str = ""
    worst_examples: list[str] = Field(default_factory=list)
    """Ids of examples that fail the gated metric (for rate metrics), worst first."""


class CIEntry(_Record):
    """``metrics_ci`` entry (SPEC §6)."""

    low: float
    high: float
    n: int
    method: str
    level: float


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
    gates: list[GateResult]
    stages: list[StageResult]
    examples: list[ExampleResult]
    run: RunManifest
    errors: list[str] = Field(default_factory=list)


def flatten_metrics(values: dict[str, MetricValue]) -> tuple[dict[str, float], dict[str, CIEntry]]:
    """Split metric values into the flat ``metrics`` and ``metrics_ci`` dicts."""
    flat = {name: mv.value for name, mv in values.items()}
    cis = {name: _ci_entry(mv.ci, mv.n) for name, mv in values.items() if mv.ci is not None}
    return flat, cis


def _ci_entry(ci: Interval, n: int) -> CIEntry:
    return CIEntry(low=ci.low, high=ci.high, n=n, method=ci.method, level=ci.level)
