"""One function per pipeline stage.

Each takes typed inputs and returns typed results; only ``pipeline.py`` calls these,
in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from jsonschema.protocols import Validator

from releasegate.backends.base import Backend, Generation, GenerationParams, Prompt
from releasegate.benchmark.model import Benchmark, ChatMessage, Example
from releasegate.config.schema import CostSettings, PipelineConfig
from releasegate.errors import InputError
from releasegate.generate import run_generation
from releasegate.judge.stage import run_judge_stage
from releasegate.progress import Progress
from releasegate.records.baseline import Baseline, FlatBaseline, JudgeScores
from releasegate.records.core import (
    ExampleResult,
    GateResult,
    MetricValue,
    PipelineStatus,
    StageResult,
)
from releasegate.records.judge import JudgeOutcome
from releasegate.records.regression import MetricComparison, RegressionReport
from releasegate.records.safety import SafetyReport
from releasegate.regression.baseline_compare import compare_with_baseline
from releasegate.safety.score import safety_metrics, score_item
from releasegate.safety.suite import RedTeamItem
from releasegate.scoring.aggregate import aggregate
from releasegate.scoring.task import ExampleScore, score_example
from releasegate.store.generation_cache import GenerationCache

JUDGE_PREFIX = "judge_"


def generate(
    backend: Backend, benchmark: Benchmark, config: PipelineConfig, progress: Progress
) -> tuple[dict[str, Generation], StageResult]:
    """Stage 0: run the model over every example.

    Raises:
        InputError: examples without output while ``model.on_missing`` is ``error``.
    """
    prompts = [(e.id, e.input) for e in benchmark.examples]
    outputs, wall = _generate(backend, prompts, config=config, progress=progress)
    missing = [g for g in outputs.values() if g.error is not None]
    if missing and config.model.on_missing == "error":
        first = ", ".join(repr(g.sample_id) for g in missing[:3])
        raise InputError(
            f"{len(missing)} of {len(prompts)} examples have no output (e.g. {first}): "
            f"{missing[0].error}. Set model.on_missing: fail_example to score them as failures"
        )
    fresh = {k: g for k, g in outputs.items() if not g.cached}
    metrics = _throughput(fresh, wall)
    metrics.update(_cost(outputs, fresh, wall, config.cost))
    if backend.info().per_request_latency:
        metrics.update(_latency(fresh))
    notes = [f"{len(missing)} example(s) without output"] if missing else []
    if len(fresh) < len(outputs):
        notes.append(
            f"{len(outputs) - len(fresh)} of {len(outputs)} outputs served from the generation "
            "cache (same weights, prompts and settings); throughput covers the rest"
        )
    return outputs, StageResult(
        name="generation", status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes
    )


def _throughput(outputs: Mapping[str, Generation], wall: float) -> dict[str, MetricValue]:
    done = [g for g in outputs.values() if g.text is not None]
    if not outputs:
        return {}
    metrics = {
        "generation_seconds": MetricValue(
            name="generation_seconds",
            value=wall,
            n=len(outputs),
            higher_is_better=False,
            unit="seconds",
        )
    }
    if wall > 0 and done:
        metrics["throughput_examples_per_s"] = MetricValue(
            name="throughput_examples_per_s", value=len(done) / wall, n=len(done), unit="count/s"
        )
    tokens = [g.tokens_out for g in done if g.tokens_out is not None]
    if tokens and len(tokens) == len(done):
        metrics["tokens_out_mean"] = MetricValue(
            name="tokens_out_mean",
            value=float(np.mean(tokens)),
            n=len(tokens),
            higher_is_better=False,
            unit="tokens",
        )
        if wall > 0:
            metrics["throughput_tokens_per_s"] = MetricValue(
                name="throughput_tokens_per_s",
                value=sum(tokens) / wall,
                n=len(tokens),
                unit="tokens/s",
            )
    return metrics


def _cost(
    outputs: Mapping[str, Generation],
    fresh: Mapping[str, Generation],
    wall: float,
    cost: CostSettings,
) -> dict[str, MetricValue]:
    """Mean tokens per request and, when prices are configured, USD per 1,000 requests."""
    done = [g for g in outputs.values() if g.text is not None]
    metrics: dict[str, MetricValue] = {}
    tokens_in = [g.tokens_in for g in done if g.tokens_in is not None]
    if tokens_in and len(tokens_in) == len(done):
        metrics["tokens_in_mean"] = _usd_or_count(
            "tokens_in_mean", float(np.mean(tokens_in)), len(done), "tokens"
        )
    tokens_out = [g.tokens_out for g in done if g.tokens_out is not None]
    priced = cost.input_price_per_mtok is not None and cost.output_price_per_mtok is not None
    if priced and "tokens_in_mean" in metrics and len(tokens_out) == len(done):
        per_request = (
            metrics["tokens_in_mean"].value * (cost.input_price_per_mtok or 0.0)
            + float(np.mean(tokens_out)) * (cost.output_price_per_mtok or 0.0)
        ) / 1e6
        metrics["cost_per_1k_requests_usd"] = _usd_or_count(
            "cost_per_1k_requests_usd", 1000 * per_request, len(done), "usd"
        )
    generated = [g for g in fresh.values() if g.text is not None]
    if cost.gpu_usd_per_hour is not None and generated and wall > 0:
        seconds_per_request = wall / len(generated)
        metrics["gpu_cost_per_1k_requests_usd"] = _usd_or_count(
            "gpu_cost_per_1k_requests_usd",
            1000 * seconds_per_request * cost.gpu_usd_per_hour / 3600,
            len(generated),
            "usd",
        )
    return metrics


def _usd_or_count(name: str, value: float, n: int, unit: str) -> MetricValue:
    return MetricValue(name=name, value=value, n=n, higher_is_better=False, unit=unit)


LATENCY_PERCENTILES = (50, 95, 99)


def _latency(outputs: Mapping[str, Generation]) -> dict[str, MetricValue]:
    """Per-request latency percentiles (only for backends that time each request)."""
    seconds = [g.latency_s for g in outputs.values() if g.text is not None and g.latency_s]
    if not seconds:
        return {}
    values = np.percentile(np.array(seconds), LATENCY_PERCENTILES)
    return {
        f"latency_p{q}_s": MetricValue(
            name=f"latency_p{q}_s",
            value=float(v),
            n=len(seconds),
            higher_is_better=False,
            unit="seconds",
        )
        for q, v in zip(LATENCY_PERCENTILES, values, strict=True)
    }


def score(
    benchmark: Benchmark,
    generations: Mapping[str, Generation],
    *,
    validator: Validator,
    config: PipelineConfig,
) -> tuple[list[ExampleResult], StageResult]:
    """Stage 1: automated metrics per example, then aggregated with intervals."""
    strip = config.metrics.strip_code_fences
    examples = [
        _example_result(
            e,
            generations[e.id],
            score_example(e, generations[e.id].text, validator=validator, strip_code_fences=strip),
        )
        for e in benchmark.examples
    ]
    metrics = aggregate(examples, rng=np.random.default_rng(config.seed))
    failed = sum(1 for e in examples if e.output is None)
    notes = [f"{failed} example(s) had no output and count as failures"] if failed else []
    stage = StageResult(
        name="automated_metrics", status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes
    )
    return examples, stage


def judge(
    benchmark: Benchmark, examples: Sequence[ExampleResult], config: PipelineConfig
) -> tuple[JudgeOutcome | None, StageResult]:
    """Stage 2: the LLM judge on a seeded, stratified sample.

    The judge stage itself reports a skip (no provider, disabled, key variable unset).
    """
    settings = config.judge
    outputs = {e.id: e.output for e in examples}
    cache = Path(settings.cache_path) if settings.cache_path else default_judge_cache(config)
    outcome = run_judge_stage(
        examples=benchmark.examples,
        outputs=outputs,
        config=settings,
        seed=config.seed,
        cache_path=cache,
    )
    status = {
        "success": PipelineStatus.SUCCESS,
        "skipped": PipelineStatus.SKIPPED,
        "failed": PipelineStatus.FAILED,
    }[outcome.status]
    stage = StageResult(
        name="llm_judge",
        status=status,
        metrics=outcome.metrics,
        errors=list(outcome.errors),
        skip_reason=outcome.skip_reason,
        notes=list(outcome.notes),
    )
    return outcome, stage


def safety(
    backend: Backend,
    suite: Sequence[RedTeamItem],
    *,
    config: PipelineConfig,
    progress: Progress,
) -> tuple[SafetyReport, StageResult]:
    """Red-team stage: generate for every attack and benign control, then score them."""
    outputs, _ = _generate(
        backend, [(i.id, i.input) for i in suite], config=config, progress=progress
    )
    refusals = config.safety.refusal_actions
    items = [score_item(i, outputs[i.id].text, refusal_actions=refusals) for i in suite]
    report = SafetyReport(suite_path=str(config.safety.suite_path), items=items)
    harmful = sum(bool(i.harmful) for i in items)
    notes = [f"{harmful} of {sum(i.kind == 'attack' for i in items)} attacks led to harm"]
    stage = StageResult(
        name="safety", status=PipelineStatus.SUCCESS, metrics=safety_metrics(items), notes=notes
    )
    return report, stage


def _generate(
    backend: Backend,
    inputs: Sequence[tuple[str, str | tuple[ChatMessage, ...]]],
    *,
    config: PipelineConfig,
    progress: Progress,
) -> tuple[dict[str, Generation], float]:
    """Run the backend over (id, input) pairs.

    Uses the config's decoding settings and, for cacheable backends, the generation cache.
    """
    gen = config.generation
    prompts = [
        Prompt(sample_id=sid, input=text, system_prompt=config.model.system_prompt)
        for sid, text in inputs
    ]
    params = GenerationParams(
        max_new_tokens=gen.max_new_tokens,
        temperature=gen.temperature,
        stop=tuple(gen.stop),
        batch_size=gen.batch_size,
        seed=config.seed,
    )
    cacheable = gen.cache and backend.info().cacheable
    cache = GenerationCache(default_generation_cache(config)) if cacheable else None
    try:
        return run_generation(
            backend,
            prompts,
            params=params,
            max_output_chars=gen.max_output_chars,
            progress=progress,
            cache=cache,
        )
    finally:
        if cache is not None:
            cache.close()


def default_generation_cache(config: PipelineConfig) -> Path:
    """Where outputs of cacheable backends are stored: beside the run directories."""
    return Path(config.output.dir) / "generation_cache.sqlite"


def default_judge_cache(config: PipelineConfig) -> Path:
    """Where judge verdicts are cached when ``judge.cache_path`` is not set.

    Beside the run directories, so a re-run of an unchanged model costs nothing.
    """
    return Path(config.output.dir) / "judge_cache.sqlite"


def regression(
    examples: Sequence[ExampleResult],
    metrics: Mapping[str, MetricValue],
    *,
    baseline: Baseline | FlatBaseline,
    source: str,
    config: PipelineConfig,
    judge_outcome: JudgeOutcome | None,
) -> tuple[RegressionReport, StageResult]:
    """Stage 3: compare with the baseline, metric by metric, with real statistics."""
    scores = None
    if judge_outcome is not None and judge_outcome.status == "success":
        scores = JudgeScores(
            config_hash=judge_outcome.config_hash,
            scores={i.id: dict(i.scores) for i in judge_outcome.items if i.scores},
        )
    report = compare_with_baseline(
        examples, metrics, baseline, settings=config.regression, judge=scores, source=source
    )
    notes = [*report.warnings]
    if report.judge_note:
        notes.append(report.judge_note)
    if report.paired:
        notes.append(
            f"paired on {report.n_paired} examples ({report.n_added} added, {report.n_removed} "
            f"removed, {report.n_changed_input} with changed input since the baseline)"
        )
    stage = StageResult(name="regression", status=PipelineStatus.SUCCESS, notes=notes)
    return report, stage


def regression_gates(report: RegressionReport) -> list[GateResult]:
    """One gate per compared metric: it fails when the metric regressed (SPEC §5)."""
    settings = report.settings
    return [_regression_gate(c, settings.gate_type) for c in report.metrics.values()]


def _regression_gate(c: MetricComparison, gate_type: str) -> GateResult:
    if c.mode == "non_inferiority":
        rule = f"non-inferior within {c.margin:g}"
    else:
        rule = f"no significant drop below {c.threshold:+g}"
    p_text = f"p={c.p_value:.3g}" + (
        f" (Holm {c.p_adjusted:.3g})" if c.p_adjusted != c.p_value else ""
    )
    ci = (
        f"{c.ci_level:.0%} CI {c.ci_low:+.3f} to {c.ci_high:+.3f}"
        if c.ci_low is not None and c.ci_high is not None
        else "no CI"
    )
    explanation = (
        f"{c.name}: {c.baseline:.3f} -> {c.current:.3f} ({c.difference:+.3f}, {ci}, {p_text}, "
        f"{c.test}, n={c.n}): {c.verdict}"
    )
    if c.verdict == "inconclusive" and c.n_needed:
        explanation += (
            f"; about {c.n_needed} examples would be needed to detect a drop of that size"
        )
    if c.reasons:
        explanation += ". " + " ".join(c.reasons)
    return GateResult(
        name=f"regression:{c.name}",
        metric=c.name,
        value=c.difference,
        point=c.current,
        threshold=c.threshold if c.mode != "non_inferiority" else -c.margin,
        comparison=rule,
        gate_type=gate_type,
        bound="ci_low" if c.mode == "non_inferiority" else "point",
        passed=not c.regressed,
        explanation=explanation,
    )


def _example_result(example: Example, generation: Generation, score: ExampleScore) -> ExampleResult:
    fields = score.fields
    return ExampleResult(
        id=example.id,
        category=example.category,
        input_hash=example.input_hash,
        input=example.input_text,
        expected_output=example.expected_output,
        output=generation.text,
        error=generation.error,
        outcomes=score.outcomes,
        field_tp=None if fields is None else fields.tp,
        field_predicted=None if fields is None else fields.predicted,
        field_expected=None if fields is None else fields.expected,
        parse_error=score.parse_error,
        schema_error=score.schema_error,
        truncated=generation.finish_reason == "truncated_by_releasegate",
        latency_s=generation.latency_s,
        tokens_in=generation.tokens_in,
        tokens_out=generation.tokens_out,
        finish_reason=generation.finish_reason,
    )
