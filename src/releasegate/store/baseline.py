"""Baseline files: what a passing run leaves for the next run to compare against.

A baseline holds the metrics with their intervals and per-example outcomes keyed by
id and input hash, so that the next run can pair examples. A flat
classic-style file (``{"accuracy": 0.87, ...}``) is accepted too, for unpaired
comparison only.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import ValidationError

from releasegate.errors import BaselineError, describe_validation_error
from releasegate.input_files import loads_json_document, read_text_capped
from releasegate.records.baseline import (
    BASELINE_KIND,
    BASELINE_SCHEMA_VERSION,
    Baseline,
    FlatBaseline,
)
from releasegate.store.atomic import write_text_atomic


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write atomically: a crash never leaves a half-written baseline."""
    write_text_atomic(path, baseline.model_dump_json(indent=1) + "\n")


def load_baseline(path: str | Path) -> Baseline | FlatBaseline:
    """Read a full or flat baseline.

    Raises:
        BaselineError: unreadable, not JSON, an unknown schema version, or neither form.
    """
    file = Path(path)
    text = read_text_capped(file, what="baseline", error=BaselineError)
    data = loads_json_document(text, path=file, error=BaselineError)
    if not isinstance(data, dict):
        raise BaselineError(f"{file}: a baseline must be a JSON object")
    if data.get("kind") == BASELINE_KIND:
        version = data.get("schema_version")
        if version != BASELINE_SCHEMA_VERSION:
            raise BaselineError(
                f"{file}: schema_version {version!r} is not supported "
                f"(this releasegate reads {BASELINE_SCHEMA_VERSION})"
            )
        try:
            return Baseline.model_validate(data)
        except ValidationError as exc:
            raise BaselineError(f"{file}: {describe_validation_error(exc)}") from exc
    return _flat(file, data)


def _flat(file: Path, data: dict[str, object]) -> FlatBaseline:
    metrics: dict[str, float] = {}
    for key, value in data.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise BaselineError(
                f"{file}: {key}: not a releasegate baseline, and a flat baseline needs numbers "
                f"only (got {type(value).__name__})"
            )
        metrics[key] = float(value)
    if not metrics:
        raise BaselineError(f"{file}: the baseline has no metrics")
    return FlatBaseline(path=str(file), metrics=metrics)
