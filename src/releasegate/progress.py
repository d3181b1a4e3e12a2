"""Progress reporting: the pipeline reports, the CLI decides how to show it."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress events from long pipeline steps."""

    def start(self, step: str, *, total: int | None) -> None:
        """A step begins; ``total`` units of work, when known."""
        ...

    def advance(self, step: str, units: int = 1) -> None:
        """``units`` more units of ``step`` are done."""
        ...

    def finish(self, step: str, *, note: str = "") -> None:
        """The step is over."""
        ...


class NullProgress:
    """Reports nothing (the library default)."""

    def start(self, step: str, *, total: int | None) -> None:
        """Ignore."""

    def advance(self, step: str, units: int = 1) -> None:
        """Ignore."""

    def finish(self, step: str, *, note: str = "") -> None:
        """Ignore."""
