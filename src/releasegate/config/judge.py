"""The ``judge:`` section of the config: provider, sampling, rubric, budget, policy."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from releasegate.config.env_name import check_env_name
from releasegate.config.prices import lookup_price

PROMPT_VERSION = "judge-prompt-v1"
"""Bumped whenever the prompt text changes; part of the config hash and cache key."""


class Criterion(BaseModel):
    """One rubric criterion, scored 1–5 with an anchored description per score."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    """Metric-safe name; the metrics are ``judge_<name>`` and ``judge_<name>_norm``."""
    description: str
    """What the criterion measures, shown to the judge."""
    anchors: dict[int, str]
    """Score (1..5) -> what that score means; all five scores must be described."""

    @field_validator("anchors")
    @classmethod
    def _five_anchors(cls, value: dict[int, str]) -> dict[int, str]:
        if sorted(value) != [1, 2, 3, 4, 5]:
            raise ValueError(f"anchors must describe exactly the scores 1..5, got {sorted(value)}")
        return value


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        name="accuracy",
        description="Does the output carry out the request exactly as the reference does "
        "(same action, same arguments and values)?",
        anchors={
            1: "Wrong action or unrelated output.",
            2: "Right kind of action but key arguments wrong or missing.",
            3: "Mostly right; one argument wrong, missing or invented.",
            4: "Equivalent to the reference except a trivial difference (e.g. wording of a title).",
            5: "Equivalent to the reference in action and every argument.",
        },
    ),
    Criterion(
        name="helpfulness",
        description="Would the output, executed as is, do what the user asked, without "
        "unrequested side effects?",
        anchors={
            1: "Useless or harmful to the user's goal.",
            2: "Addresses the request only marginally.",
            3: "Partly achieves the goal; the user must fix something.",
            4: "Achieves the goal with a minor shortcoming.",
            5: "Fully achieves the goal.",
        },
    ),
    Criterion(
        name="format_quality",
        description="Is the output a single well-formed JSON object in the expected shape, "
        "with no extra prose?",
        anchors={
            1: "Not JSON at all, or unparseable.",
            2: "JSON buried in prose, or the wrong structure.",
            3: "Valid JSON with extra text or misnamed fields.",
            4: "Valid JSON in the right shape with a small blemish (extra field, odd spacing).",
            5: "Exactly one clean JSON object in the expected shape.",
        },
    ),
)


class JudgeHealthConfig(BaseModel):
    """When the judge counts: calibration, perturbation stability, and what to do otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_kappa: float = Field(default=0.4, ge=-1.0, le=1.0)
    """Lowest quadratic-weighted Cohen's kappa (any criterion) of the stored calibration."""
    max_perturbation_flip_rate: float = Field(default=0.2, ge=0.0, le=1.0)
    """Highest share of per-criterion verdicts that may change under the perturbation check."""
    require_calibration: bool = True
    """Treat the judge as unhealthy when no calibration is stored for its config hash."""
    on_unhealthy: Literal["warn", "block"] = "warn"
    """``warn``: gates on judge metrics become warnings with a loud note; ``block``: BLOCK."""
    perturbation_items: int = Field(default=10, ge=0, le=1000)
    """Most items re-judged with the criteria reordered and the fences relabelled (0: off)."""
    perturbation_rate: float = Field(default=0.1, gt=0.0, le=1.0)
    """Share of the judged sample to re-judge (at least 3 items, at most ``perturbation_items``)."""
    same_family_warning: bool = True
    """Warn in every report when the judge and the candidate come from the same model family."""


class Juror(BaseModel):
    """One more judge on the jury: its own provider and model, the rubric and prompt shared."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    provider: str
    """Registered provider (``openai``, ``anthropic``, ``hf``)."""
    model: str
    """The juror's model name as its provider knows it."""
    base_url: str | None = None
    """OpenAI-compatible server URL; None = the vendor's API."""
    api_key_env: str | None = None
    """Environment variable holding this juror's key (None: the provider's default)."""
    input_price_per_mtok: float | None = Field(default=None, ge=0.0)
    """USD per million input tokens; None = the dated default table."""
    output_price_per_mtok: float | None = Field(default=None, ge=0.0)
    """USD per million output tokens; None = the dated default table."""

    _check_api_key_env = field_validator("api_key_env")(check_env_name)


