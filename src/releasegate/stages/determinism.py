"""Stage: regenerate a seeded sample one at a time and count the outputs that changed."""

from __future__ import annotations

from releasegate.backends.base import WindowedBackend
from releasegate.config.schema import PipelineConfig
from releasegate.determinism import compare_outputs, likely_causes, sample_ids
from releasegate.errors import StageError
from releasegate.metrics import RATE, Direction, Kind, MetricSpec, Need
from releasegate.records.core import MetricValue, PipelineStatus, StageResult
from releasegate.records.determinism import DeterminismReport
from releasegate.stages.base import Evidence, RunInputs
from releasegate.stages.common import GenerationPass, run_backend
from releasegate.stats.intervals import wilson

NAME = "determinism"

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        name="determinism_changed_rate",
        description="Share of a seeded sample of examples whose output changed when "
        "generated again, one example at a time with the generation cache off "
        "(`determinism:`); the report lists each changed example and the likely causes.",
        range=RATE,
        direction=Direction.LOWER,
        kind=Kind.AGGREGATE,
        stage=NAME,
        has_interval=True,
        needs=(Need.DETERMINISM_CHECK,),
        fix_hint="read the changed examples and the likely causes: set temperature 0, "
        "pin the server's batching or seed, or accept batch-dependent numerics and gate "
        "with margins wider than the run-to-run spread",
    ),
)


class DeterminismStage:
    """Generates a sample again and compares it with the first generation."""

    name = NAME

    def declare(self, config: PipelineConfig) -> tuple[MetricSpec, ...]:
        """``determinism_changed_rate``."""
        return METRICS

    def optional(self, config: PipelineConfig) -> bool:
        """Always: a failed check leaves its (warning) gate not evaluated."""
        return True

    def skip_reason(self, inputs: RunInputs, evidence: Evidence) -> str | None:
        """Skipped unless ``determinism.enabled``, or without first outputs."""
        if not inputs.config.determinism.enabled:
            return "determinism.enabled is false"
        return None if evidence.generations else "generation produced no outputs"

    def run(self, inputs: RunInputs, evidence: Evidence) -> StageResult:
        """Regenerate the sample (batch size 1, no cache) and compare.

        Raises:
            StageError: no sampled example has an output in both generations.
        """
        config, settings = inputs.config, inputs.config.determinism
        order = [e.id for e in inputs.benchmark.examples]
        picked = sample_ids(
            order, rate=settings.sample_rate, min_items=settings.min_items, seed=config.seed
        )
        by_id = {e.id: e for e in inputs.benchmark.examples}
        again, _ = run_backend(
            inputs.backend,
            [(sid, by_id[sid].input) for sid in picked],
            config=config,
            progress=inputs.progress,
            tools={sid: by_id[sid].functions for sid in picked if by_id[sid].functions},
            how=GenerationPass(batch_size=1, cache=False),
        )
        first = {sid: evidence.generations[sid] for sid in order if sid in again}
        gen = config.generation
        report = compare_outputs(
            first,
            again,
            batch_size=gen.batch_size,
            causes=likely_causes(
                temperature=gen.temperature,
                windowed=isinstance(inputs.backend, WindowedBackend),
                batch_size=gen.batch_size,
                n_cached=sum(1 for g in first.values() if g.cached),
            ),
            expected_to_change=gen.temperature > 0,
        )
        if report.n_checked == 0:
            raise StageError(
                f"determinism check: none of the {len(picked)} sampled examples has an "
                "output in both generations"
            )
        evidence.determinism = report
        return StageResult(
            name=NAME,
            status=PipelineStatus.SUCCESS,
            metrics={"determinism_changed_rate": _rate(report)},
            notes=[summary(report)],
        )


def _rate(report: DeterminismReport) -> MetricValue:
    return MetricValue(
        name="determinism_changed_rate",
        value=report.n_changed / report.n_checked,
        ci=wilson(report.n_changed, n=report.n_checked),
        n=report.n_checked,
        n_failed=report.n_failed,
        higher_is_better=False,
        unit="rate",
    )


def summary(report: DeterminismReport) -> str:
    """One line: how many changed, out of how many, and whether that was expected."""
    line = (
        f"{report.n_changed} of {report.n_checked} regenerated outputs changed "
        f"(one at a time, cache off; first generation in batches of {report.batch_size})"
    )
    if report.expected_to_change:
        line += "; expected with sampling (temperature > 0)"
    return line
