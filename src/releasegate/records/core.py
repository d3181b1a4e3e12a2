"""Typed result records shared by every stage and every report writer.

Imports nothing from inside the package but ``enums``. Records are pydantic models so that a
saved run (``report.json``) and a baseline load back into the same types.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from releasegate.enums import Bound, Comparison, GateType, Vocabulary

__all__ = [
    "Bound",
    "CIEntry",
    "Comparison",
    "Decision",
    "ExampleResult",
    "GateResult",
    "GateType",
    "Interval",
    "MetricInfo",
    "MetricValue",
    "PipelineStatus",
    "StageResult",
    "count_draws",
]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Record):
    """A two-sided confidence interval (one-sided bounds read ``low`` or ``high``)."""

    low: float
    high: float
    level: float = 0.95
    """Two-sided coverage; a one-sided bound at ``low`` has coverage (1 + level) / 2."""
    method: str
    """Name of the method that produced it, e.g. ``wilson``, ``bootstrap-percentile``."""


class MetricValue(_Record):
    """One aggregated metric: the number gates read, with its uncertainty."""

    name: str
    value: float
    ci: Interval | None = None
    """None when the sample is too small for an interval; never a zero-width fake."""
    n: int
    """How many items the value is computed over (failures excluded)."""
    n_failed: int = 0
    """Items that could not be scored (missing output, judge error, ...)."""
    higher_is_better: bool = True
    unit: str = ""
    """``rate`` (0–1), ``score`` (judge 1–5), ``seconds``, ``usd``, ``count``, ..."""


class MetricInfo(_Record):
    """A metric's declaration as a saved run keeps it, so that writers need no list."""

    name: str
    description: str
    stage: str
    unit: str
    low: float
    high: float | None
    """None: no upper end (seconds, tokens, USD)."""
    higher_is_better: bool
    kind: str
    per_category: bool
    has_interval: bool
    safety: bool
    outcome_key: str | None = None


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
    error_type: str | None = None
    """Why the calls are wrong (``wrong_function``, ``wrong_value``, ...); None when right."""
    error_detail: str | None = None
    calls_scored: bool = False
    """Compared as function calls, so ``error_type`` applies."""
    truncated: bool = False
    """The output was longer than ``generation.max_output_chars`` and was cut."""
    latency_s: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str | None = None
    draw_outcomes: dict[str, list[bool | None]] = Field(default_factory=dict)
    """With ``generation.repeats`` k > 1: every rate metric's outcome in each of the
    k draws (draw 0 first; ``outcomes``, ``output`` and the rest are draw 0's).
    Empty with a single draw."""
    draw_outputs: list[str | None] = Field(default_factory=list)
    """With k > 1: the outputs of draws 1 .. k-1 (untrusted text; None: no output)."""

    def draw_counts(self, key: str) -> tuple[int, int] | None:
        """(draws passing ``key``, draws where it applies), over every draw; None if none."""
        return count_draws(self.outcomes, self.draw_outcomes, key)


def count_draws(
    outcomes: dict[str, bool | None], draw_outcomes: dict[str, list[bool | None]], key: str
) -> tuple[int, int] | None:
    """(passing draws, applicable draws) of ``key``: all draws when recorded, else draw 0."""
    values = draw_outcomes.get(key)
    if values is None:
        single = outcomes.get(key)
        return None if single is None else (int(single), 1)
    applicable = [v for v in values if v is not None]
    return (sum(applicable), len(applicable)) if applicable else None


class GateResult(_Record):
    """One gate's verdict."""

    name: str
    metric: str
    value: float | None
    """The number compared: the point estimate or the chosen CI bound."""
    point: float | None
    """The metric's point estimate (equals ``value`` when ``bound`` is ``point``)."""
    threshold: float
    comparison: Comparison | None
    """The comparison of a quality gate; None for a regression gate (see ``rule``)."""
    rule: str
    """The rule as people read it: ``>= 0.85``, or a regression rule in words."""
    gate_type: GateType
    bound: Bound
    passed: bool
    evaluated: bool = True
    """False when the gate could not be evaluated (an optional stage was skipped or
    failed); then ``passed`` is False and the gate decides nothing."""
    shows_quality: bool = True
    """Passing it is evidence that the model is good enough. False for a regression
    check in ``significant_drop`` mode: finding no significant drop is only the
    absence of a detected drop (a small or noisy benchmark finds none), so such gates
    alone never make a DEPLOY."""
    explanation: str
    description: str = ""
    worst_examples: list[str] = Field(default_factory=list)
    """Ids of examples that fail the gated metric (for rate metrics), worst first."""
    downgraded_from: GateType | None = None
    """``blocking`` when an untrusted judge turned this judge gate into a warning."""
    downgrade_reason: str | None = None
    """Why it was downgraded (the judge health finding)."""


class CIEntry(_Record):
    """One ``metrics_ci`` entry of ``report.json``."""

    low: float
    high: float
    n: int
    method: str
    level: float


class PipelineStatus(Vocabulary):
    """Outcome of one stage."""

    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"


class StageResult(_Record):
    """One stage's status, timing, metrics and errors."""

    name: str
    status: PipelineStatus
    duration_seconds: float = 0.0
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    skip_reason: str | None = None
    notes: list[str] = Field(default_factory=list)
    """Human-readable remarks (e.g. 'sample shrunk to fit the budget')."""


class Decision(Vocabulary):
    """The verdict of a run."""

    DEPLOY = "DEPLOY"
    BLOCK = "BLOCK"
    ERROR = "ERROR"

    @property
    def exit_code(self) -> int:
        """0 DEPLOY, 1 BLOCK, 2 ERROR."""
        return {"DEPLOY": 0, "BLOCK": 1, "ERROR": 2}[self.value]
