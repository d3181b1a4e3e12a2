"""Stored judge calibrations: ``judge-check`` results keyed by the judge configuration hash.

One JSON file (default ``<output.dir>/judge_calibration.json``, beside the judge
cache) maps each judge config hash to its latest calibration: agreement, Cohen's
kappa and the confusion matrix per criterion, n and the date. A changed rubric,
model or prompt version is another hash, so it has no calibration until
``judge-check`` runs again. Writes are atomic; a file that does not read as a
store is an error naming it, never an empty store.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate.errors import InputError
from releasegate.input_files import loads_json, read_text_capped
from releasegate.judge.calibration import CriterionAgreement, JudgeCheckReport
from releasegate.store.atomic import write_text_atomic

STORE_FILE = "judge_calibration.json"


class StoredCalibration(BaseModel):
    """One judge configuration's calibration result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_hash: str
    provider: str | None
    model: str | None
    created_at: str
    calibration_file: str
    calibration_sha256: str
    n_items: int
    n_judged: int
    agreement: float | None
    """Mean exact agreement over the criteria."""
    criteria: list[CriterionAgreement]

    @property
    def min_kappa_quadratic(self) -> float | None:
        """The lowest quadratic-weighted kappa; None when any criterion's is undefined."""
        values = [c.kappa_quadratic for c in self.criteria]
        if not values or any(v is None for v in values):
            return None
        return min(v for v in values if v is not None)


class CalibrationStore(BaseModel):
    """The whole file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    kind: Literal["releasegate-judge-calibration"] = "releasegate-judge-calibration"
    entries: dict[str, StoredCalibration] = Field(default_factory=dict)


def load_store(path: Path) -> CalibrationStore:
    """The store at ``path``; an absent file is an empty store.

    Raises:
        InputError: the file exists but is not a calibration store.
    """
    if not path.exists():
        return CalibrationStore()
    text = read_text_capped(path, what="judge calibration store", error=InputError)
    data = loads_json(text, where=str(path), error=InputError)
    try:
        return CalibrationStore.model_validate(data)
    except ValidationError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"{path}: not a judge calibration store: {first}") from exc


def lookup(path: Path, config_hash: str) -> StoredCalibration | None:
    """The stored calibration for ``config_hash``, if any."""
    return load_store(path).entries.get(config_hash)


def entry_from_report(
    report: JudgeCheckReport,
    *,
    provider: str | None,
    model: str | None,
    calibration_file: Path,
    now: datetime | None = None,
) -> StoredCalibration:
    """The store entry for one ``judge-check`` result."""
    accuracies = [c.accuracy for c in report.criteria if c.accuracy is not None]
    return StoredCalibration(
        config_hash=report.config_hash,
        provider=provider,
        model=model,
        created_at=(now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        calibration_file=str(calibration_file),
        calibration_sha256=hashlib.sha256(calibration_file.read_bytes()).hexdigest(),
        n_items=report.n_items,
        n_judged=report.n_judged,
        agreement=sum(accuracies) / len(accuracies) if accuracies else None,
        criteria=list(report.criteria),
    )


def record(path: Path, entry: StoredCalibration) -> None:
    """Store ``entry`` under its config hash (replacing an older one), atomically."""
    store = load_store(path)
    entries = {**store.entries, entry.config_hash: entry}
    updated = store.model_copy(update={"entries": entries})
    write_text_atomic(path, updated.model_dump_json(indent=2) + "\n")
