"""The public API is small, explicit and complete."""

from __future__ import annotations

import releasegate


def test_all_names_resolve_and_match_the_lazy_export_table() -> None:
    assert releasegate.__all__ == sorted(releasegate._EXPORTS)
    for name in releasegate.__all__:
        assert getattr(releasegate, name) is not None


def test_seed_names_are_public() -> None:
    for name in (
        "EvaluationPipeline",
        "PipelineStatus",
        "StageResult",
        "PipelineResult",
        "QualityGate",
        "GateType",
        "Comparison",
    ):
        assert name in releasegate.__all__
