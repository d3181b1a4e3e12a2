"""Records of the regression comparison: one compared metric, flips, the whole report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from releasegate.config.regression import RegressionSettings
from releasegate.records.calibration import NoiseFloor
from releasegate.records.core import MetricValue

Verdict = Literal["regressed", "improved", "no significant change", "inconclusive"]
Mode = Literal["significant_drop", "non_inferiority"]
Role = Literal["primary", "secondary", "derived", "safety"]


class MetricComparison(BaseModel):
    """One metric compared between candidate and baseline (``report.json`` regression.metrics)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    baseline: float
    """Baseline value (rate, or mean score)."""
    current: float
    """Candidate value, same units."""
    difference: float
    """current - baseline, in the metric's units."""
    ci_low: float | None
    """Lower end of the interval for the difference (a one-sided 1 - alpha bound)."""
    ci_high: float | None
    """Upper end of the interval for the difference (a one-sided 1 - alpha bound)."""
    ci_level: float
    """Two-sided coverage of [ci_low, ci_high], i.e. 1 - 2·alpha."""
    interval_method: str
    """Method of the interval, e.g. ``tango-score``, ``bootstrap-percentile``."""
    p_value: float
    """Raw one-sided p-value for "the candidate is worse"."""
    p_adjusted: float
    """Holm-adjusted p_value across the compared metrics (equals p_value until adjusted)."""
    p_improvement: float
    """Raw one-sided p-value for "the candidate is better"."""
    test: str
    """Name of the test that produced p_value, e.g. ``tango-score-cc0.5``."""
    significant: bool
    """The worsening is significant: p_adjusted <= alpha."""
    regressed: bool
    """This metric fails the regression rule (the flag a blocking gate reads)."""
    improved: bool
    """The improvement is significant (raw p_improvement <= alpha)."""
    verdict: Verdict
    mde: float | None
    """Minimum detectable worsening at the configured power, in the metric's units
    (None: nothing up to the whole range was detectable)."""
    n: int
    """Items compared (pairs for paired comparisons, candidate items otherwise)."""
    n_needed: int | None
    """Items that would detect a worsening of |threshold| (or margin) with the
    configured power; None when no finite n would (threshold 0, impossible shift)."""
    paired: bool
    higher_is_better: bool
    mode: Mode
    alpha: float
    """One-sided level used for the verdict."""
    threshold: float
    """Material-drop threshold in the metric's units (oriented: negative is worse)."""
    margin: float
    """Non-inferiority margin in the metric's units."""
    role: Role = "primary"
    """Place in the multiplicity family: primary, derived and safety metrics at
    full alpha, secondary metrics Holm-adjusted among themselves."""
    design_effect: float | None = None
    """Cluster-robust variance over the independent-items variance (clustered items only)."""
    clusters: int | None = None
    """Number of clusters (clustered items only)."""
    attempt: int | None = None
    """Attempt number on this model fingerprint (anytime-valid mode only)."""
    notes: list[str] = Field(default_factory=list)
    """Context: what was compared and how (set by the ``compare_*`` function)."""
    reasons: list[str] = Field(default_factory=list)
    """Why the verdict is what it is (set by the decision)."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlippedExample(_Record):
    """An example whose headline outcome changed since the baseline."""

    id: str
    category: str
    direction: str
    """``to_wrong`` or ``to_right``."""
    input: str
    expected_output: str
    baseline_output: str | None
    current_output: str | None


class FlakyExample(_Record):
    """An example known to change its outcome between runs of one model."""

    id: str
    why: str
    """Where that was seen (``right in 2 of 3 runs of model sha256:...``, ``A/A runs``)."""
    flipped: str | None = None
    """``to_wrong`` or ``to_right`` when it also flipped against this baseline."""


class RegressionReport(_Record):
    """The comparison with the baseline (``report.json`` ``regression``)."""

    baseline_path: str
    baseline_run_id: str | None = None
    baseline_model: str | None = None
    paired: bool
    n_paired: int = 0
    n_added: int = 0
    """Examples in this run that the baseline does not have."""
    n_removed: int = 0
    """Baseline examples this run does not have."""
    n_changed_input: int = 0
    """Same id, different input: not compared."""
    metrics: dict[str, MetricComparison] = Field(default_factory=dict)
    flipped_to_wrong: list[str] = Field(default_factory=list)
    flipped_to_right: list[str] = Field(default_factory=list)
    flipped_examples: list[FlippedExample] = Field(default_factory=list)
    """Up to 50 flipped examples with inputs and both outputs, to-wrong first."""
    judge_compared: bool = False
    judge_note: str | None = None
    baseline_categories: dict[str, MetricValue] = Field(default_factory=dict)
    """The baseline's per-category rates with their intervals (``accuracy[create]``...),
    recomputed from its examples; empty for a flat baseline."""
    warnings: list[str] = Field(default_factory=list)
    noise_floor: NoiseFloor | None = None
    """The baseline's A/A noise floor (from ``releasegate calibrate``), when it has one
    for this benchmark: reports show its spread beside each observed difference."""
    flaky: list[FlakyExample] = Field(default_factory=list)
    """Paired examples known to be flaky (history of the same model, A/A runs)."""
    flaky_policy: str = "report"
    """``regression.flaky`` as applied: ``report``, ``exclude`` or ``separate``."""
    n_flaky_excluded: int = 0
    """Flaky examples left out of the paired tests (``exclude``/``separate``)."""
    incomparable: str | None = None
    """Why nothing was compared (set only when ``regression.on_incomparable`` lets the
    run go on); then ``metrics`` is empty."""
    settings: RegressionSettings
