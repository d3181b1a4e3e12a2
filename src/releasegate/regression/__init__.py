"""Per-metric regression rule: candidate vs baseline with real statistics (SPEC §5)."""

from releasegate.regression.rule import (
    MetricComparison,
    Verdict,
    apply_holm,
    compare_paired_binary,
    compare_paired_counts,
    compare_paired_scores,
    compare_unpaired,
)
from releasegate.regression.settings import DEFAULT_METRICS, RegressionSettings

__all__ = [
    "DEFAULT_METRICS",
    "MetricComparison",
    "RegressionSettings",
    "Verdict",
    "apply_holm",
    "compare_paired_binary",
    "compare_paired_counts",
    "compare_paired_scores",
    "compare_unpaired",
]
