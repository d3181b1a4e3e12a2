"""SIGINT and SIGTERM: both stop a run the same way, and publishing is never cut in half.

CI sends SIGTERM when a job is cancelled, a user presses Ctrl-C (SIGINT). Both
become ``KeyboardInterrupt`` in the main thread, so every cleanup path written for
Ctrl-C (atomic writes, the generation cache's commits, the publish rollback) runs
for SIGTERM too. The exit code is the shell convention, 128 + the signal number:
130 for SIGINT, 143 for SIGTERM.

``deferred()`` blocks both signals around the few renames that make a run visible,
so that a signal arriving there is handled right after, never in between.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_HANDLED = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []


def _raise(signum: int, frame: FrameType | None) -> None:
    """Record the signal, then interrupt as Ctrl-C would at this moment.

    Inside ``asyncio.run`` the SIGINT handler is asyncio's: it cancels the main task
    and raises ``KeyboardInterrupt`` once the loop has unwound. Raising here instead
    could land in an async generator's clean-up, where Python reports the exception
    and drops it, and the run would go on to publish.
    """
    _received.append(signum)
    on_sigint = signal.getsignal(signal.SIGINT)
    if callable(on_sigint) and on_sigint is not signal.default_int_handler:
        on_sigint(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Turn SIGTERM into ``KeyboardInterrupt`` while the block runs (SIGINT already is).

    SIGINT keeps Python's own handler, which asyncio (the endpoint and judge clients)
    knows how to turn into a clean cancellation; SIGTERM goes the same way.
    """
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def last_signal() -> signal.Signals:
    """The signal that caused the latest interrupt (SIGINT when none was recorded)."""
    return signal.Signals(_received[-1]) if _received else signal.SIGINT


def exit_code(signum: int) -> int:
    """128 + the signal number, as a shell reports a process killed by it."""
    return 128 + int(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends (where the platform allows it)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = mask(signal.SIG_BLOCK, set(_HANDLED))
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)
