"""Statistics for releasegate: pure functions, no I/O, no global random state.

Every function documents its formula and a reference; see docs/statistics.md
for the overview and the library-default pitfalls guarded against.
"""

from releasegate.stats.intervals import (
    clopper_pearson,
    clopper_pearson_bound,
    normal_quantile,
    one_sided_level,
    wilson,
    wilson_bound,
    wilson_nonempty,
)
from releasegate.stats.multiplicity import holm_adjust
from releasegate.stats.paired import (
    PairedTable,
    TestResult,
    mcnemar_p_value,
    newcombe_paired_interval,
    paired_bootstrap_interval,
    paired_difference_interval,
    paired_t_test,
    tango_interval,
    tango_statistic,
    wilcoxon_signed_rank,
)
from releasegate.stats.power import (
    mde_one_proportion,
    mde_paired_binary,
    mde_paired_mean,
    mde_two_proportions,
    required_n_one_proportion,
    required_n_paired_binary,
    required_n_paired_mean,
    required_n_two_proportions,
)
from releasegate.stats.unpaired import (
    newcombe_hybrid_interval,
    one_sample_score_test,
    restricted_mle_difference,
    two_proportion_score_test,
)

__all__ = [
    "PairedTable",
    "TestResult",
    "clopper_pearson",
    "clopper_pearson_bound",
    "holm_adjust",
    "mcnemar_p_value",
    "mde_one_proportion",
    "mde_paired_binary",
    "mde_paired_mean",
    "mde_two_proportions",
    "newcombe_hybrid_interval",
    "newcombe_paired_interval",
    "normal_quantile",
    "one_sample_score_test",
    "one_sided_level",
    "paired_bootstrap_interval",
    "paired_difference_interval",
    "paired_t_test",
    "required_n_one_proportion",
    "required_n_paired_binary",
    "required_n_paired_mean",
    "required_n_two_proportions",
    "restricted_mle_difference",
    "tango_interval",
    "tango_statistic",
    "two_proportion_score_test",
    "wilcoxon_signed_rank",
    "wilson",
    "wilson_bound",
    "wilson_nonempty",
]
