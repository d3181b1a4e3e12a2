"""Settings of the determinism check (``determinism:``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DeterminismSettings"]


class DeterminismSettings(BaseModel):
    """Regenerate a seeded sample of examples and count the outputs that changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    """Run the check: a seeded sample is generated a second time, one example per
    request (batch size 1) and never from the generation cache, and
    every output that differs from the first generation is listed. Turning it on also
    adds a warning gate ``determinism_changed_rate <= 0`` to the built-in gates."""
    sample_rate: float = Field(default=0.1, gt=0.0, le=1.0)
    """Share of the benchmark's examples regenerated (seeded by ``seed``)."""
    min_items: int = Field(default=20, ge=1)
    """At least this many examples are regenerated (all of them on a smaller benchmark)."""
