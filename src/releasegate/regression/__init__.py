"""Per-metric regression rule: candidate vs baseline with real statistics (SPEC §5).

Names load on first use: the config schema imports ``releasegate.regression.settings``,
and that must not pull in scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_getattr

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

_SETTINGS = "releasegate.regression.settings"
_RULE = "releasegate.regression.rule"
_EXPORTS = {name: _RULE for name in __all__} | {
    "DEFAULT_METRICS": _SETTINGS,
    "RegressionSettings": _SETTINGS,
}

if TYPE_CHECKING:
    from releasegate.regression.rule import MetricComparison as MetricComparison
    from releasegate.regression.rule import Verdict as Verdict
    from releasegate.regression.rule import apply_holm as apply_holm
    from releasegate.regression.rule import compare_paired_binary as compare_paired_binary
    from releasegate.regression.rule import compare_paired_counts as compare_paired_counts
    from releasegate.regression.rule import compare_paired_scores as compare_paired_scores
    from releasegate.regression.rule import compare_unpaired as compare_unpaired
    from releasegate.regression.settings import DEFAULT_METRICS as DEFAULT_METRICS
    from releasegate.regression.settings import RegressionSettings as RegressionSettings


__getattr__ = lazy_getattr(__name__, _EXPORTS)
