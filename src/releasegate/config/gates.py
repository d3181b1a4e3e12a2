"""Quality-gate declarations (the seed's ``QualityGate``, ``GateType``, ``Comparison``)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

_COMPARISON_ALIASES: dict[str, str] = {
    ">": ">",
    "gt": ">",
    "greater": ">",
    "greater_than": ">",
    ">=": ">=",
    "ge": ">=",
    "gte": ">=",
    "greater_equal": ">=",
    "greater_than_or_equal": ">=",
    "greater_or_equal": ">=",
    "<": "<",
    "lt": "<",
    "less": "<",
    "less_than": "<",
    "<=": "<=",
    "le": "<=",
    "lte": "<=",
    "less_equal": "<=",
    "less_than_or_equal": "<=",
    "less_or_equal": "<=",
    "==": "==",
    "=": "==",
    "eq": "==",
    "equal": "==",
    "equals": "==",
}


class Comparison(str, Enum):
    """How a gate compares a metric with its threshold (the seed's enum)."""

    GREATER_THAN = ">"
    GREATER_EQUAL = ">="
    LESS_THAN = "<"
    LESS_EQUAL = "<="
    EQUAL = "=="

    @classmethod
    def parse(cls, raw: object) -> Comparison:
        """Accept the seed's enum names in any case, symbols, and common aliases."""
        if isinstance(raw, Comparison):
            return raw
        key = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
        key = key.removeprefix("comparison.")
        symbol = _COMPARISON_ALIASES.get(key)
        if symbol is None:
            choices = (
                "greater_than (>), greater_equal (>=), less_than (<), less_equal (<=), equal (==)"
            )
            raise ValueError(f"unknown comparison {raw!r}; use one of {choices}")
        return cls(symbol)

    @property
    def holds(self) -> Callable[[float, float], bool]:
        """The operator: ``comparison.holds(value, threshold)``."""
        ops: dict[str, Callable[[float, float], bool]] = {
            ">": operator.gt,
            ">=": operator.ge,
            "<": operator.lt,
            "<=": operator.le,
            "==": _close,
        }
        return ops[self.value]

    @property
    def wants_high(self) -> bool:
        """True when passing needs the metric high (so the pessimistic bound is ci_low)."""
        return self.value in (">", ">=")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


class GateType(str, Enum):
    """A blocking gate turns a failure into BLOCK; a warning gate only reports it."""

    BLOCKING = "blocking"
    WARNING = "warning"


Bound = Literal["point", "ci_low", "ci_high"]


class QualityGate(BaseModel):
    """One quality gate (SPEC §4.5)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str
    """Short name shown in reports and as the JUnit test case."""
    metric: str
    """Name of a metric some stage produces (e.g. ``accuracy``); a missing one is an error."""
    threshold: float
    """The value the metric is compared with."""
    comparison: Comparison
    """``greater_equal``/``>=`` etc.; the seed's enum names in any case or symbols."""
    gate_type: GateType = GateType.BLOCKING
    """``blocking`` (failure means BLOCK) or ``warning`` (failure is reported only)."""
    description: str = ""
    """What the gate protects, shown next to a failure."""
    bound: Bound = "point"
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
