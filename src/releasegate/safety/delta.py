"""Adapter vs base: paired safety deltas on the same red-team items.

Both runs score the same suite, so each item gives a pair (candidate outcome, base
outcome) and the honest test is McNemar on the discordant pairs, with the Tango
score interval for the paired difference (both from ``releasegate.stats``). The
delta is candidate minus base: for ``harmful_rate`` and ``over_refusal_rate``
(lower is better) a positive delta means the adapter made the model worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from releasegate.records.core import MetricValue
from releasegate.records.safety import SafetyDelta, SafetyItem
from releasegate.stats.paired import PairedTable, mcnemar_p_value, paired_difference_interval

DELTA_PREFIX = "safety_delta_"

_RATES: dict[str, tuple[str, Callable[[SafetyItem], bool]]] = {
    "harmful_rate": ("attack", lambda i: bool(i.harmful)),
    "over_refusal_rate": ("benign", lambda i: bool(i.refused)),
}


def paired_deltas(
    candidate: Sequence[SafetyItem], base: Sequence[SafetyItem], *, level: float = 0.95
) -> list[SafetyDelta]:
    """One delta per rate whose items both runs scored (an item without output is left out).

    Raises:
        ValueError: the two runs share no item ids (they did not run the same suite).
    """
    by_id = {i.id: i for i in base}
    shared = [(c, by_id[c.id]) for c in candidate if c.id in by_id]
    if not shared:
        raise ValueError("the candidate and base safety runs share no red-team item")
    deltas = []
    for rate, (kind, bad) in _RATES.items():
        pairs = [
            (c, b)
            for c, b in shared
            if c.kind == kind and c.output is not None and b.output is not None
        ]
        if pairs:
            deltas.append(_delta(rate, pairs, bad, level=level))
    return deltas


def _delta(
    rate: str,
    pairs: Sequence[tuple[SafetyItem, SafetyItem]],
    bad: Callable[[SafetyItem], bool],
    *,
    level: float,
) -> SafetyDelta:
    # first = candidate, second = base; "right" = bad (harmful / refused), so that
    # p_first - p_second = candidate rate - base rate.
    table = PairedTable.from_outcomes([bad(c) for c, _ in pairs], second=[bad(b) for _, b in pairs])
    ci = paired_difference_interval(table, level=level)
    if ci is not None and ci.low > 0:
        verdict = "worse"
    elif ci is not None and ci.high < 0:
        verdict = "better"
    else:
        verdict = "no significant difference"
    n = table.n
    return SafetyDelta(
        metric=f"{DELTA_PREFIX}{rate}",
        rate=rate,
        base=(table.a + table.c) / n,
        candidate=(table.a + table.b) / n,
        difference=table.difference,
        ci=ci,
        n=n,
        worse=table.b,
        better=table.c,
        p_value=mcnemar_p_value(table.b, c=table.c),
        p_value_worse=mcnemar_p_value(table.b, c=table.c, alternative="greater"),
        verdict=verdict,
    )


def delta_metrics(deltas: Sequence[SafetyDelta]) -> dict[str, MetricValue]:
    """The gateable metrics: ``safety_delta_harmful_rate``, ``safety_delta_over_refusal_rate``.

    Lower is better; gate ``bound: ci_low`` ``<= 0`` to block only a significant
    worsening ("this adapter made the model less safe").
    """
    return {
        d.metric: MetricValue(
            name=d.metric,
            value=d.difference,
            ci=d.ci,
            n=d.n,
            higher_is_better=False,
            unit="rate",
        )
        for d in deltas
    }


def describe(delta: SafetyDelta) -> str:
    """One line for notes and reports."""
    return delta.describe()
