"""How many CPU threads a local backend should use, without oversubscribing.

torch's default is one thread per core of the *machine*. Inside a container limited
to two cores of a 64-core host, or beside another CPU-bound job, those threads
fight over too few cores, and OpenMP's spin-waiting turns that into a collapse: a
500-example run of the tiny example model took 131.7 s instead of 3.9 s on a busy
2-core machine (see docs/performance.md).

The default (``model.threads`` unset) is the cores this process may use (its CPU
affinity, capped by a cgroup CPU quota when one is set), less the load that other
processes already put on the machine (the 1-minute load average, rounded), and at
least 1. OpenMP is also told to wait passively (``OMP_WAIT_POLICY=PASSIVE``, unless
the environment sets it) when torch is not yet imported, so that load arriving
after start-up slows a run down instead of stalling it.

Nothing here imports torch.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

__all__ = ["default_threads", "prepare_openmp", "usable_cores"]

_CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1 = (
    Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
    Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def cgroup_quota(root: Path | None = None) -> float | None:
    """The cgroup CPU quota in cores (``cpu.max`` or ``cfs_quota_us``), or None if unlimited.

    Args:
        root: A directory standing in for ``/sys/fs/cgroup`` (tests).
    """
    v2 = root / "cpu.max" if root else _CGROUP_V2
    v1 = (
        (root / "cpu" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_period_us")
        if root
        else _CGROUP_V1
    )
    try:
        quota, period = v2.read_text().split()[:2]
        if quota != "max" and float(period) > 0:
            return float(quota) / float(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = float(v1[0].read_text())
        period_us = float(v1[1].read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def usable_cores(cgroup_root: Path | None = None) -> int:
    """Cores this process may run on: its affinity set, capped by the cgroup quota."""
    cores = _affinity()
    quota = cgroup_quota(cgroup_root)
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def _other_load(cores: int) -> int:
    """Cores' worth of work that other processes are running now (1-minute load average)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0
    return min(cores - 1, round(load)) if cores > 1 else 0


def default_threads(cgroup_root: Path | None = None) -> int:
    """Threads for a local backend when ``model.threads`` is unset (see the module docstring)."""
    cores = usable_cores(cgroup_root)
    return max(1, cores - _other_load(cores))


def prepare_openmp() -> None:
    """Ask OpenMP to wait passively, if torch is not imported yet and the user set nothing."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
