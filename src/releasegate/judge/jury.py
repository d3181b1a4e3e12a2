"""A jury of 2–3 judges: the configured judge plus ``judge.jury``, combined per criterion.

Each juror judges the same seeded sample with the same rubric and prompt, with an
equal share of the budget (their spends add up to at most ``budget_usd``) and its
own cache keys. An item's score per criterion is the median of the jurors' scores
(the lower middle one with two jurors, so a tie never rounds up); every criterion
is a 1–5 score, so with three jurors the median is also the majority whenever two
agree. An item counts only when a majority of the jurors gave a verdict. The
disagreement per criterion is the share of items every juror scored on which
their scores differ; its mean over the criteria is ``judge_jury_disagreement_rate``.
A juror that fails or is skipped fails or skips the whole jury, with its reason.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.judge.metrics import aggregate
from releasegate.judge.ready import DISAGREEMENT_METRIC, skip_reason
from releasegate.judge.stage import run_judge_stage, with_perturbation
from releasegate.records.core import MetricValue
from releasegate.records.judge import JudgeItem, JudgeOutcome, JuryResult, PerturbationResult

AGGREGATION = "median per criterion (lower middle for an even jury); a majority must score"


def run_judge(
    *,
    examples: Sequence[Example],
    outputs: Mapping[str, str | None],
    config: JudgeConfig,
    seed: int,
    cache_path: Path | None,
    perturbation: bool = False,
) -> JudgeOutcome:
    """The judge stage: one judge, or the jury when ``config.jury`` is set."""
    if not config.jury or skip_reason(config) is not None:  # a missing juror key: no call
        return run_judge_stage(
            examples=examples,
            outputs=outputs,
            config=config,
            seed=seed,
            cache_path=cache_path,
            perturbation=perturbation,
        )
    outcomes = [
        run_judge_stage(
            examples=examples,
            outputs=outputs,
            config=juror,
            seed=seed,
            cache_path=cache_path,
            perturbation=perturbation,
        )
        for juror in config.jurors()
    ]
    return combine(outcomes, config)


def _label(outcome: JudgeOutcome) -> str:
    return f"{outcome.provider}:{outcome.model}"


def combine(outcomes: Sequence[JudgeOutcome], config: JudgeConfig) -> JudgeOutcome:
    """One outcome from the jurors' outcomes (the first juror's sample order)."""
    first = outcomes[0]
    hashed = {"config_hash": config.config_hash(), "budget_usd": config.budget_usd}
    for out in outcomes:
        if out.status != "success":
            prefix = f"juror {_label(out)}: "
            return out.model_copy(
                update={
                    **hashed,
                    "skip_reason": prefix + out.skip_reason if out.skip_reason else None,
                    "errors": [prefix + e for e in out.errors],
                }
            )
    items = _combined_items(outcomes, config)
    disagreement, compared = disagreement_rates(outcomes, [c.name for c in config.criteria])
    spent = sum(o.spent_usd for o in outcomes)
    metrics = aggregate(
        items, config.criteria, spent_usd=spent, calls=sum(it.attempts for it in items)
    )
    if disagreement:
        metrics[DISAGREEMENT_METRIC] = MetricValue(
            name=DISAGREEMENT_METRIC,
            value=statistics.fmean(disagreement.values()),
            n=compared,
            higher_is_better=False,
            unit="rate",
        )
    jury = JuryResult(
        jurors=[_label(o) for o in outcomes],
        aggregation=AGGREGATION,
        spent_usd=[o.spent_usd for o in outcomes],
        compared=compared,
        disagreement=disagreement,
    )
    notes = [f"jury of {len(outcomes)}: {', '.join(jury.jurors)}; {AGGREGATION}"]
    notes += [f"{_label(o)}: {n}" for o in outcomes for n in o.notes]
    combined = first.model_copy(
        update={
            **hashed,
            "provider": "jury",
            "model": " + ".join(str(o.model) for o in outcomes),
            "items": items,
            "metrics": metrics,
            "spent_usd": spent,
            "estimated_usd": sum(o.estimated_usd for o in outcomes),
            "tokens_in": sum(o.tokens_in for o in outcomes),
            "tokens_out": sum(o.tokens_out for o in outcomes),
            "cache_hits": sum(o.cache_hits for o in outcomes),
            "price_known": all(o.price_known for o in outcomes),
            "notes": notes,
            "jury": jury,
            "perturbation": None,
        }
    )
    return with_perturbation(combined, _perturbation(outcomes))


def _combined_items(outcomes: Sequence[JudgeOutcome], config: JudgeConfig) -> list[JudgeItem]:
    by_juror = [{it.id: it for it in o.items} for o in outcomes]
    majority = len(outcomes) // 2 + 1
    items = []
    for base in outcomes[0].items:
        votes = [m[base.id] for m in by_juror if base.id in m]
        scored = [v.scores for v in votes if v.scores is not None]
        cost = {
            "attempts": sum(v.attempts for v in votes),
            "tokens_in": sum(v.tokens_in for v in votes),
            "tokens_out": sum(v.tokens_out for v in votes),
            "cost_usd": sum(v.cost_usd for v in votes),
            "cached": all(v.cached for v in votes),
        }
        if len(scored) < majority:
            error = f"jury: {len(scored)} of {len(outcomes)} jurors gave a verdict"
            items.append(base.model_copy(update={"scores": None, "error": error, **cost}))
            continue
        scores = {
            c.name: int(statistics.median_low([s[c.name] for s in scored])) for c in config.criteria
        }
        items.append(base.model_copy(update={"scores": scores, "error": None, **cost}))
    return items


def disagreement_rates(
    outcomes: Sequence[JudgeOutcome], criteria: Sequence[str]
) -> tuple[dict[str, float], int]:
    """Criterion -> share of items every juror scored where their scores differ; (rates, n)."""
    maps = [{it.id: it.scores for it in o.items if it.scores is not None} for o in outcomes]
    common = [i for i in maps[0] if all(i in m for m in maps[1:])]
    if not common:
        return {}, 0
    rates = {
        c: sum(len({m[i][c] for m in maps}) > 1 for i in common) / len(common) for c in criteria
    }
    return rates, len(common)


def _perturbation(outcomes: Sequence[JudgeOutcome]) -> PerturbationResult | None:
    results = [o.perturbation for o in outcomes]
    if any(r is None for r in results):
        return None
    done = [r for r in results if r is not None]
    compared, flipped = sum(r.compared for r in done), sum(r.flipped for r in done)
    status = "done" if all(r.status == "done" for r in done) else "unknown"
    if all(r.status == "off" for r in done):
        status = "off"
    notes = [r.note for r in done if r.note]
    return PerturbationResult(
        status=status,
        item_ids=sorted({i for r in done for i in r.item_ids}),
        compared=compared,
        flipped=flipped,
        flip_rate=flipped / compared if status == "done" and compared else None,
        flipped_items=sorted({i for r in done for i in r.flipped_items}),
        spent_usd=sum(r.spent_usd for r in done),
        calls=sum(r.calls for r in done),
        cache_hits=sum(r.cache_hits for r in done),
        seconds=sum(r.seconds for r in done),
        note="; ".join(notes) or None,
    )
