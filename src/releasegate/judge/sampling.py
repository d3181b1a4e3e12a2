"""Seeded, stratified, nested sampling of the items to judge.

Within each category the items are ranked by ``sha256(f"{seed}:{id}")``. The
item of rank ``r`` (0-based) in a category of size ``N_c`` gets the priority
``(r + 0.5) / N_c``, the share of its category that is reached when it is taken;
a sample of size ``n`` is the ``n`` items with the smallest priority (ties broken
by the hash). That allocates ``n`` proportionally to the category sizes (each
within one item of ``n * N_c / N``), and a smaller sample is always a subset of a
larger one, so a budget shrink keeps the items that a full run would judge, and
a baseline and a candidate on the same benchmark and seed judge the same items.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence

from releasegate.benchmark.model import Example

SAMPLE_METHOD = "stratified-by-category/sha256(seed:id)-rank/proportional-nested"


def target_size(total: int, *, rate: float, minimum: int, maximum: int | None) -> int:
    """``max(minimum, ceil(rate * total))``, capped by ``maximum`` and by ``total``."""
    n = max(minimum, math.ceil(rate * total - 1e-9))
    if maximum is not None:
        n = min(n, maximum)
    return min(n, total)


def _hash_rank(seed: int, example_id: str) -> str:
    return hashlib.sha256(f"{seed}:{example_id}".encode()).hexdigest()


def priority_order(examples: Sequence[Example], seed: int) -> list[Example]:
    """All examples in sampling order: the first ``n`` are the sample of size ``n``."""
    strata: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        strata[ex.category].append(ex)
    keyed: list[tuple[float, str, Example]] = []
    for members in strata.values():
        ranked = sorted(members, key=lambda e: _hash_rank(seed, e.id))
        size = len(ranked)
        for r, ex in enumerate(ranked):
            keyed.append(((r + 0.5) / size, _hash_rank(seed, ex.id), ex))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [ex for _, _, ex in keyed]
