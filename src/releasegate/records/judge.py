"""Typed results of the judge stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from releasegate.records.core import MetricValue


class JudgeItem(BaseModel):
    """One sampled item: a verdict (scores) or a judge error, never both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    category: str
    scores: dict[str, int] | None = None
    """Criterion -> 1..5; None when the item could not be judged (see ``error``)."""
    rationale: str | None = None
    error: str | None = None
    """Why there is no verdict (missing output, unparseable reply, HTTP error, budget)."""
    injection_flagged: bool = False
    injection_reason: str | None = None
    """The heuristics that fired, e.g. ``ignore-instructions, score-demand``."""
    truncated: bool = False
    """The untrusted text was cut to ``max_output_chars`` before judging."""
    cached: bool = False
    """Served from the judge cache (cost $0)."""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    attempts: int = 0
    """Judge calls made for this item (0 when cached or not sent)."""


class PerturbationResult(BaseModel):
    """The perturbation check: the same items judged with criteria reordered, fences relabelled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["done", "off", "unknown"]
    """``unknown``: it could not run (budget, errors, nothing judged); the reason is a note."""
    item_ids: list[str] = Field(default_factory=list)
    """Items re-judged in the perturbed layout."""
    compared: int = 0
    """Per-criterion verdicts compared (items judged both ways x criteria)."""
    flipped: int = 0
    """Of those, verdicts that changed."""
    flip_rate: float | None = None
    flipped_items: list[str] = Field(default_factory=list)
    """Items with at least one changed verdict."""
    spent_usd: float = 0.0
    calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    note: str | None = None


class StoredCalibrationSummary(BaseModel):
    """What the health check read from the calibration store for this judge config hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    created_at: str
    n_items: int
    n_judged: int
    min_kappa_quadratic: float | None
    """Lowest quadratic-weighted kappa over the criteria (None: undefined for some)."""
    store_path: str


class JudgeHealth(BaseModel):
    """Whether the judge's gates count in this run, and why (not)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["healthy", "unhealthy", "unknown"]
    reasons: list[str] = Field(default_factory=list)
    """Why it is not healthy (empty when healthy)."""
    policy: Literal["warn", "block"] = "warn"
    calibration: StoredCalibrationSummary | None = None
    perturbation: PerturbationResult | None = None
    same_family: str | None = None
    """The warning when judge and candidate share a model family."""


class JuryResult(BaseModel):
    """How a jury's verdicts were combined and how much the jurors disagreed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jurors: list[str]
    """``provider:model`` of each juror, the configured judge first."""
    aggregation: str
    spent_usd: list[float]
    """Each juror's spend (each had an equal share of the budget)."""
    compared: int
    """Items every juror scored (the disagreement's denominator)."""
    disagreement: dict[str, float] = Field(default_factory=dict)
    """Criterion -> share of those items where the jurors' scores differ."""


class JudgeOutcome(BaseModel):
    """Everything the judge stage produced, for the pipeline and the reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["success", "skipped", "failed"]
    skip_reason: str | None = None
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    items: list[JudgeItem] = Field(default_factory=list)
    sample_ids: list[str] = Field(default_factory=list)
    """Ids judged (after any budget shrink), in sampling-priority order."""
    sample_seed: int = 0
    sample_method: str = ""
    sample_target: int = 0
    """Sample size before the budget shrink."""
    config_hash: str = ""
    """Hash of the score-relevant judge settings; paired comparison needs equal hashes."""
    provider: str | None = None
    model: str | None = None
    budget_usd: float = 0.0
    spent_usd: float = 0.0
    estimated_usd: float = 0.0
    """Pre-flight upper bound of the spend for the (possibly shrunk) sample (cache hits free)."""
    tokens_in: int = 0
    tokens_out: int = 0
    price_known: bool = False
    """False: no price for the judge model, treated as free (a local judge)."""
    cache_hits: int = 0
    injection_flagged: int = 0
    """How many sampled outputs the injection heuristics flagged."""
    notes: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    perturbation: PerturbationResult | None = None
    """The perturbation check (None: not asked for, as in ``judge-check``)."""
    health: JudgeHealth | None = None
    """The health verdict the pipeline applies to judge gates (None: not assessed)."""
    baseline_rejudged: dict[str, dict[str, int]] | None = None
    """The baseline's judged items re-judged with this judge (id -> criterion -> score),
    when the baseline was judged under another judge config hash."""
    baseline_rejudge_note: str | None = None
    jury: JuryResult | None = None
    """The jury, when ``judge.jury`` is set (scores are its per-criterion medians)."""
