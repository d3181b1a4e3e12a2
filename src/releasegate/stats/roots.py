"""Root finding for the interval inversions, with scipy.optimize imported on first use.

``scipy.optimize`` takes about 0.4 s to import (more on a busy machine), and a run
that compares nothing never needs it: a fully cached re-run should not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable


def brentq(f: Callable[[float], float], low: float, high: float, *, xtol: float) -> float:
    """The root of ``f`` in ``[low, high]`` (signs must differ at the ends): Brent's method."""
    from scipy import optimize

    return float(optimize.brentq(f, low, high, xtol=xtol))
