"""Stale baselines: too old, or measured on another benchmark or judge configuration.

A stale baseline still compares (the regression check pairs what it can), but every
report says why its verdict may be comparing against the wrong bar.
"""

from __future__ import annotations

from datetime import datetime, timezone

from releasegate.records.baseline import Baseline, FlatBaseline


def staleness_warnings(
    baseline: Baseline | FlatBaseline,
    *,
    benchmark_fingerprint: str,
    judge_config_hash: str | None,
    max_age_days: float | None,
    now: datetime | None = None,
) -> list[str]:
    """Why the baseline may be stale; empty when it is current.

    Args:
        baseline: the loaded baseline.
        benchmark_fingerprint: this run's benchmark fingerprint.
        judge_config_hash: this run's judge configuration hash (None: no judge).
        max_age_days: the configured age limit (``gates.baseline_max_age_days``), or None.
        now: the current time (for tests); default the UTC clock.
    """
    if isinstance(baseline, FlatBaseline):
        return [
            f"stale baseline?: {baseline.path} is a flat baseline, which records no date, "
            "benchmark or judge configuration; none of them can be checked"
        ]
    found: list[str] = []
    age = _age_days(baseline.created_at, now or datetime.now(timezone.utc))
    if age is None:
        found.append(f"stale baseline?: created_at {baseline.created_at!r} is not a timestamp")
    elif max_age_days is not None and age > max_age_days:
        found.append(
            f"stale baseline: run {baseline.run_id} is {age:.0f} days old "
            f"(gates.baseline_max_age_days is {max_age_days:g})"
        )
    if baseline.benchmark_fingerprint != benchmark_fingerprint:
        found.append(
            f"stale baseline: run {baseline.run_id} was measured on another benchmark "
            f"({baseline.benchmark_name} {baseline.benchmark_fingerprint[:19]}, this run "
            f"{benchmark_fingerprint[:19]})"
        )
    recorded = baseline.judge_config_hash or (
        baseline.judge.config_hash if baseline.judge else None
    )
    # Baselines that record their bar also record "no judge" as None; older ones cannot.
    known = recorded is not None or baseline.passed_under is not None
    if known and recorded != judge_config_hash:
        found.append(
            f"stale baseline: run {baseline.run_id} used another judge configuration "
            f"({recorded or 'none'}, this run {judge_config_hash or 'none'})"
        )
    return found


def _age_days(created_at: str, now: datetime) -> float | None:
    try:
        created = datetime.fromisoformat(created_at)
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return (now - created).total_seconds() / 86400.0
