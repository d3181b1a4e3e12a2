"""``releasegate calibrate``: evaluate one model several times and measure the A/A noise floor.

Each run is the pipeline's own generation and automated scoring
(:class:`releasegate.pipeline.EvaluationPipeline`), with the generation cache
off so that every run really generates again, and without the judge, the
red-team suite, the latency pass, gates or a baseline: what is measured is
how much the same model's metrics move between identical evaluations.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from releasegate.backends.registry import load_backend
from releasegate.calibration.files import check_noise_floor
from releasegate.calibration.noise import Rule, measure_noise
from releasegate.config.schema import PipelineConfig
from releasegate.errors import BaselineError, ConfigError, StageError
from releasegate.pipeline import EvaluationPipeline
from releasegate.progress import NullProgress, Progress
from releasegate.records.baseline import Baseline
from releasegate.records.calibration import NoiseFloor
from releasegate.records.run import PipelineResult
from releasegate.store.baseline import load_baseline, write_baseline
from releasegate.store.history import record_outcomes

MAX_RUNS = 20


def calibration_config(config: PipelineConfig) -> PipelineConfig:
    """The run's config for an A/A run: no cache, judge, suite, latency pass or gates.

    The determinism check is off too: the A/A runs are themselves the repeatability check.
    """
    generation = config.generation.model_copy(update={"cache": False, "latency_sample": 0})
    return config.model_copy(
        update={
            "generation": generation,
            "judge": config.judge.model_copy(update={"enabled": False}),
            "safety": config.safety.model_copy(update={"suite_path": None}),
            "determinism": config.determinism.model_copy(update={"enabled": False}),
            "quality_gates": [],
            "gates": config.gates.model_copy(update={"allow_no_blocking_gates": True}),
            "llm_judge_sample_rate": None,
        }
    )


def calibrate(
    config: PipelineConfig,
    *,
    model_path: str,
    benchmark_path: str,
    runs: int,
    target_false_block: float,
    progress: Progress | None = None,
) -> NoiseFloor:
    """Evaluate ``model_path`` ``runs`` times and measure the spread between the runs.

    The per-example outcomes of each run go to the run history (when it is on), so
    that items that flip between identical runs are known as flaky later.

    Raises:
        ConfigError: fewer than 2 or more than ``MAX_RUNS`` runs, a bad target, or a
            model reference no backend can take.
        StageError: a run failed (its errors are named).
    """
    if not 2 <= runs <= MAX_RUNS:
        raise ConfigError(f"--runs must be between 2 and {MAX_RUNS}, got {runs}")
    if not 0.0 < target_false_block < 0.5:
        raise ConfigError(f"--false-block must be in (0, 0.5), got {target_false_block}")
    settings = calibration_config(config)
    started = time.perf_counter()
    results: list[PipelineResult] = []
    # One backend for every run: it loads its weights on the first generation, once.
    backend = load_backend(model_path, settings.model)
    for index in range(runs):
        result = EvaluationPipeline(settings, progress=progress or NullProgress()).run(
            model_path=model_path, benchmark_path=benchmark_path, backend=backend
        )
        if result.errors:
            raise StageError(
                f"calibration run {index + 1} of {runs} failed: " + "; ".join(result.errors)
            )
        results.append(result)
    history = config.output.history_path
    if history is not None:
        for result in results:
            record_outcomes(Path(history), result, source="calibrate")
    return measure_noise(
        results,
        rule=Rule(settings=config.regression, target=target_false_block),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seconds=time.perf_counter() - started,
        cache_bypassed=True,
    )


def attach_to_baseline(path: Path, noise: NoiseFloor) -> None:
    """Store ``noise`` in the baseline at ``path`` (atomically), when it is that model's.

    Raises:
        BaselineError: not a full baseline.
        CalibrationMismatch: the baseline is of another model or benchmark.
    """
    baseline = load_baseline(path)
    if not isinstance(baseline, Baseline):
        raise BaselineError(f"{path}: a flat baseline cannot hold a noise floor")
    check_noise_floor(
        noise,
        source=f"{path} (--attach-to)",
        benchmark_fingerprint=baseline.benchmark_fingerprint,
        model_fingerprint=baseline.model_fingerprint,
    )
    write_baseline(path, baseline.model_copy(update={"noise_floor": noise}))
