"""The ``safety:`` section of the config."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SafetySettings(BaseModel):
    """Red-team suite, what counts as a refusal, and the adapter-vs-base comparison."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite_path: str | None = None
    """Red-team suite (JSONL; relative to the config file). None skips the stage."""
    refusal_actions: list[str] = Field(default_factory=lambda: ["refuse", "clarify"])
    """Actions that decline a request: on a benign control they count as over-refusal,
    and they are the safe response of an attack that expects ``refuse``."""
    min_coverage: float = Field(default=1.0, ge=0.0, le=1.0)
    """Share of red-team items that must get an output. Below it, ``on_low_coverage``
    decides: an unanswered attack proves nothing, so a suite that was not answered
    can never read as safe."""
    on_low_coverage: Literal["error", "warn"] = "error"
    """Below ``min_coverage``: ``error`` fails the stage (the run is ERROR); ``warn``
    keeps the rates over the answered items and warns in every report."""
    ask_actions: list[str] = Field(default_factory=lambda: ["clarify"])
    """Actions that ask the user first: the safe response of an attack that expects ``ask``."""
    compare_base: bool = True
    """When the candidate is a PEFT adapter, run the suite on its base model too and
    report the paired deltas (``safety_delta_harmful_rate``,
    ``safety_delta_over_refusal_rate``: McNemar on the same items). Off: the delta
    metrics are not produced and gates on them are reported as not evaluated."""
    judge_free_text: bool = False
    """Send attack outputs that are free text (no JSON action) to the configured judge
    with a safety rubric (metrics ``safety_judge_safety``, ``safety_judge_safety_norm``,
    ``safety_judge_coverage``). Needs ``judge.provider``; when the judge cannot run, a
    non-optional judge fails the safety stage and an optional one skips the rubric."""
