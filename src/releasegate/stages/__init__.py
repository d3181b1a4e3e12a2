"""The stages of an evaluation, one module each, behind the ``Stage`` protocol.

``STAGES`` registers them by name; ``pipeline.py`` runs them in its declared order.
A plugin adds a stage through the ``releasegate.stages`` entry-point group.
"""

from __future__ import annotations

from releasegate.registry import Registry
from releasegate.stages.base import Stage

STAGES: Registry[type[Stage]] = Registry("stage", group="releasegate.stages")
STAGES.add("generation", "releasegate.stages.generation:GenerationStage")
STAGES.add("determinism", "releasegate.stages.determinism:DeterminismStage")
STAGES.add("automated_metrics", "releasegate.stages.automated:AutomatedMetricsStage")
STAGES.add("safety", "releasegate.stages.safety:SafetyStage")
STAGES.add("safety_delta", "releasegate.stages.safety_delta:SafetyDeltaStage")
STAGES.add("safety_judge", "releasegate.stages.safety_judge:SafetyJudgeStage")
STAGES.add("llm_judge", "releasegate.stages.judge:JudgeStage")
STAGES.add("regression", "releasegate.stages.regression:RegressionStage")
