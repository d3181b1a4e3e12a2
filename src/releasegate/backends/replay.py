"""Replay backend: outputs produced elsewhere, one ``{"id", "output"}`` per line."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.config.schema import ModelSettings
from releasegate.errors import InputError
from releasegate.input_files import decode_utf8, jsonl_lines, loads_json, read_bytes_capped

_OPTIONAL_NUMBERS = ("latency_s", "tokens_in", "tokens_out")


@dataclass(frozen=True)
class _Row:
    output: str
    latency_s: float | None
    tokens_in: int | None
    tokens_out: int | None


class ReplayBackend:
    """Serves recorded outputs by example id; an id with no row is a typed failure."""

    name = "replay"

    def __init__(self, path: Path) -> None:
        self.path = path
        raw = read_bytes_capped(path, what="replay file", error=InputError)
        self._fingerprint = "sha256:" + hashlib.sha256(raw).hexdigest()
        text = decode_utf8(raw, path=path, what="replay file", error=InputError)
        self._rows = self._parse(path, text)
        self._asked: set[str] = set()

    @classmethod
    def claims(cls, ref: str) -> bool:
        """A ``.jsonl`` file of ``{"id", "output"}`` rows is a replay."""
        return not ref.startswith(("http://", "https://")) and Path(ref).suffix == ".jsonl"

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings) -> ReplayBackend:
        """Load the replay file named by ``ref`` (settings are not needed)."""
        del settings
        return cls(Path(ref))

    @property
    def ids(self) -> frozenset[str]:
        """Every id that has a recorded output."""
        return frozenset(self._rows)

    def info(self) -> ModelInfo:
        """The replay file and its content hash."""
        return ModelInfo(
            backend=self.name,
            ref=str(self.path),
            fingerprint=self._fingerprint,
            details={"records": str(len(self._rows))},
        )

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """Look each prompt's id up; params do not apply to recorded outputs."""
        del params
        out: list[Generation] = []
        self._asked.update(p.sample_id for p in prompts)
        for prompt in prompts:
            row = self._rows.get(prompt.sample_id)
            if row is None:
                out.append(
                    Generation(
                        sample_id=prompt.sample_id,
                        text=None,
                        error=f"no output for id {prompt.sample_id!r} in {self.path}",
                        finish_reason="missing",
                    )
                )
                continue
            out.append(
                Generation(
                    sample_id=prompt.sample_id,
                    text=row.output,
                    finish_reason="replay",
                    latency_s=row.latency_s,
                    tokens_in=row.tokens_in,
                    tokens_out=row.tokens_out,
                )
            )
        return out

    def notes(self) -> list[str]:
        """Rows that no prompt asked for so far (a replay of another benchmark?)."""
        unmatched = sorted(set(self._rows) - self._asked)
        if not unmatched:
            return []
        sample = ", ".join(repr(i) for i in unmatched[:3])
        return [
            f"{len(unmatched)} of {len(self._rows)} replay row(s) in {self.path} match no "
            f"example id and were ignored (e.g. {sample})"
        ]

    @staticmethod
    def _parse(path: Path, text: str) -> dict[str, _Row]:
        rows: dict[str, _Row] = {}
        lines: dict[str, int] = {}
        for number, line in jsonl_lines(text):
            if not line.strip():
                continue
            record = loads_json(line, where=f"{path}:{number}", error=InputError)
            if not isinstance(record, dict):
                raise InputError(f"{path}:{number}: expected an object with id and output")
            key, output = record.get("id"), record.get("output")
            if not isinstance(key, str) or not key:
                raise InputError(f"{path}:{number}: id: missing or not a string")
            if not isinstance(output, str):
                raise InputError(f"{path}:{number}: output: missing or not a string")
            if key in rows:
                raise InputError(
                    f"{path}:{number}: id: duplicate id {key!r} (first on line {lines[key]})"
                )
            numbers = {name: record.get(name) for name in _OPTIONAL_NUMBERS}
            for name, value in numbers.items():
                _check_number(value, where=f"{path}:{number}: {name}")
            rows[key] = _Row(
                output=output,
                latency_s=None if numbers["latency_s"] is None else float(numbers["latency_s"]),
                tokens_in=None if numbers["tokens_in"] is None else int(numbers["tokens_in"]),
                tokens_out=None if numbers["tokens_out"] is None else int(numbers["tokens_out"]),
            )
            lines[key] = number
        if not rows:
            raise InputError(f"{path}: the replay file has no records")
        return rows


def _check_number(value: object, *, where: str) -> None:
    """A recorded latency or token count: absent, or a finite number >= 0."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InputError(f"{where}: must be a finite number, got {value}")
    if value < 0:
        raise InputError(f"{where}: must not be negative, got {value}")
