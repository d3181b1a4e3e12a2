"""The perturbation check: judge a seeded few items again in another prompt layout.

The second layout lists the criteria in reverse order, relabels the fences
(REQUEST / EXPECTED / RESPONSE instead of INPUT / REFERENCE / OUTPUT) and puts the
output before the reference. The content is the same, so a trustworthy judge gives
the same per-criterion scores; the share that changes is
``judge_perturbation_flip_rate``. The perturbed prompt is another cache key, and
its calls go through the run's ledger, so they count against the judge budget;
when the budget cannot cover them the result is ``unknown``, never a pass.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping, Sequence

from releasegate.config.judge import JudgeConfig, JudgeHealthConfig
from releasegate.judge.prompt import PERTURBED
from releasegate.judge.runner import RunState, WorkItem, estimate_cost, judge_all, make_work_item
from releasegate.records.judge import JudgeItem, PerturbationResult

MIN_ITEMS = 3
"""Smallest perturbation sample (unless fewer items were judged)."""


def perturbation_size(n_judged: int, health: JudgeHealthConfig) -> int:
    """``min(perturbation_items, max(3, ceil(rate * n_judged)))``, never above ``n_judged``."""
    if health.perturbation_items == 0:
        return 0
    wanted = max(MIN_ITEMS, math.ceil(health.perturbation_rate * n_judged - 1e-9))
    return min(health.perturbation_items, wanted, n_judged)


def choose_items(items: Sequence[JudgeItem], size: int, seed: int) -> list[JudgeItem]:
    """The ``size`` judged items with the smallest ``sha256(f"perturb:{seed}:{id}")``."""
    judged = [it for it in items if it.scores is not None]
    ranked = sorted(
        judged, key=lambda it: hashlib.sha256(f"perturb:{seed}:{it.id}".encode()).hexdigest()
    )
    return ranked[:size]


def compare(
    original: Sequence[JudgeItem], perturbed: Sequence[JudgeItem], criteria: Sequence[str]
) -> tuple[int, int, list[str]]:
    """(verdicts compared, verdicts changed, ids with a change) over items judged both ways."""
    before = {it.id: it.scores for it in original if it.scores is not None}
    compared = flipped = 0
    flipped_ids: list[str] = []
    for item in perturbed:
        old = before.get(item.id)
        if item.scores is None or old is None:
            continue
        changes = sum(old[c] != item.scores[c] for c in criteria)
        compared += len(criteria)
        flipped += changes
        if changes:
            flipped_ids.append(item.id)
    return compared, flipped, flipped_ids


def _unknown(ids: list[str], note: str) -> PerturbationResult:
    return PerturbationResult(status="unknown", item_ids=ids, note=note)


async def check_perturbation(
    state: RunState,
    items: Sequence[JudgeItem],
    work: Sequence[WorkItem],
    outputs: Mapping[str, str | None],
    *,
    seed: int,
    token: str,
) -> PerturbationResult:
    """Re-judge a seeded few of the judged items in the perturbed layout, within the budget."""
    config: JudgeConfig = state.config
    size = perturbation_size(sum(it.scores is not None for it in items), config.health)
    if config.health.perturbation_items == 0:
        return PerturbationResult(
            status="off", note="perturbation check off (perturbation_items: 0)"
        )
    if size == 0:
        return _unknown([], "perturbation check not run: no item got a verdict")
    examples = {w.example.id: w.example for w in work}
    chosen = choose_items(items, size, seed)
    ids = [it.id for it in chosen]
    perturbed_work = [
        make_work_item(
            examples[it.id], outputs.get(it.id), config=config, token=token, layout=PERTURBED
        )
        for it in chosen
    ]
    needed = sum(
        0.0
        if state.cache is not None and w.cache_key and state.cache.get(w.cache_key)
        else estimate_cost(w, config, state.ledger.prices)
        for w in perturbed_work
    )
    left = config.budget_usd - state.ledger.spent_usd
    if needed > left + 1e-12:
        return _unknown(
            ids,
            f"the judge budget cannot cover the perturbation check (estimate ${needed:.4f}, "
            f"${max(left, 0.0):.4f} left): judge health unknown",
        )
    spent_before, t0 = state.ledger.spent_usd, time.perf_counter()
    again = await judge_all(state, perturbed_work)
    seconds = time.perf_counter() - t0
    criteria = [c.name for c in config.criteria]
    compared, flipped, flipped_ids = compare(items, again, criteria)
    base = PerturbationResult(
        status="unknown",
        item_ids=ids,
        compared=compared,
        flipped=flipped,
        flipped_items=flipped_ids,
        spent_usd=state.ledger.spent_usd - spent_before,
        calls=sum(it.attempts for it in again),
        cache_hits=sum(it.cached for it in again),
        seconds=seconds,
    )
    failed = [it for it in again if it.scores is None]
    if compared == 0:
        reason = failed[0].error if failed else "nothing compared"
        return base.model_copy(
            update={"note": f"perturbation check compared nothing ({reason}): health unknown"}
        )
    note = (
        f"{len(failed)} of {len(again)} perturbed item(s) not judged; rate over the rest"
        if failed
        else None
    )
    return base.model_copy(update={"status": "done", "flip_rate": flipped / compared, "note": note})
