"""Calibration files: written atomically, read strictly, and used only where they belong.

A noise floor describes one model on one benchmark. Attaching it to a run of
another model, or showing it beside a comparison on another benchmark, would
put a number next to a difference it says nothing about, so both are refused
with the fingerprints named (:class:`CalibrationMismatch`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from releasegate.errors import InputError, describe_validation_error
from releasegate.input_files import loads_json_document, read_text_capped
from releasegate.records.calibration import (
    CALIBRATION_KIND,
    CALIBRATION_SCHEMA_VERSION,
    NoiseFloor,
)
from releasegate.store.atomic import write_text_atomic


class CalibrationError(InputError):
    """A calibration file is unreadable or not a releasegate calibration."""


class CalibrationMismatch(CalibrationError):
    """A calibration measured on another model or benchmark than the one it is used for."""


def write_noise_floor(path: Path, noise: NoiseFloor) -> None:
    """Write atomically: a crash never leaves a half-written calibration."""
    write_text_atomic(path, noise.model_dump_json(indent=1) + "\n")


def load_noise_floor(path: str | Path) -> NoiseFloor:
    """Read a ``calibration.json`` written by ``releasegate calibrate``.

    Raises:
        CalibrationError: unreadable, not JSON, another kind or schema version, invalid.
    """
    file = Path(path)
    text = read_text_capped(file, what="calibration", error=CalibrationError)
    data = loads_json_document(text, path=file, error=CalibrationError)
    if not isinstance(data, dict) or data.get("kind") != CALIBRATION_KIND:
        raise CalibrationError(
            f'{file}: not a releasegate calibration (expected "kind": "{CALIBRATION_KIND}"; '
            "write one with releasegate calibrate)"
        )
    version = data.get("schema_version")
    if version != CALIBRATION_SCHEMA_VERSION:
        raise CalibrationError(
            f"{file}: schema_version {version!r} is not supported "
            f"(this releasegate reads {CALIBRATION_SCHEMA_VERSION})"
        )
    try:
        return NoiseFloor.model_validate(data)
    except ValidationError as exc:
        raise CalibrationError(f"{file}: {describe_validation_error(exc)}") from exc


def check_noise_floor(
    noise: NoiseFloor,
    *,
    source: str,
    benchmark_fingerprint: str,
    model_fingerprint: str | None = None,
) -> None:
    """Refuse a calibration of another benchmark (and, when given, another model).

    Raises:
        CalibrationMismatch: naming both fingerprints.
    """
    if noise.benchmark_fingerprint != benchmark_fingerprint:
        raise CalibrationMismatch(
            f"{source}: the calibration was measured on benchmark {noise.benchmark_name} "
            f"({noise.benchmark_fingerprint[:19]}), not on this run's benchmark "
            f"({benchmark_fingerprint[:19]}); run releasegate calibrate on this benchmark"
        )
    if model_fingerprint is not None and noise.model_fingerprint != model_fingerprint:
        raise CalibrationMismatch(
            f"{source}: the calibration was measured for model {noise.model_ref} "
            f"({noise.model_fingerprint[:19]}), not for this run's model "
            f"({model_fingerprint[:19]}); a noise floor describes one model: run "
            "releasegate calibrate on this one"
        )
