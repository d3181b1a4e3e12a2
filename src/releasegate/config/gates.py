"""Quality-gate declarations: ``QualityGate`` (with ``GateType``, ``Comparison``, ``Bound``)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, field_validator

from releasegate.enums import Bound, Comparison, GateType

__all__ = ["Bound", "Comparison", "GateType", "QualityGate"]


class QualityGate(BaseModel):
    """One quality gate: ``metric comparison threshold``, blocking or warning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Short name shown in reports and as the JUnit test case."""
    metric: str
    """Name of a metric some stage produces (e.g. ``accuracy``); a missing one is an error."""
    threshold: float
    """The value the metric is compared with: a finite number in the metric's range
    (rates are 0–1: write 0.05, not 5), checked before any model runs."""
    comparison: Comparison
    """``greater_equal``/``>=`` etc.: enum names in any case, or the symbols."""
    gate_type: GateType = GateType.BLOCKING
    """``blocking`` (failure means BLOCK) or ``warning`` (failure is reported only)."""
    description: str = ""
    """What the gate protects, shown next to a failure."""
    bound: Bound = Bound.POINT
    """Which number is compared: the point estimate, or a bound of the metric's 95%
    interval (``ci_low``/``ci_high``, each a 97.5% one-sided bound) so that the gate
    demands confidence, not luck. A bound on a metric without an interval is an error."""

    @field_validator("comparison", mode="before")
    @classmethod
    def _parse_comparison(cls, raw: object) -> Comparison:
        return Comparison.parse(raw)

    @field_validator("gate_type", mode="before")
    @classmethod
    def _parse_gate_type(cls, raw: object) -> object:
        if isinstance(raw, str):
            return raw.strip().lower().removeprefix("gatetype.")
        return raw

    @field_validator("threshold", mode="before")
    @classmethod
    def _finite_number(cls, raw: object) -> object:
        # YAML reads `true`, `.nan` and `-.inf` as values; none is a threshold.
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"threshold must be a number, got {raw!r}")
        if not math.isfinite(raw):
            raise ValueError(f"threshold must be a finite number, got {raw!r}")
        return raw
