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

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    mode: Literal["significant_drop", "non_inferiority"] = "significant_drop"
    """``significant_drop`` (default, seed-compatible): a metric regresses when its
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
    regression that the overall rate dilutes; every compared metric joins the Holm
    family."""

    on_incomparable: Literal["error", "block", "warn"] = "error"
    """When the baseline shares nothing comparable with the run (no example pairs with
    it: another benchmark, or every input changed; a flat baseline with none of the
    compared metrics): ``error`` (exit 2, the default), ``block`` (a failed blocking
    gate), or ``warn`` (the run goes on, and every report says loudly that no
    regression check ran)."""

    gate_type: Literal["blocking", "warning"] = "blocking"
    """``blocking``: a regressed metric makes the run BLOCK; ``warning``: reported only."""

    mcnemar: Literal["mid-p", "exact"] = "mid-p"
    """McNemar variant for paired binary metrics (mid-p recommended; exact is
    conservative). The continuity-corrected chi-square is never used."""

    paired_interval: Literal["tango", "newcombe"] = "tango"
    """Interval for a paired difference of proportions: Tango's score interval
    (default) or Newcombe's method 10."""

    power: float = Field(default=0.8, gt=0.5, lt=1.0)
    """Target power for the minimum detectable effect and the n needed."""

    bootstrap_resamples: int = Field(default=10_000, ge=100, le=1_000_000)
    """Resamples of the paired bootstrap for score metrics."""

    seed: int = Field(default=20240601, ge=0)
    """Seed of the bootstrap generator (``numpy.random.default_rng(seed)``)."""

    multiplicity: Literal["holm", "none"] = "holm"
    """Holm–Bonferroni across the compared metrics (``significant_drop`` mode)."""

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

    @property
    def effective_margin(self) -> float:
        """The non-inferiority margin in use: ``margin``, or ``-threshold`` when unset."""
        return self.margin if self.margin is not None else -self.threshold
