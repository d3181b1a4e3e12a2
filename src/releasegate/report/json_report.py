"""``report.json``: the run record, versioned."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic_core import PydanticSerializationError

from releasegate.records.run import PipelineResult


def render_json(result: PipelineResult) -> str:
    """The whole record as indented JSON (stable top-level keys).

    Written by pydantic's serializer (compiled: ~7x the standard library's indented
    encoder, which is pure Python), which writes a non-finite number as ``null``, never
    as a bare ``NaN``, which is not JSON. It refuses lone surrogates (an output may hold
    one); such a record goes through ``json`` instead, and ``write_text_atomic`` writes
    them as JSON escapes, losslessly. Both give the same JSON value.
    """
    try:
        return result.model_dump_json(indent=2) + "\n"
    except PydanticSerializationError:
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