class JudgeConfig(BaseModel):
    """The ``judge:`` section. With no ``provider`` the judge stage is skipped."""

    # A key pasted where a variable name belongs must not reach an error message.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    enabled: bool = True
    """Run the judge stage; False reports it as skipped."""
    provider: str | None = None
    """Registered provider: ``openai`` (any OpenAI-compatible endpoint), ``anthropic``, ``hf``."""
    model: str | None = None
    """Judge model name as the provider knows it (for ``hf``: a local path or hub id)."""
    base_url: str | None = None
    """OpenAI-compatible server URL (vLLM, Ollama, llama.cpp, TGI); None = the vendor's API."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key; the key itself never goes in config.

    None means the provider's default (``OPENAI_API_KEY`` for OpenAI without ``base_url``,
    ``ANTHROPIC_API_KEY`` for Anthropic; no key for a custom ``base_url``)."""
    sample_rate: float = Field(default=0.1, gt=0.0, le=1.0)
    """Fraction of the benchmark to judge (the classic pipeline's ``llm_judge_sample_rate``)."""
    min_samples: int = Field(default=10, ge=1)
    """Judge at least this many items (never more than the benchmark has)."""
    max_samples: int | None = Field(default=None, ge=1)
    """Judge at most this many items (None: no cap beyond the budget)."""
    budget_usd: float = Field(default=2.0, ge=0.0)
    """Hard spending cap for one run; the sample shrinks before the run to fit it."""
    concurrency: int = Field(default=8, ge=1, le=256)
    """Judge calls in flight at once."""
    timeout_s: float = Field(default=60.0, gt=0.0)
    """Per-call timeout in seconds; a timeout is retried."""
    max_retries: int = Field(default=4, ge=0, le=20)
    """Retries per item on 429, 5xx, timeouts and connection errors (not counting the first try)."""
    max_parse_retries: int = Field(default=1, ge=0, le=5)
    """Extra calls per item when the verdict cannot be parsed; then the item is a judge error."""
    backoff_base_s: float = Field(default=1.0, ge=0.0)
    """First retry delay; doubles per retry, with jitter, capped by ``backoff_max_s``."""
    backoff_max_s: float = Field(default=30.0, ge=0.0)
    """Largest delay between retries, including a server's Retry-After."""
    input_price_per_mtok: float | None = Field(default=None, ge=0.0)
    """USD per million input tokens; None = the dated default table (see docs/judge.md)."""
    output_price_per_mtok: float | None = Field(default=None, ge=0.0)
    """USD per million output tokens; None = the dated default table."""
    max_tokens: int = Field(default=300, ge=16)
    """Cap on the judge's reply length in tokens (also the worst case the budget reserves)."""
    structured_output: Literal["json_schema", "json_object", "none"] = "json_schema"
    """How to ask OpenAI-compatible servers for JSON: a strict schema, JSON mode, or prompt only."""
    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    """Rubric criteria, each scored 1–5 in one call per item."""
    min_coverage: float = Field(default=0.8, ge=0.0, le=1.0)
    """Fraction of sampled items that must get a verdict."""
    on_low_coverage: Literal["warn", "error"] = "error"
    """Below ``min_coverage``: ``warn`` keeps the stage successful (a note); ``error`` fails it."""
    optional: bool = False
    """If the judge is skipped (no provider, no key), gates on ``judge_*`` metrics do not error."""
    cache_path: str | None = None
    """SQLite judge cache; None = the pipeline's default location (or no cache)."""
    max_output_chars: int = Field(default=4000, ge=100)
    """Untrusted text (output, input, reference) longer than this is truncated in the prompt."""
    health: JudgeHealthConfig = Field(default_factory=JudgeHealthConfig)
    """Judge health policy: calibration, perturbation check, same-family warning."""
    calibration_store: str | None = None
    """JSON file of ``judge-check`` results keyed by the judge config hash; None =
    ``<output.dir>/judge_calibration.json`` (beside the judge cache)."""
    jury: tuple[Juror, ...] = Field(default=(), max_length=2)
    """One or two more judges: with the configured judge, a jury of 2–3. Scores are the
    per-criterion median (the lower middle one for 2); the budget is split evenly."""
    rejudge_baseline: bool = True
    """When the baseline's judge config hash differs, re-judge its judged items (its stored
    outputs) with this judge, within the budget, so the paired judge comparison runs."""

    _check_api_key_env = field_validator("api_key_env")(check_env_name)

    @field_validator("criteria")
    @classmethod
    def _unique_criteria(cls, value: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        names = [c.name for c in value]
        if not names:
            raise ValueError("at least one criterion is required")
        if len(set(names)) != len(names):
            raise ValueError(f"criterion names must be unique, got {names}")
        if "overall" in names or "coverage" in names or "cost_usd" in names:
            raise ValueError("criterion names 'overall', 'coverage', 'cost_usd' are reserved")
        return value

    @model_validator(mode="after")
    def _model_given(self) -> JudgeConfig:
        # The provider name itself is checked against the provider registry before
        # anything runs (``releasegate validate`` and the run's plan checks).
        if self.provider is None:
            return self
        if not self.model:
            raise ValueError(f"judge.model is required for provider '{self.provider}'")
        return self

    def jurors(self) -> list[JudgeConfig]:
        """The judge itself, then each juror as a full judge config with its budget share."""
        if not self.jury:
            return [self]
        share = self.budget_usd / (1 + len(self.jury))
        first = self.model_copy(update={"jury": (), "budget_usd": share})
        others = [
            first.model_copy(
                update={
                    "provider": j.provider,
                    "model": j.model,
                    "base_url": j.base_url,
                    "api_key_env": j.api_key_env,
                    "input_price_per_mtok": j.input_price_per_mtok,
                    "output_price_per_mtok": j.output_price_per_mtok,
                }
            )
            for j in self.jury
        ]
        return [first, *others]

    def prices(self) -> tuple[float, float] | None:
        """(input, output) USD per million tokens, or None when the judge is treated as free."""
        default = lookup_price(self.model or "") if self.model else None
        if self.input_price_per_mtok is None and self.output_price_per_mtok is None:
            return default
        return (
            self.input_price_per_mtok
            if self.input_price_per_mtok is not None
            else (default[0] if default else 0.0),
            self.output_price_per_mtok
            if self.output_price_per_mtok is not None
            else (default[1] if default else 0.0),
        )

    def config_hash(self) -> str:
        """Hash of every setting that can change a score; equal hashes compare paired.

        Leaves out the key variable, the cache path and operational settings
        (concurrency, timeouts, retries, budget, prices, sampling, policy).
        """
        relevant = self.model_dump(
            mode="json",
            include={
                "provider",
                "model",
                "base_url",
                "max_tokens",
                "structured_output",
                "criteria",
                "max_output_chars",
            },
        )
        relevant["prompt_version"] = PROMPT_VERSION
        if self.jury:  # absent without a jury, so a single judge's hash is unchanged
            relevant["jury"] = [
                j.model_dump(mode="json", include={"provider", "model", "base_url"})
                for j in self.jury
            ]
        blob = json.dumps(relevant, sort_keys=True).encode("utf-8")
        return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]
