"""Settings of the regression comparison against a baseline (``regression:``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DEFAULT_METRICS", "RegressionSettings"]

DEFAULT_METRICS: tuple[str, ...] = (
    "accuracy",
    "json_valid_rate",
    "exact_match",
    "schema_valid_rate",
    "action_accuracy",
)


class RegressionSettings(BaseModel):
    """How a candidate is compared with its baseline, metric by metric."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["significant_drop", "non_inferiority"] = "significant_drop"
    """``significant_drop`` (default, classic-pipeline compatible): a metric regresses when its
    drop is significant at ``alpha`` (one-sided) AND the observed difference is
    below ``threshold``. ``non_inferiority`` (stricter): a metric passes only when
    the lower limit of the one-sided (1 - alpha) interval of the difference is
    above ``-margin``."""

    alpha: float = Field(default=0.05, gt=0.0, le=0.5)
    """One-sided significance level, in (0, 0.5]."""

    threshold: float = Field(default=-0.05, ge=-1.0, le=0.0)
    """The classic pipeline's ``regression_threshold``: an observed difference (candidate minus
    baseline, oriented so that negative is worse) below it is a material drop.
    -0.05 means a drop of more than 5 points. For score metrics it applies to the
    difference divided by the metric's ``scale``."""

    margin: float | None = Field(default=None, ge=0.0, le=1.0)
    """Non-inferiority margin (positive); None means ``-threshold``."""

    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS), min_length=1)
    """Metrics compared against the baseline (each must exist in both runs). Rate
    metrics may name one category, e.g. ``accuracy[relative_dates]``, to catch a
    regression that the overall rate dilutes. Roles: ``primary`` at full alpha;
    derived metrics (a category of a compared metric, a mean of compared
    metrics, a duplicate of one) at full alpha outside the family (they take no
    share of its alpha); safety metrics at full alpha each; the rest form the Holm
    family."""

    on_incomparable: Literal["error", "block", "warn"] = "error"
    """When the baseline shares nothing comparable with the run (no example pairs with
    it: another benchmark, or every input changed; a flat baseline with none of the
    compared metrics): ``error`` (exit 2, the default), ``block`` (a failed blocking
    gate), or ``warn`` (the run goes on, and every report says loudly that no
    regression check ran)."""

    gate_type: Literal["blocking", "warning"] = "blocking"
    """``blocking``: a regressed metric makes the run BLOCK; ``warning``: reported only."""

    correction: float = Field(default=0.5, ge=0.0, le=1.0)
    """Continuity correction (in counts) of the score procedure that decides and
    gives the interval for rate metrics: the corrected Tango score family for
    paired outcomes, the corrected Farrington–Manning score family for two
    samples. 0.5 (default) keeps false BLOCK and false non-inferiority passes at
    or below alpha at every n from 20 to 2,000 (exact enumeration, see
    docs/statistics.md); 1 is more conservative; 0 is the uncorrected asymptotic
    procedure, which exceeds alpha at small n."""

    primary: str | None = "accuracy"
    """The declared primary metric: tested at full ``alpha``, outside the
    multiplicity family. None puts every non-safety metric in the family."""

    safety_metrics: list[str] = Field(default_factory=list)
    """Safety-critical metrics: each tested at full ``alpha``, never in any family
    (in addition to metrics that their stage declares safety-critical)."""

    detect_drop: float | None = Field(default=None, gt=0.0, le=1.0)
    """The true worsening the gate should catch with probability ``power``: the
    target of ``n_needed`` and the bar of ``inconclusive`` in ``significant_drop``
    mode. None means twice ``|threshold|`` (0.05 when the threshold is 0): the
    rule also needs the observed drop to pass the threshold, so a true drop equal
    to the threshold is caught only about half the time at any n."""

    power: float = Field(default=0.8, gt=0.5, lt=1.0)
    """Target probability for the minimum detectable effect and the n needed,
    computed for the rule as applied (significance and threshold together)."""

    anytime: bool = False
    """Anytime-valid mode: decisions come from an e-process (a betting confidence
    sequence on the paired differences), and ``alpha`` is spent across the
    attempts at gating the same model fingerprint (attempt k gets
    6·alpha/(π²k²)), so re-running until green does not raise the error rate
    above ``alpha`` however many times the gate looks."""

    seed: int = Field(default=20240601, ge=0)
    """Seed of the item order of the anytime-valid e-process."""

    multiplicity: Literal["holm", "none"] = "holm"
    """Holm–Bonferroni across the secondary metrics (``significant_drop`` mode);
    ``none`` tests each at ``alpha``."""

    flaky: Literal["report", "exclude", "separate"] = "report"
    """Examples whose outcome changed between runs of one model fingerprint (the run
    history, and the A/A runs of the baseline's noise floor): ``report`` lists them
    (default); ``exclude`` leaves them out of the paired tests and says how many;
    ``separate`` leaves them out and reports their flips apart. Excluding every
    example compares nothing, which ``on_incomparable`` decides (an error by default)."""

    noise_floor: str | None = None
    """A ``calibration.json`` from ``releasegate calibrate`` of this model on this
    benchmark (``--noise-floor``; relative to the config file): checked against the
    run's model and benchmark fingerprints (another's is an error), reported, and
    stored in the baseline a DEPLOY writes, so that later comparisons show the A/A
    noise beside each observed difference."""

    @field_validator("metrics")
    @classmethod
    def _unique_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("metric names must be non-empty")
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate metric names: {duplicates}")
        return value

    @model_validator(mode="after")
    def _margin_needed(self) -> RegressionSettings:
        if self.mode == "non_inferiority" and self.effective_margin == 0.0 and self.margin is None:
            raise ValueError("non_inferiority with threshold 0 needs an explicit margin")
        return self

    @field_validator("safety_metrics")
    @classmethod
    def _safety_names(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("metric names must be non-empty")
        return sorted(set(value), key=value.index)

    @property
    def effective_detect_drop(self) -> float:
        """The worsening ``n_needed`` targets: ``detect_drop``, or 2·|threshold| (0.05 at 0)."""
        if self.detect_drop is not None:
            return self.detect_drop
        return 2.0 * abs(self.threshold) if self.threshold < 0.0 else 0.05

    def describe(self) -> str:
        """One line naming the procedure, for the run manifest."""
        procedure = (
            "e-process (anytime-valid)"
            if self.anytime
            else (f"corrected score procedure (correction {self.correction:g})")
        )
        return (
            f"{self.mode}, alpha={self.alpha} one-sided, {procedure}, primary={self.primary}, "
            f"multiplicity={self.multiplicity} over secondary metrics, seed={self.seed}"
        )

    @property
    def effective_margin(self) -> float:
        """The non-inferiority margin in use: ``margin``, or ``-threshold`` when unset."""
        return self.margin if self.margin is not None else -self.threshold
