"""Records of the red-team safety stage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
    reason: str = ""


class SafetyReport(BaseModel):
    """The safety stage's findings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite_path: str
    items: list[SafetyItem] = Field(default_factory=list)
