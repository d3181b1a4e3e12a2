"""The releasegate exception tree.

Every error the package raises on purpose is a ``ReleaseGateError``; the CLI turns
each into one line on stderr and an exit code (2 for any error). Errors
from SDKs and libraries are wrapped with ``raise ... from exc`` at the boundary.

::

    ReleaseGateError (exit 2)
    ├── ConfigError             bad or unknown config keys, values, files
    ├── InputError              bad benchmark / replay / baseline files
    │   ├── BenchmarkError
    │   └── BaselineError
    ├── OutputError             an output location (run dir, baseline, history, summary)
    │                           cannot be written; checked before any model runs
    ├── MissingDependencyError  an optional extra is not installed
    ├── BackendError            a model backend failed to load or generate
    └── StageError              a pipeline stage failed (the run becomes ERROR)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class ReleaseGateError(Exception):
    """Base class; ``exit_code`` is what the CLI returns for it."""

    exit_code: int = 2


class ConfigError(ReleaseGateError):
    """The configuration is invalid: names the file, the field path and the line."""


class InputError(ReleaseGateError):
    """An input file (benchmark, replay, baseline) is invalid."""


class BenchmarkError(InputError):
    """The benchmark file is invalid: names the file, line and field."""


class BaselineError(InputError):
    """The baseline file is missing, unreadable or incompatible."""


class OutputError(ReleaseGateError):
    """An output location cannot be written: names the file and what it is for."""


class MissingDependencyError(ReleaseGateError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, feature: str, *, extra: str) -> None:
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'releasegate[{extra}]'")
        self.feature = feature
        self.extra = extra


class BackendError(ReleaseGateError):
    """A model backend could not load the model or produce outputs."""


class StageError(ReleaseGateError):
    """A pipeline stage failed; the run's decision becomes ERROR."""


def describe_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    """The first problem of a pydantic validation error as ``dotted.path: message``.

    Args:
        exc: The pydantic error.
        prefix: Prepended to the path (e.g. ``judge.``), to name it as the user wrote it.
    """
    first = exc.errors()[0]
    where = prefix + ".".join(str(p) for p in first["loc"])
    more = f" (+{len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    return f"{where}: {first['msg']}{more}"
