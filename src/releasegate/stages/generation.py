"""Stage: run the model over every benchmark example; throughput, latency, tokens, cost."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from releasegate.backends.base import Generation
from releasegate.benchmark.model import ChatMessage
from releasegate.config.schema import CostSettings, PipelineConfig
from releasegate.errors import InputError
from releasegate.latency import PERCENTILES, latency_metrics, token_count_note
from releasegate.latency_pass import run_latency_pass
from releasegate.metrics import (
    PER_SECOND,
    SECONDS,
    TOKENS,
    TOKENS_PER_SECOND,
    USD,
    Direction,
    Kind,
    MetricSpec,
    Need,
    Range,
)
from releasegate.records.core import MetricValue, PipelineStatus, StageResult
from releasegate.stages.base import Evidence, RunInputs
from releasegate.stages.common import GenerationPass, run_backend

NAME = "generation"


def _spec(
    name: str, description: str, *, range_: Range, direction: Direction, needs: tuple[Need, ...]
) -> MetricSpec:
    return MetricSpec(
        name=name,
        description=description,
        range=range_,
        direction=direction,
        kind=Kind.AGGREGATE,
        stage=NAME,
        needs=needs,
    )


_LOWER, _HIGHER = Direction.LOWER, Direction.HIGHER
METRICS: tuple[MetricSpec, ...] = (
    _spec(
        "generation_seconds",
        "Wall time of generation for the outputs not served from the cache.",
        range_=SECONDS,
        direction=_LOWER,
        needs=(),
    ),
    _spec(
        "throughput_examples_per_s",
        "Examples generated per second (cached outputs excluded).",
        range_=PER_SECOND,
        direction=_HIGHER,
        needs=(),
    ),
    _spec(
        "tokens_out_mean",
        "Mean generated tokens per example.",
        range_=TOKENS,
        direction=_LOWER,
        needs=(Need.TOKEN_COUNTS,),
    ),
    _spec(
        "throughput_tokens_per_s",
        "Generated tokens per second (cached outputs excluded).",
        range_=TOKENS_PER_SECOND,
        direction=_HIGHER,
        needs=(Need.TOKEN_COUNTS,),
    ),
    _spec(
        "tokens_in_mean",
        "Mean prompt tokens per request.",
        range_=TOKENS,
        direction=_LOWER,
        needs=(Need.TOKEN_COUNTS,),
    ),
    _spec(
        "cost_per_1k_requests_usd",
        "USD per 1,000 requests from the configured token prices.",
        range_=USD,
        direction=_LOWER,
        needs=(Need.TOKEN_PRICES, Need.TOKEN_COUNTS),
    ),
    _spec(
        "gpu_cost_per_1k_requests_usd",
        "USD per 1,000 requests from the GPU hourly rate and the measured throughput.",
        range_=USD,
        direction=_LOWER,
        needs=(Need.GPU_PRICE,),
    ),
    *(
        _spec(
            f"{kind}_p{q}_s",
            f"{q}th percentile of {what}, at the recorded model.concurrency.",
            range_=SECONDS,
            direction=_LOWER,
            needs=(Need.REQUEST_TIMING,),
        )
        for kind, what in (
            ("latency", "single-request latency (first attempt to last byte)"),
            ("ttft", "time to first token (streamed requests)"),
            ("itl", "inter-token latency (gaps between streamed chunks, pooled)"),
        )
        for q in PERCENTILES
    ),
)


class GenerationStage:
    """Runs the backend over the benchmark (every other stage reads its outputs)."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """Throughput, token, cost and latency figures."""
        return METRICS

    def optional(self, config: PipelineConfig) -> bool:
        """Never: without outputs there is nothing to decide on."""
        return False

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Always runs."""
        return None

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Generate for every example.

        Raises:
            InputError: examples without output while ``model.on_missing`` is ``error``.
        """
        config, benchmark = inputs.config, inputs.benchmark
        pairs = [(e.id, e.input) for e in benchmark.examples]
        draws, wall = _generate_draws(inputs, pairs)
        outputs = draws[0]
        everything = {f"{sid}#{d}": g for d, out in enumerate(draws) for sid, g in out.items()}
        missing = [g for g in everything.values() if g.error is not None]
        what = "examples" if len(draws) == 1 else "generations"
        if missing and config.model.on_missing == "error":
            first = ", ".join(repr(g.sample_id) for g in missing[:3])
            raise InputError(
                f"{len(missing)} of {len(everything)} {what} have no output (e.g. "
                f"{first}): {missing[0].error}. Set model.on_missing: fail_example to score "
                "them as failures"
            )
        evidence.generations = outputs
        if len(draws) > 1:
            evidence.draws = {sid: [out[sid] for out in draws] for sid, _ in pairs}
        fresh = {k: g for k, g in everything.items() if not g.cached}
        metrics = _throughput(fresh, wall)
        metrics.update(_cost(outputs, fresh, wall, config.cost))
        notes: list[str] = []
        metrics.update(run_latency_pass(inputs.backend, benchmark, config, notes))
        info = inputs.backend.info()
        if info.per_request_latency:
            timing, timing_notes = latency_metrics(fresh, concurrency=info.concurrency)
            metrics.update({k: _metric(k, m.value, m.n) for k, m in timing.items()})
            notes += timing_notes
        tokens_note = token_count_note(fresh)
        if tokens_note:
            notes.append(tokens_note)
        if missing:
            warning = (
                f"{len(missing)} of {len(everything)} {what} have no output and count "
                f"as failures (e.g. {missing[0].sample_id!r}: {missing[0].error})"
            )
            evidence.warnings.append(warning)
            notes.append(warning)
        if len(fresh) < len(everything):
            notes.append(
                f"{len(everything) - len(fresh)} of {len(everything)} outputs served from the "
                "generation cache (same weights, prompts and settings); throughput covers "
                "the rest"
            )
        if len(draws) > 1:
            notes.append(
                f"generation.repeats {len(draws)}: every example generated {len(draws)} times "
                f"(temperature {config.generation.temperature:g}); rate metrics are means over "
                "all draws, the judge and safety stages read draw 0"
            )
        return StageResult(name=NAME, status=PipelineStatus.SUCCESS, metrics=metrics, notes=notes)


def _generate_draws(
    inputs: RunInputs, pairs: list[tuple[str, str | tuple[ChatMessage, ...]]]
) -> tuple[list[dict[str, Generation]], float]:
    """Every draw of ``generation.repeats`` (draw 0 first) and their summed wall time."""
    tools = {e.id: e.functions for e in inputs.benchmark.examples if e.functions}
    draws: list[dict[str, Generation]] = []
    wall = 0.0
    for draw in range(inputs.config.generation.repeats):
        outputs, seconds = run_backend(
            inputs.backend,
            pairs,
            config=inputs.config,
            progress=inputs.progress,
            tools=tools,
            how=GenerationPass(draw=draw),
        )
        draws.append(outputs)
        wall += seconds
    return draws, wall


def _metric(spec_name: str, value: float, n: int) -> MetricValue:
    spec = _BY_NAME[spec_name]
    return MetricValue(
        name=spec_name,
        value=value,
        n=n,
        higher_is_better=spec.higher_is_better,
        unit=spec.unit,
    )


_BY_NAME = {s.name: s for s in METRICS}


def _throughput(outputs: Mapping[str, Generation], wall: float) -> dict[str, MetricValue]:
    done = [g for g in outputs.values() if g.text is not None]
    if not outputs:
        return {}
    metrics = {"generation_seconds": _metric("generation_seconds", wall, len(outputs))}
    if wall > 0 and done:
        metrics["throughput_examples_per_s"] = _metric(
            "throughput_examples_per_s", len(done) / wall, len(done)
        )
    tokens = [g.tokens_out for g in done if g.tokens_out is not None]
    if tokens and len(tokens) == len(done):
        metrics["tokens_out_mean"] = _metric("tokens_out_mean", float(np.mean(tokens)), len(tokens))
        if wall > 0:
            metrics["throughput_tokens_per_s"] = _metric(
                "throughput_tokens_per_s", sum(tokens) / wall, len(tokens)
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
        metrics["tokens_in_mean"] = _metric("tokens_in_mean", float(np.mean(tokens_in)), len(done))
    tokens_out = [g.tokens_out for g in done if g.tokens_out is not None]
    priced = cost.input_price_per_mtok is not None and cost.output_price_per_mtok is not None
    if priced and "tokens_in_mean" in metrics and len(tokens_out) == len(done):
        per_request = (
            metrics["tokens_in_mean"].value * (cost.input_price_per_mtok or 0.0)
            + float(np.mean(tokens_out)) * (cost.output_price_per_mtok or 0.0)
        ) / 1e6
        metrics["cost_per_1k_requests_usd"] = _metric(
            "cost_per_1k_requests_usd", 1000 * per_request, len(done)
        )
    generated = [g for g in fresh.values() if g.text is not None]
    if cost.gpu_usd_per_hour is not None and generated and wall > 0:
        seconds_per_request = wall / len(generated)
        metrics["gpu_cost_per_1k_requests_usd"] = _metric(
            "gpu_cost_per_1k_requests_usd",
            1000 * seconds_per_request * cost.gpu_usd_per_hour / 3600,
            len(generated),
        )
    return metrics
