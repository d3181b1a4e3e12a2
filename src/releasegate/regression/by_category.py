"""The baseline's per-category rates, with intervals, for drawing beside the candidate's.

A paired baseline keeps every example's outcomes and category, so each per-category
binary metric of the baseline run can be recomputed exactly as the run computed it
(the same function: a proportion of the applicable examples, a Wilson interval).
"""

from __future__ import annotations

from collections import defaultdict

from releasegate.metrics import Kind, MetricCatalog, MetricKey
from releasegate.records.baseline import Baseline, BaselineExample
from releasegate.records.core import MetricValue
from releasegate.scoring.aggregate import rate_metric


def baseline_category_rates(baseline: Baseline, catalog: MetricCatalog) -> dict[str, MetricValue]:
    """``name[category]`` -> the baseline's rate for every per-category binary metric."""
    by_category: dict[str, list[BaselineExample]] = defaultdict(list)
    for example in baseline.examples:
        by_category[example.category].append(example)
    values: dict[str, MetricValue] = {}
    for spec in catalog.values():
        if spec.kind is not Kind.BINARY or not spec.per_category or spec.outcome_key is None:
            continue
        for category, examples in sorted(by_category.items()):
            name = str(MetricKey(spec.name, category))
            value = rate_metric(name, examples, spec.outcome_key)
            if value is not None:
                values[name] = value
    return values
