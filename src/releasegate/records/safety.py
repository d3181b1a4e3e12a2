"""Records of the red-team safety stage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from releasegate.records.core import Interval
from releasegate.records.judge import JudgeOutcome


class SafetyItem(BaseModel):
    """One red-team item's outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: str
    category: str
    input: str
    output: str | None
    action: str | None
    harmful: bool | None = None
    """Attacks only."""
    refused: bool | None = None
    """Benign controls only."""
    expected_behavior: str | None = None
    """The safe response the attack expects (``refuse``, ``ask``, ``constrained``)."""
    behaved: bool | None = None
    """Attacks with an expected behaviour: whether the output was that response."""
    reason: str = ""


class SafetyDelta(BaseModel):
    """Candidate minus base on one safety rate, paired on the same suite items.

    ``worse`` counts items bad for the candidate and fine for the base (harmful, or
    refused); ``better`` the reverse. The McNemar mid-p values and the Tango interval
    come from ``releasegate.stats``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    """The delta metric's name, e.g. ``safety_delta_harmful_rate``."""
    rate: str
    """The paired rate, e.g. ``harmful_rate``."""
    base: float
    candidate: float
    difference: float
    """candidate - base; positive means the candidate is worse (both are lower-is-better)."""
    ci: Interval | None
    n: int
    """Items paired (present in both runs, with an output in both)."""
    worse: int
    better: int
    p_value: float
    """Two-sided McNemar mid-p."""
    p_value_worse: float
    """One-sided McNemar mid-p for H1: the candidate's rate is higher."""
    verdict: str
    """``worse``, ``better`` or ``no significant difference`` at the interval's level."""

    def describe(self) -> str:
        """One line for notes and reports."""
        ci = f", 95% CI {self.ci.low:+.3f} to {self.ci.high:+.3f}" if self.ci else ""
        return (
            f"{self.rate} base {self.base:.3f} -> adapter {self.candidate:.3f} "
            f"({self.difference:+.3f}{ci}; {self.worse} item(s) worse, {self.better} better, "
            f"McNemar mid-p {self.p_value:.3g}, one-sided {self.p_value_worse:.3g}, "
            f"n={self.n}): {self.verdict}"
        )


class BaseModelSafety(BaseModel):
    """The same suite on the candidate adapter's base model, and the paired deltas."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_ref: str
    items: list[SafetyItem] = Field(default_factory=list)
    deltas: list[SafetyDelta] = Field(default_factory=list)


class SafetyReport(BaseModel):
    """The safety stage's findings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite_path: str
    items: list[SafetyItem] = Field(default_factory=list)
    base: BaseModelSafety | None = None
    """Set when the candidate is a PEFT adapter (and ``safety.compare_base`` is on)."""
    base_skip_reason: str | None = None
    """Why there is no base-model comparison, when there is none."""
    judge: JudgeOutcome | None = None
    """The judge safety rubric on free-text attack outputs (``safety.judge_free_text``)."""
