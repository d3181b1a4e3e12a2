"""The A/A noise floor: what ``releasegate calibrate`` measured, as a versioned record.

The same model evaluated several times on the same benchmark: per metric, the
spread of the values, the examples whose outcome flipped between identical runs,
and the regression threshold (and n) that keeps a false BLOCK unlikely. Stored in
its own file (``calibration.json``) and, attached, inside the baseline it was
measured for.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CALIBRATION_SCHEMA_VERSION = 1
CALIBRATION_KIND = "releasegate-calibration"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MetricNoise(_Record):
    """One metric across the A/A runs."""

    name: str
    values: list[float]
    """The metric's value in each run, in run order."""
    low: float
    """Smallest value across the runs."""
    high: float
    """Largest value across the runs."""
    sd: float
    """Sample standard deviation across the runs (0 with identical values)."""
    max_difference: float
    """Largest absolute difference between two runs (what an A/A comparison can show)."""
    paired: bool
    """True for per-example binary outcomes (flips, false-BLOCK figures apply)."""
    n: int = 0
    """Examples with an outcome in every run (paired metrics only)."""
    flipped: int = 0
    """Examples whose outcome was not the same in every run (paired metrics only)."""
    discordance: float = 0.0
    """``flipped / n``: the share of examples that changed between identical runs."""
    discordance_upper: float | None = None
    """One-sided 95% Clopper–Pearson upper bound of the discordance (0 flips in n
    examples still allows up to about 3/n)."""
    false_block: float | None = None
    """(Metrics in ``regression.metrics`` only, as are the next two.) P(false BLOCK) of
    the configured regression rule, at this n, for two runs of a
    model with this noise (no true change), at ``discordance_upper``."""
    safe_threshold: float | None = None
    """The smallest-magnitude regression threshold (<= 0, a 0.005 grid) at which the false
    BLOCK probability at ``discordance_upper`` and this n is at most the target and
    that is beyond every observed A/A difference; None when none up to -0.5 is."""
    n_for_threshold: int | None = None
    """The smallest n at which the configured threshold keeps the false BLOCK
    probability at ``discordance_upper`` under the target (None: no n up to 200,000)."""


class NoiseFloor(_Record):
    """An A/A calibration of one model on one benchmark (``calibration.json``)."""

    schema_version: int = CALIBRATION_SCHEMA_VERSION
    kind: Literal["releasegate-calibration"] = "releasegate-calibration"
    created_at: str
    model_ref: str
    model_backend: str
    model_fingerprint: str
    benchmark_name: str
    benchmark_fingerprint: str
    n_examples: int
    runs: int
    """How many times the model was evaluated."""
    run_ids: list[str]
    temperature: float
    """The decoding temperature the runs used."""
    cache_bypassed: bool
    """True: every run generated its outputs again (the generation cache was off)."""
    alpha: float
    """One-sided level of the regression rule the figures are computed for."""
    threshold: float
    """The configured regression threshold the false-BLOCK figures are computed for."""
    correction: float
    """Continuity correction of the rule's score procedure."""
    target_false_block: float
    """The false-BLOCK probability ``safe_threshold`` and ``n_for_threshold`` aim under."""
    metrics: dict[str, MetricNoise]
    flaky_examples: list[str] = Field(default_factory=list)
    """Ids whose headline outcome (accuracy) was not the same in every run."""
    seconds: float = 0.0
    """Wall-clock time of all runs."""

    def describe(self, metric: str) -> str | None:
        """The A/A spread of ``metric`` in words, or None when it was not calibrated.

        Rates read in points: ``A/A spread ±0.4 points over 3 runs (2 of 500
        examples flipped)``.
        """
        noise = self.metrics.get(metric)
        if noise is None:
            return None
        if noise.paired:
            spread = f"±{100.0 * noise.max_difference:.1f} points"
            flips = f" ({noise.flipped} of {noise.n} examples flipped)"
        else:
            spread = f"±{noise.max_difference:.3g}"
            flips = ""
        return f"A/A spread {spread} over {self.runs} runs{flips}"
