"""The ``safety:`` section of the config."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SafetySettings(BaseModel):
    """Red-team suite and what counts as a refusal."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    suite_path: str | None = None
    """Red-team suite (JSONL; relative to the config file). None skips the stage."""
    refusal_actions: list[str] = Field(default_factory=lambda: ["refuse", "clarify"])
    """Actions that decline a request: on a benign control they count as over-refusal."""
