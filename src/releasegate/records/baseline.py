"""Baseline records: what a passing run leaves for the next run to compare against."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from releasegate.records.calibration import NoiseFloor
from releasegate.records.core import MetricValue, count_draws

BASELINE_SCHEMA_VERSION = 1
BASELINE_KIND = "releasegate-baseline"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BaselineExample(_Record):
    """One example's outcome in the baseline run."""

    id: str
    input_hash: str
    category: str
    outcomes: dict[str, bool | None]
    output: str | None
    field_tp: int | None = None
    field_predicted: int | None = None
    field_expected: int | None = None
    draw_outcomes: dict[str, list[bool | None]] = Field(default_factory=dict)
    """Per rate metric, the outcome of each draw when the baseline ran with
    ``generation.repeats`` > 1 (empty with one draw)."""

    @property
    def draw_outputs(self) -> list[str | None]:
        """Outputs of later draws are not kept in a baseline (only draw 0's ``output``)."""
        return []

    def draw_counts(self, key: str) -> tuple[int, int] | None:
        """(draws passing ``key``, draws where it applies); None if it applies to none."""
        return count_draws(self.outcomes, self.draw_outcomes, key)


class JudgeScores(_Record):
    """Per-item judge scores of one run, for paired comparison of judge metrics."""

    config_hash: str
    """Judge configuration hash; scores compare only when it matches."""
    scores: dict[str, dict[str, int]]
    """Item id -> criterion -> score (only items the judge scored)."""


class RecordedGate(_Record):
    """One quality gate as it stood when the baseline passed."""

    name: str
    metric: str
    threshold: float
    comparison: str
    """``>``, ``>=``, ``<``, ``<=`` or ``==``."""
    gate_type: str
    """``blocking`` or ``warning``."""
    bound: str = "point"
    """``point``, ``ci_low`` or ``ci_high``."""


class RecordedRegressionRule(_Record):
    """The regression rule as it stood when the baseline passed."""

    mode: str
    alpha: float
    threshold: float
    margin: float | None
    metrics: list[str]
    gate_type: str
    multiplicity: str


class PassedUnder(_Record):
    """The bar a baseline passed: its gates and regression rule, for drift checks."""

    gates: list[RecordedGate]
    regression: RecordedRegressionRule


class Baseline(_Record):
    """A full baseline, written by a DEPLOY run."""

    schema_version: int = BASELINE_SCHEMA_VERSION
    kind: Literal["releasegate-baseline"] = "releasegate-baseline"
    created_at: str
    run_id: str
    benchmark_name: str
    benchmark_fingerprint: str
    n_examples: int
    model_ref: str
    model_fingerprint: str
    config_hash: str
    seed: int
    metrics: dict[str, MetricValue]
    examples: list[BaselineExample]
    judge: JudgeScores | None = None
    passed_under: PassedUnder | None = None
    """Gates and regression rule of the run (None in baselines written before they
    were recorded: then drift cannot be checked, and reports say so)."""
    judge_config_hash: str | None = None
    """Hash of the judge configuration the run used (None: no judge configured)."""
    noise_floor: NoiseFloor | None = None
    """The A/A noise floor of this baseline's model on its benchmark
    (``regression.noise_floor``), shown beside every later comparison."""


class FlatBaseline(_Record):
    """A classic-style baseline: metric name -> value, nothing per example."""

    path: str
    metrics: dict[str, float] = Field(default_factory=dict)
