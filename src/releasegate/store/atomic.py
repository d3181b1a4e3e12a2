"""Atomic file writes: a crash or Ctrl-C never leaves a half-written file."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    r"""Write ``text`` to ``path`` via a temp file in the same folder and a rename.

    The temp file is created with mode 0666 minus the umask, like any new file, so
    reports and baselines stay readable by the CI user and artifact uploaders. A lone
    surrogate (no UTF-8 can hold one) is written as its escape ``\udXXX``: visible in
    text, and the very escape JSON reads back losslessly inside a JSON string.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
