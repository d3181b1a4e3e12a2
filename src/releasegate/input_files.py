r"""Reading user-supplied files with bounded work and errors that name file and line.

Every loader (config, benchmark, red-team suite, replay, baseline) reads through
here, so that each of them:

- stops at a size cap instead of reading ``/dev/zero`` into memory;
- reports bytes that are not UTF-8 with the line they are on;
- splits JSON Lines on ``\n`` only (``\r\n`` tolerated): ``str.splitlines()`` also
  breaks at U+2028, U+2029 and U+0085, which ``json.dumps(ensure_ascii=False)``
  writes raw inside strings;
- turns JSON nested too deeply for the parser into an error, not a ``RecursionError``;
- replaces a lone surrogate (``"\ud800"`` is legal JSON but no Unicode text can hold it)
  with the visible text ``\ud800``, so that hashing, SQLite and every writer see text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from releasegate.errors import ReleaseGateError

MiB = 1024 * 1024
MAX_DATA_BYTES = 256 * MiB
"""Cap on a benchmark, red-team suite, replay or baseline file."""
MAX_CONFIG_BYTES = 1 * MiB
"""Cap on a YAML config file."""

ErrorFactory = Callable[[str], ReleaseGateError]


def read_bytes_capped(
    path: Path, *, what: str, limit: int = MAX_DATA_BYTES, error: ErrorFactory
) -> bytes:
    """Read at most ``limit`` bytes of ``path``; a longer file is an error.

    Reads in chunks, so a device or pipe that never ends costs ``limit`` bytes at most.

    Raises:
        ReleaseGateError: built by ``error``: unreadable, a directory, or over the cap.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        with path.open("rb") as handle:
            while size <= limit:
                chunk = handle.read(min(4 * MiB, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    if size > limit:
        raise error(
            f"{path}: the {what} is larger than {_size(limit)}; "
            "releasegate refuses inputs above that size"
        )
    return b"".join(chunks)


def decode_utf8(data: bytes, *, path: Path, what: str, error: ErrorFactory) -> str:
    """``data`` as UTF-8 text (a BOM is dropped), or an error naming the line.

    Raises:
        ReleaseGateError: built by ``error`` when a byte sequence is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise error(
            f"{path}:{line}: the {what} is not UTF-8 text (byte 0x{bad} at offset {exc.start})"
        ) from exc


def read_text_capped(
    path: Path, *, what: str, limit: int = MAX_DATA_BYTES, error: ErrorFactory
) -> str:
    """``read_bytes_capped`` then ``decode_utf8``."""
    data = read_bytes_capped(path, what=what, limit=limit, error=error)
    return decode_utf8(data, path=path, what=what, error=error)


def jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    r"""(1-based line number, line) on ``\n`` only; a trailing ``\r`` is dropped."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def visible_surrogates(text: str) -> str:
    r"""``text`` with each lone surrogate written as its escape (``\ud800``), visibly."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return visible_surrogates(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {visible_surrogates(k): _clean(v) for k, v in value.items()}
    return value


def _parse(text: str) -> Any:
    data = json.loads(text)
    # Only an escape can produce a surrogate (the text itself came from UTF-8).
    return _clean(data) if "\\u" in text else data


def loads_json(text: str, *, where: str, error: ErrorFactory) -> Any:
    """Parse one JSON document; ``where`` prefixes the message (``file:line``).

    Raises:
        ReleaseGateError: built by ``error``: invalid JSON or nested too deeply.
    """
    try:
        return _parse(text)
    except json.JSONDecodeError as exc:
        # Inside a JSONL line the line number is ``where``'s; in a whole document it is ours.
        raise error(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
    except RecursionError as exc:
        raise error(f"{where}: JSON nested too deeply to read") from exc


def loads_json_document(text: str, *, path: Path, error: ErrorFactory) -> Any:
    """Parse a whole JSON file; errors name the file and the line.

    Raises:
        ReleaseGateError: built by ``error``: invalid JSON or nested too deeply.
    """
    try:
        return _parse(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise error(f"{path}: JSON nested too deeply to read") from exc


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB else f"{limit} bytes"
