"""Paired comparison of per-example means when either run drew each example several times.

With ``generation.repeats`` k > 1 an example's outcome is the share c/n of its
draws that pass. The candidate's and the baseline's examples still pair by id and
input hash; each side contributes its own per-example mean (a baseline run with
one draw contributes 0 or 1), and the paired t family of
:func:`releasegate.regression.rule.assess_paired_scores` compares the means, with
the spread floored at one step of the finer mean (1/k).
"""

from __future__ import annotations

from collections.abc import Sequence

from releasegate.config.regression import RegressionSettings
from releasegate.records.baseline import BaselineExample
from releasegate.records.core import ExampleResult
from releasegate.regression.rule import Assessment, assess_paired_scores

__all__ = ["assess_draw_means", "has_draws"]


def has_draws(pairs: Sequence[tuple[ExampleResult, BaselineExample]], outcome: str) -> bool:
    """True when either side recorded several draws of ``outcome`` for some pair."""
    return any(outcome in cur.draw_outcomes or outcome in old.draw_outcomes for cur, old in pairs)


def assess_draw_means(
    name: str,
    pairs: Sequence[tuple[ExampleResult, BaselineExample]],
    outcome: str,
    *,
    settings: RegressionSettings,
    higher_is_better: bool,
    attempt: int,
) -> tuple[Assessment, list[tuple[float, float]]] | None:
    """Compare (baseline mean, candidate mean) per pair; None with fewer than two pairs."""
    rows: list[tuple[float, float]] = []
    finest = 1
    for cur, old in pairs:
        now, before = cur.draw_counts(outcome), old.draw_counts(outcome)
        if now is None or before is None:
            continue
        rows.append((before[0] / before[1], now[0] / now[1]))
        finest = max(finest, now[1], before[1])
    if len(rows) < 2:
        return None
    assessment = assess_paired_scores(
        name,
        [b for b, _ in rows],
        [c for _, c in rows],
        settings=settings,
        higher_is_better=higher_is_better,
        scale=1.0,
        resolution=1.0 / finest,
        attempt=attempt,
    )
    assessment.notes.insert(
        0, f"{name}: per-example means over repeated draws (up to {finest} per example)"
    )
    return assessment, rows
