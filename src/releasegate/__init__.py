"""releasegate: decide whether a fine-tuned LLM may ship.

The public API keeps the classic pipeline's names::

    from releasegate import EvaluationPipeline, load_config

    result = EvaluationPipeline(load_config("releasegate.yaml")).run(
        model_path="models/candidate", benchmark_path="benchmark.jsonl",
        baseline_path="baselines/new_baseline.json",
    )
    print(result.decision, result.exit_code)

Names are imported on first use, so that ``releasegate --help`` does not pay for
numpy and scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_getattr

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Comparison": "releasegate.config.gates",
    "Decision": "releasegate.records.core",
    "EvaluationPipeline": "releasegate.pipeline",
    "GateType": "releasegate.config.gates",
    "MetricValue": "releasegate.records.core",
    "PipelineConfig": "releasegate.config.schema",
    "PipelineResult": "releasegate.records.run",
    "PipelineStatus": "releasegate.records.core",
    "QualityGate": "releasegate.config.gates",
    "StageResult": "releasegate.records.core",
    "load_config": "releasegate.config.load",
}

__all__ = [
    "Comparison",
    "Decision",
    "EvaluationPipeline",
    "GateType",
    "MetricValue",
    "PipelineConfig",
    "PipelineResult",
    "PipelineStatus",
    "QualityGate",
    "StageResult",
    "load_config",
]

if TYPE_CHECKING:
    from releasegate.config.gates import Comparison as Comparison
    from releasegate.config.gates import GateType as GateType
    from releasegate.config.gates import QualityGate as QualityGate
    from releasegate.config.load import load_config as load_config
    from releasegate.config.schema import PipelineConfig as PipelineConfig
    from releasegate.pipeline import EvaluationPipeline as EvaluationPipeline
    from releasegate.records.core import Decision as Decision
    from releasegate.records.core import MetricValue as MetricValue
    from releasegate.records.core import PipelineStatus as PipelineStatus
    from releasegate.records.core import StageResult as StageResult
    from releasegate.records.run import PipelineResult as PipelineResult


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
