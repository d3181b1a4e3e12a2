"""Configuration: the pydantic schema and the YAML loader."""

from releasegate.config.load import load_config, parse_config
from releasegate.config.schema import (
    Comparison,
    GateType,
    GenerationSettings,
    ModelSettings,
    PipelineConfig,
    QualityGate,
)

__all__ = [
    "Comparison",
    "GateType",
    "GenerationSettings",
    "ModelSettings",
    "PipelineConfig",
    "QualityGate",
    "load_config",
    "parse_config",
]
