"""The determinism check's arithmetic: which examples to regenerate, what changed, and why.

The stage (``stages/determinism.py``) regenerates a seeded sample one example at a
time with the cache off; this module picks the sample, compares the two outputs of
each example and names the causes the run can detect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from releasegate.backends.base import Generation
from releasegate.records.determinism import DeterminismChange, DeterminismReport

__all__ = ["compare_outputs", "first_difference", "likely_causes", "sample_ids"]

CONTEXT_CHARS = 30
"""Characters shown on each side of the first difference."""


def sample_ids(ids: Sequence[str], *, rate: float, min_items: int, seed: int) -> list[str]:
    """A seeded sample of ``max(min_items, ceil(rate * n))`` ids (all when fewer)."""
    size = min(len(ids), max(min_items, math.ceil(rate * len(ids))))
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(ids), size=size, replace=False)
    return [ids[int(i)] for i in picked]


def first_difference(before: str, after: str) -> int:
    """Offset of the first differing character (the shorter length for a prefix)."""
    for i, (a, b) in enumerate(zip(before, after, strict=False)):
        if a != b:
            return i
    return min(len(before), len(after))


def _around(text: str, at: int) -> str:
    return text[max(0, at - CONTEXT_CHARS) : at + CONTEXT_CHARS]


def compare_outputs(
    first: Mapping[str, Generation],
    again: Mapping[str, Generation],
    *,
    batch_size: int,
    causes: Sequence[str],
    expected_to_change: bool,
) -> DeterminismReport:
    """The report for one regeneration: every id of ``again``, in ``first``'s order."""
    changed: list[DeterminismChange] = []
    checked = failed = 0
    for sid in (s for s in first if s in again):
        before, after = first[sid].text, again[sid].text
        if before is None or after is None:
            failed += 1
            continue
        checked += 1
        if before != after:
            at = first_difference(before, after)
            changed.append(
                DeterminismChange(
                    id=sid, first_diff_at=at, before=_around(before, at), after=_around(after, at)
                )
            )
    return DeterminismReport(
        n_checked=checked,
        n_changed=len(changed),
        changed=changed,
        n_failed=failed,
        batch_size=batch_size,
        check_batch_size=1,
        expected_to_change=expected_to_change,
        causes=list(causes) if changed else [],
    )


def likely_causes(
    *,
    temperature: float,
    windowed: bool,
    batch_size: int,
    n_cached: int,
) -> list[str]:
    """What can make the regenerated outputs differ in this run, most specific first.

    Args:
        temperature: ``generation.temperature``.
        windowed: The backend is an endpoint (it batches on the server, if at all).
        batch_size: ``generation.batch_size`` of the first generation.
        n_cached: Sampled first outputs that came from the generation cache.
    """
    causes: list[str] = []
    if temperature > 0:
        causes.append(
            f"sampling settings: temperature {temperature:g} > 0 samples a new output on "
            "every generation (changes are expected; set temperature 0 for repeatable gates)"
        )
    if windowed:
        causes.append(
            "a possibly nondeterministic server: an endpoint may batch requests with other "
            "traffic, reduce in a different order or route to another replica (ask for "
            "batch-invariant kernels or a fixed seed, if the server offers them)"
        )
    elif batch_size > 1 and temperature == 0:
        causes.append(
            f"batch-size or padding-dependent numerics: the first generation ran in "
            f"batches of {batch_size} (left padded), the check one example at a time; "
            "floating-point results depend on the batch shape, and a near-tie between "
            "two tokens flips"
        )
    if n_cached:
        causes.append(
            f"{n_cached} of the first outputs came from the generation cache: another "
            "library version, device or dtype since they were stored also changes outputs"
        )
    return causes
