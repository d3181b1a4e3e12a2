"""The configuration schema.

Every section is a frozen pydantic model with ``extra="forbid"``: an unknown key is
an error with a did-you-mean, never a warning. The classic pipeline's flat
``PIPELINE_CONFIG`` (top-level ``llm_judge_sample_rate``, ``regression_threshold``,
``quality_gates``) is valid as written; richer settings live in sections.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from releasegate.config.determinism import DeterminismSettings
from releasegate.config.env_name import check_env_name
from releasegate.config.gate_policy import GatePolicy, default_gates
from releasegate.config.gates import Comparison, GateType, QualityGate
from releasegate.config.judge import JudgeConfig
from releasegate.config.mlflow import MlflowSettings
from releasegate.config.regression import RegressionSettings
from releasegate.config.safety import SafetySettings

__all__ = [
    "Comparison",
    "GateType",
    "GenerationSettings",
    "MetricsSettings",
    "ModelSettings",
    "OutputSettings",
    "PipelineConfig",
    "QualityGate",
]


class _Section(BaseModel):
    # hide_input_in_errors: a key pasted where a variable name belongs never reaches a message.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class ModelSettings(_Section):
    """The model under test and how to load it (``model:``)."""

    backend: str = "auto"
    """Force a backend by its registered name (``hf``, ``vllm``, ``replay``, ``openai``,
    or a plugin's); ``auto`` lets each registered backend claim the ``--model`` reference
    by its form (a model directory, a ``.jsonl`` replay, an ``http(s)://`` URL). ``vllm``
    claims nothing (a model directory is ``hf``'s): choose it by name."""
    base_model: str | None = None
    """For a LoRA/PEFT adapter: the base model directory, overriding the one named in
    ``adapter_config.json`` (a relative path there is read relative to the adapter)."""
    model_name: str | None = None
    """Endpoint: the served model name (``--model-name``)."""
    api_key_env: str | None = None
    """Endpoint: name of the environment variable holding the API key (never the key);
    unset for local servers that need none."""
    concurrency: int = Field(default=8, ge=1, le=512)
    """Endpoint: requests in flight at once, as a sliding window (a new request starts
    as soon as one finishes), independent of ``generation.batch_size``. Latency
    figures are reported with the concurrency that produced them."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Endpoint: wall-clock deadline per example, from connect to the last byte of the
    reply, retries and their back-off included; a slow or endless reply fails that
    example when it runs out."""
    max_retries: int = Field(default=3, ge=0, le=20)
    """Endpoint: retries on 429/5xx, connection errors and malformed replies, with
    back-off that honours Retry-After, within ``timeout_s``."""
    run_timeout_s: float | None = Field(default=None, gt=0)
    """Endpoint: wall-clock bound on all requests of one stage; examples not finished
    by then fail. Unset: no bound beyond ``timeout_s`` per example (deadline misses in
    a row, twice the concurrency, stop the requests not yet sent)."""
    api: Literal["chat", "completions"] = "chat"
    """Endpoint: ``chat`` sends ``/chat/completions`` with messages (the server applies
    the chat template); ``completions`` sends ``/completions`` with plain text (system
    prompt and turns joined by blank lines, as the HF backend does for a model without
    a chat template)."""
    stream: bool = True
    """Endpoint: stream replies to measure time to first token and inter-token latency;
    a server that answers with one JSON body instead is accepted (no TTFT then)."""
    extra_body: dict[str, JsonValue] = Field(default_factory=dict)
    """Endpoint: server-specific request fields sent with every request, e.g.
    ``{repeat_penalty: 1.0}`` for llama.cpp (which applies 1.1 even at temperature 0)
    or ``{top_k: 1}``. Fields releasegate sets itself (model, messages, prompt,
    max_tokens, temperature, seed, stop, stream) are refused here."""
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """``auto``: bf16 on GPUs that support it, fp16 on older GPUs (T4), fp32 on CPU."""
    device: str = "auto"
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    threads: int | None = Field(default=None, ge=1, le=1024)
    """CPU threads for a local model (torch's intra-op threads). Unset: the cores this
    process may use (CPU affinity, capped by a cgroup CPU quota), less the machine's
    other load (1-minute load average), at least 1; never the machine's core count,
    which oversubscribes a shared or containerised CPU."""
    prompt_lookup_tokens: int = Field(default=6, ge=0, le=64)
    """HF backend, greedy decoding: tokens each row guesses ahead by prompt lookup (where
    its last tokens occurred before in its prompt or output) and verifies in the same
    forward pass; the output is still the model's greedy choice at every token. Faster
    where a batch's matrix products are bound by memory (measured on a CPU at batch 8:
    2.7x for a 20M model). 0 decodes with ``model.generate``, as do sampling and models
    whose cache or generation config the fast path does not handle."""
    quantization: Literal["none", "4bit", "8bit"] = "none"
    """4/8-bit loading through bitsandbytes (needs a CUDA GPU and bitsandbytes)."""
    trust_remote_code: bool = False
    """Run model code shipped with the checkpoint. Off unless you trust the source."""
    use_chat_template: bool = True
    """Apply the tokenizer's chat template when it has one."""
    tool_calls: Literal["text", "native"] = "text"
    """How function calls are asked for: ``text`` (the model writes JSON) or ``native``
    (an endpoint gets the example's functions as ``tools`` and its ``tool_calls`` are
    read back; a HF model gets them through its chat template when that supports tools).
    Recorded in the run's model details."""
    tool_choice: Literal["auto", "required"] = "auto"
    """The ``tool_choice`` sent with native tool calls to an endpoint."""
    system_prompt: str | None = None
    """Optional system instruction sent before each example's input."""
    on_missing: Literal["error", "fail_example"] = "error"
    """Replay: an id with no output is an error (default), or a failed example that
    counts as wrong in every rate metric and is listed in the report."""

    _check_api_key_env = field_validator("api_key_env")(check_env_name)


class GenerationSettings(_Section):
    """Decoding settings (``generation:``)."""

    max_new_tokens: int = Field(default=128, ge=1, le=32768)
    """Cap on generated tokens per example."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """0 means greedy decoding (the default, for reproducible gates)."""
    stop: list[str] = Field(default_factory=list)
    """Stop strings; the output is cut at the first one."""
    batch_size: int = Field(default=16, ge=1, le=4096)
    """Examples per backend call (length-sorted batches on local backends)."""
    max_output_chars: int = Field(default=20000, ge=1)
    """Untrusted outputs longer than this are truncated before scoring and reporting."""
    latency_sample: int = Field(default=0, ge=0, le=100000)
    """Local models: also time this many examples (a seeded sample) one request at a
    time, for ``latency_p50_s``/``p95``/``p99`` and time to first token (``ttft_p*_s``);
    0 turns the pass off. Costs that many unbatched generations; never cached."""
    latency_warmup: int = Field(default=1, ge=0, le=1000)
    """Untimed single requests before the latency pass (first-call set-up is excluded)."""
    repeats: int = Field(default=1, ge=1, le=100)
    """Generate every example this many times (draws 0..k-1). With k > 1 each rate
    metric is the mean over all draws, with an interval that treats the k draws of
    one example as a cluster, and ``pass_at_k``/``pass_hat_k`` (any / all k draws
    right) are reported. Draws differ through sampling (``temperature`` > 0: each
    draw gets its own seed, derived from ``seed`` and the draw index) or a
    nondeterministic server; greedy local decoding repeats itself. Costs k times the
    generation; the judge and the safety stages read draw 0 only."""
    cache: bool = True
    """Serve outputs of an unchanged local model from ``<output.dir>/generation_cache.sqlite``
    (and resume an interrupted run). Keyed by the weights' hash, the prompt and these
    settings; endpoints are never cached, since the model behind a name can change.
    Also keeps the JSON Schema verdicts on outputs (any backend's) in
    ``<output.dir>/schema_cache.sqlite``, keyed by the schema, the output and
    jsonschema's version. Off: neither file is read or written."""


class CostSettings(_Section):
    """Serving cost of the model under test (``cost:``); nothing is reported unless set."""

    input_price_per_mtok: float | None = Field(default=None, ge=0)
    """USD per million prompt tokens (an API's price table)."""
    output_price_per_mtok: float | None = Field(default=None, ge=0)
    """USD per million generated tokens."""
    gpu_usd_per_hour: float | None = Field(default=None, ge=0)
    """USD per hour of the machine that generates (self-hosted): cost follows the
    measured throughput of this run."""


class MetricsSettings(_Section):
    """Automated metric settings (``metrics:``)."""

    schema_path: str | None = None
    """JSON Schema file for ``schema_valid_rate`` (relative to the config file).
    Default: an object that requires ``action``."""
    strip_code_fences: bool = True
    """Accept an output wrapped in one Markdown code fence (```json ... ```) as JSON."""
    min_category_size: int = Field(default=1, ge=1)
    """Categories with fewer examples are still reported, but flagged as small."""


class OutputSettings(_Section):
    """Where reports go (``output:``)."""

    dir: str = "reports"
    """Parent directory; each run writes ``<dir>/<timestamp>-<short-id>/``."""
    baseline_path: str | None = "baselines/new_baseline.json"
    """Where a DEPLOY writes the candidate baseline; null disables it."""
    history: bool = True
    """Record every run in the SQLite run history."""
    history_db: str | None = None
    """The history database; default ``<dir>/history.sqlite``."""

    @property
    def history_path(self) -> str | None:
        """Where runs are recorded, or None when history is off."""
        if not self.history:
            return None
        return self.history_db or f"{self.dir}/history.sqlite"

    max_examples_in_report: int = Field(default=10, ge=0)
    """Worst examples listed per failed gate in the human report."""
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    """Export each run to MLflow (off by default; needs the ``mlflow`` extra)."""


class PipelineConfig(_Section):
    """The whole configuration. The classic pipeline's flat keys are accepted as written."""

    seed: int = 1234
    """Seed for every random choice (judge sample, bootstrap); recorded in the report."""
    llm_judge_sample_rate: float | None = Field(default=None, gt=0.0, le=1.0)
    """Classic flat key: the judge's sample rate (same as ``judge.sample_rate``)."""
    regression_threshold: float | None = Field(default=None, le=0.0)
    """Classic flat key: a drop larger than this (e.g. -0.05 = 5 points) is material
    (same as ``regression.threshold``)."""
    quality_gates: list[QualityGate] | None = None
    """Gates read the flat metrics dict; see ``QualityGate``. Without this key the
    built-in defaults apply (JSON validity >= 0.95 and accuracy >= 0.85 blocking,
    accuracy >= 0.90 warning, harmful_rate < 0.05 blocking with a red-team suite) and
    every report says so. An empty list means no quality gate (see
    ``gates.allow_no_blocking_gates``)."""
    gates: GatePolicy = Field(default_factory=GatePolicy)
    """How gates decide: what a run with no evaluated blocking gate means, gate drift
    against the baseline's bar, and when a baseline is stale."""
    model: ModelSettings = Field(default_factory=ModelSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    """The LLM judge; with no ``provider`` the stage is skipped."""
    regression: RegressionSettings = Field(default_factory=RegressionSettings)
    """The regression check against a baseline."""
    cost: CostSettings = Field(default_factory=CostSettings)
    """Serving cost per 1,000 requests, from token prices or a GPU hourly rate."""
    safety: SafetySettings = Field(default_factory=SafetySettings)
    """The red-team safety stage; with no ``suite_path`` it is skipped."""
    determinism: DeterminismSettings = Field(default_factory=DeterminismSettings)
    """The determinism check: a seeded sample generated again one at a time."""
    output: OutputSettings = Field(default_factory=OutputSettings)

    @model_validator(mode="before")
    @classmethod
    def _classic_keys(cls, raw: Any) -> Any:
        """Map the classic flat keys into their sections (both may be set only if equal)."""
        if not isinstance(raw, dict):
            return raw
        data = dict(raw)
        for flat, section, key in (
            ("llm_judge_sample_rate", "judge", "sample_rate"),
            ("regression_threshold", "regression", "threshold"),
        ):
            value = data.get(flat)
            if value is None:
                continue
            part = data.get(section)
            part = dict(part) if isinstance(part, dict) else ({} if part is None else part)
            if not isinstance(part, dict):
                continue
            if key in part and part[key] != value:
                raise ValueError(
                    f"{flat} ({value}) and {section}.{key} ({part[key]}) disagree; set one"
                )
            part[key] = value
            data[section] = part
        return data

    @field_validator("quality_gates")
    @classmethod
    def _unique_gate_names(cls, gates: list[QualityGate] | None) -> list[QualityGate] | None:
        if gates is None:
            return None
        seen: set[str] = set()
        for gate in gates:
            if gate.name in seen:
                raise ValueError(f"duplicate gate name {gate.name!r}")
            seen.add(gate.name)
        return gates

    @property
    def uses_default_gates(self) -> bool:
        """True when the config has no ``quality_gates`` key (the built-in gates apply)."""
        return self.quality_gates is None

    def effective_gates(self) -> list[QualityGate]:
        """The gates this run applies: the configured ones, or the built-in defaults."""
        if self.quality_gates is not None:
            return list(self.quality_gates)
        return default_gates(
            with_safety=self.safety.suite_path is not None,
            with_determinism=self.determinism.enabled,
        )
