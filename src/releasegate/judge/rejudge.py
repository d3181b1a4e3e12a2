"""Re-judge the baseline's judged items when the judge configuration changed.

Judge scores compare paired only under one judge config hash. When the baseline
was judged under another, its judged items are judged again with the current
judge, from the outputs the baseline stores (against the current benchmark's
input and reference; an item whose input changed since the baseline is left
out), within what is left of the judge budget. The paired comparison then runs
on those scores. A baseline that stores no outputs cannot be re-judged: the
comparison is skipped with that reason, never faked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from releasegate.benchmark.model import Example
from releasegate.config.judge import JudgeConfig
from releasegate.judge.jury import run_judge
from releasegate.records.baseline import Baseline, FlatBaseline, JudgeScores
from releasegate.records.judge import JudgeOutcome


def needs_rejudge(baseline: Baseline | FlatBaseline | None, outcome: JudgeOutcome) -> bool:
    """True when the baseline has judge scores under another judge config hash."""
    return (
        isinstance(baseline, Baseline)
        and baseline.judge is not None
        and outcome.status == "success"
        and baseline.judge.config_hash != outcome.config_hash
    )


def _items(
    baseline: Baseline, examples: Sequence[Example]
) -> tuple[list[Example], dict[str, str | None], int]:
    """(examples to re-judge, their baseline outputs, items left out for a changed input)."""
    judged = baseline.judge.scores if baseline.judge is not None else {}
    stored = {e.id: e for e in baseline.examples}
    chosen: list[Example] = []
    outputs: dict[str, str | None] = {}
    changed = 0
    for ex in examples:
        old = stored.get(ex.id)
        if ex.id not in judged or old is None or old.output is None:
            continue
        if old.input_hash != ex.input_hash:
            changed += 1
            continue
        chosen.append(ex)
        outputs[ex.id] = old.output
    return chosen, outputs, changed


def rejudge_baseline(
    baseline: Baseline,
    outcome: JudgeOutcome,
    *,
    examples: Sequence[Example],
    config: JudgeConfig,
    seed: int,
    cache_path: Path | None,
) -> JudgeOutcome:
    """``outcome`` with the baseline's judged items re-judged (or the reason they are not)."""
    old_hash = baseline.judge.config_hash if baseline.judge is not None else "?"
    chosen, outputs, changed = _items(baseline, examples)
    if not chosen:
        why = (
            "the baseline stores no outputs for its judged items"
            if not changed
            else f"all {changed} judged item(s) changed input since the baseline"
        )
        return _noted(
            outcome, None, f"baseline not re-judged: {why}; paired judge comparison skipped"
        )
    left = max(0.0, config.budget_usd - outcome.spent_usd)
    cfg = config.model_copy(
        update={
            "sample_rate": 1.0,
            "min_samples": len(chosen),
            "max_samples": None,
            "budget_usd": left,
        }
    )
    again = run_judge(
        examples=chosen, outputs=outputs, config=cfg, seed=seed, cache_path=cache_path
    )
    scores = {it.id: dict(it.scores) for it in again.items if it.scores}
    if again.status != "success" or len(scores) < 2:
        why = "; ".join(again.errors) or again.skip_reason or f"{len(scores)} item(s) re-judged"
        note = f"baseline re-judge failed ({why}); paired judge comparison skipped"
        return _noted(outcome.model_copy(update=_spend(outcome, again)), None, note)
    note = (
        f"the baseline was judged under judge config {old_hash}; re-judged {len(scores)} of its "
        f"items from the outputs it stores with the current judge ({outcome.config_hash}) for "
        f"the paired comparison (${again.spent_usd:.4f}, {again.cache_hits} cache hit(s))"
        + (f"; {changed} item(s) left out: input changed" if changed else "")
    )
    return _noted(outcome.model_copy(update=_spend(outcome, again)), scores, note)


def _spend(outcome: JudgeOutcome, again: JudgeOutcome) -> dict[str, object]:
    metrics = dict(outcome.metrics)
    cost = metrics.get("judge_cost_usd")
    if cost is not None:  # the re-judge calls are part of this run's judge spend
        calls = sum(it.attempts for it in again.items)
        metrics["judge_cost_usd"] = cost.model_copy(
            update={"value": cost.value + again.spent_usd, "n": cost.n + calls}
        )
    return {
        "metrics": metrics,
        "spent_usd": outcome.spent_usd + again.spent_usd,
        "tokens_in": outcome.tokens_in + again.tokens_in,
        "tokens_out": outcome.tokens_out + again.tokens_out,
    }


def _noted(
    outcome: JudgeOutcome, scores: dict[str, dict[str, int]] | None, note: str
) -> JudgeOutcome:
    return outcome.model_copy(
        update={
            "baseline_rejudged": scores,
            "baseline_rejudge_note": note,
            "notes": [*outcome.notes, note],
        }
    )


def with_rejudged(
    baseline: Baseline | FlatBaseline, outcome: JudgeOutcome | None
) -> Baseline | FlatBaseline:
    """The baseline as the regression stage compares it: re-judged scores in place, if any."""
    if not isinstance(baseline, Baseline) or outcome is None or outcome.baseline_rejudged is None:
        return baseline
    scores = JudgeScores(config_hash=outcome.config_hash, scores=outcome.baseline_rejudged)
    return baseline.model_copy(update={"judge": scores})
