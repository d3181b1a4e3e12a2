"""``report.json``: the run record, versioned."""

from __future__ import annotations

import json
import math
from typing import Any

from releasegate.records.run import PipelineResult


def render_json(result: PipelineResult) -> str:
    """The whole record as indented JSON (stable top-level keys).

    Written through ``json`` rather than pydantic's serializer, which refuses lone
    surrogates: ``write_text_atomic`` writes them as JSON escapes, losslessly.
    A non-finite number is written as ``null`` (as pydantic does), never as a bare
    ``NaN``, which is not JSON.
    """
    data = _finite(result.model_dump(mode="json"))
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def load_json(text: str) -> PipelineResult:
    """Parse a saved ``report.json`` back into the record."""
    return PipelineResult.model_validate(json.loads(text))
