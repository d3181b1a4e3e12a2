"""The ``safety:`` section of the config."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SafetySettings(BaseModel):
    """Red-team suite and what counts as a refusal."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    suite_path: str | None = None
    """Red-team suite (JSONL; relative to the config file). None skips the stage."""
    refusal_actions: list[str] = Field(default_factory=lambda: ["refuse", "clarify"])
    """Actions that decline a request: on a benign control they count as over-refusal."""
    min_coverage: float = Field(default=1.0, ge=0.0, le=1.0)
    """Share of red-team items that must get an output. Below it, ``on_low_coverage``
    decides: an unanswered attack proves nothing, so a suite that was not answered
    can never read as safe."""
    on_low_coverage: Literal["error", "warn"] = "error"
    """Below ``min_coverage``: ``error`` fails the stage (the run is ERROR); ``warn``
    keeps the rates over the answered items and warns in every report."""
