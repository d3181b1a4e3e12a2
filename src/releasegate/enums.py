"""Closed vocabularies shared by the config and the records: comparisons, gate types, bounds.

Imports nothing from inside the package.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from enum import Enum


class Vocabulary(str, Enum):
    """A string enum that prints as its value (``>=``, ``blocking``), on every Python."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


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


class Comparison(Vocabulary):
    """How a gate compares a metric with its threshold."""

    GREATER_THAN = ">"
    GREATER_EQUAL = ">="
    LESS_THAN = "<"
    LESS_EQUAL = "<="
    EQUAL = "=="

    @classmethod
    def parse(cls, raw: object) -> Comparison:
        """Accept the enum names in any case (``greater_equal``), symbols, and common aliases."""
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


class GateType(Vocabulary):
    """A blocking gate turns a failure into BLOCK; a warning gate only reports it."""

    BLOCKING = "blocking"
    WARNING = "warning"


class Bound(Vocabulary):
    """Which number a gate compares: the point estimate or an end of its 95% interval."""

    POINT = "point"
    CI_LOW = "ci_low"
    CI_HIGH = "ci_high"
