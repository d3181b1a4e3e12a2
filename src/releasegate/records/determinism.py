"""The determinism check's finding: which regenerated outputs changed, and why they may have."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DeterminismChange", "DeterminismReport"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeterminismChange(_Record):
    """One example whose regenerated output differs from its first output."""

    id: str
    first_diff_at: int
    """Character offset of the first difference (the shorter length when one output
    is a prefix of the other)."""
    before: str
    """Untrusted text: the first output around the difference (escape when shown)."""
    after: str
    """Untrusted text: the regenerated output around the difference."""


class DeterminismReport(_Record):
    """What the regeneration of a seeded sample found."""

    n_checked: int
    """Examples regenerated (both generations have an output)."""
    n_changed: int
    changed: list[DeterminismChange] = Field(default_factory=list)
    """Every changed example, in benchmark order."""
    n_failed: int = 0
    """Sampled examples without an output in either generation (not compared)."""
    batch_size: int
    """``generation.batch_size`` of the first generation."""
    check_batch_size: int
    """Batch size of the regeneration (1: every example alone)."""
    expected_to_change: bool = False
    """Sampling (``temperature`` > 0): outputs are expected to differ, and still measured."""
    causes: list[str] = Field(default_factory=list)
    """Likely causes this run can detect, most specific first."""
