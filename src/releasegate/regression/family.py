"""Which compared metric plays which role in the multiplicity family.

Holm over every compared metric costs the power it exists to protect when the
metrics are redundant: the default rate metrics move together, every judge
criterion joins ``judge_overall`` (their mean), a category joins its parent.
With the Task API example's regression metrics a true 8-point accuracy drop at
n = 100 was caught 35% of the time in the family instead of 65% alone. So:

* **primary** (``settings.primary``, default ``accuracy``): the metric the
  release is about, tested at full alpha;
* **safety** (declared by the metric's stage, or listed in
  ``settings.safety_metrics``): each tested at full alpha, never in a family,
  so no other metric can dilute it;
* **derived**: a category of a metric that is also compared
  (``accuracy[relative_dates]`` next to ``accuracy``), a metric declared as
  computed from compared metrics (``judge_overall`` from the criteria), or a
  metric identical to another compared one on every item (``exact_match``
  equal to ``accuracy``). It re-tests data already in the comparison, so it does
  not take a share of the family's alpha; it is tested at full alpha on its own
  and still blocks (a category regression that the overall rate dilutes is what
  it is there to catch);
* **secondary**: everything else, Holm-adjusted among themselves.

The error guarantee is therefore per role: false BLOCK from the primary
metric <= alpha, from the secondary family <= alpha family-wise, from each
derived and each safety metric <= alpha. Derived metrics are strongly
dependent on their sources, so the realised rate of the whole default family
stays near alpha; ``benchmarks/regression_simulation.py`` measures it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from releasegate.records.regression import Role

__all__ = ["MetricFacts", "assign_roles", "role_summary", "split_metric_name"]


@dataclass(frozen=True)
class MetricFacts:
    """What the family needs to know about one compared metric."""

    name: str
    is_safety: bool = False
    derived_from: tuple[str, ...] = ()
    """Metrics this one is computed from (e.g. a mean of criteria)."""
    duplicate_of: str | None = None
    """A compared metric equal to this one on every item, if any."""


def split_metric_name(name: str) -> tuple[str, str | None]:
    """``accuracy[create]`` -> (``accuracy``, ``create``); ``accuracy`` -> (``accuracy``, None)."""
    if name.endswith("]") and "[" in name:
        base, _, category = name[:-1].partition("[")
        return base, category
    return name, None


def assign_roles(
    metrics: Sequence[MetricFacts],
    *,
    primary: str | None,
    safety: Collection[str] = (),
) -> dict[str, Role]:
    """Role of every compared metric (see the module docstring).

    Precedence: safety, then primary, then derived, then secondary. A
    duplicate is derived only when the metric it duplicates is compared and
    listed before it (of two identical metrics the first listed stays, e.g.
    ``accuracy`` before ``exact_match``).

    Args:
        metrics: The compared metrics, in the order the settings list them.
        primary: Name of the primary metric (None: no primary).
        safety: Extra names declared safety-critical in the settings.

    Returns:
        Metric name -> role.
    """
    names = {m.name for m in metrics}
    position = {m.name: i for i, m in enumerate(metrics)}
    roles: dict[str, Role] = {}
    for index, fact in enumerate(metrics):
        parent, category = split_metric_name(fact.name)
        if fact.is_safety or fact.name in safety:
            roles[fact.name] = "safety"
        elif fact.name == primary:
            roles[fact.name] = "primary"
        elif _is_derived(fact, category is not None and parent in names, names, position, index):
            roles[fact.name] = "derived"
        else:
            roles[fact.name] = "secondary"
    return roles


def _is_derived(
    fact: MetricFacts,
    category_of_compared: bool,
    names: Collection[str],
    position: Mapping[str, int],
    index: int,
) -> bool:
    if category_of_compared or any(source in names for source in fact.derived_from):
        return True
    return fact.duplicate_of is not None and position.get(fact.duplicate_of, index) < index


def role_summary(roles: Mapping[str, Role]) -> str:
    """One line: which metrics are in which role."""
    parts = []
    for role in ("primary", "secondary", "derived", "safety"):
        members = [name for name, r in roles.items() if r == role]
        if members:
            parts.append(f"{role}: {', '.join(members)}")
    return "; ".join(parts)
