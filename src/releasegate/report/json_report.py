"""``report.json``: the run record, versioned."""

from __future__ import annotations

from releasegate.records.run import PipelineResult


def render_json(result: PipelineResult) -> str:
    """The whole record as indented JSON (stable top-level keys)."""
    return result.model_dump_json(indent=2) + "\n"


def load_json(text: str) -> PipelineResult:
    """Parse a saved ``report.json`` back into the record."""
    return PipelineResult.model_validate_json(text)
