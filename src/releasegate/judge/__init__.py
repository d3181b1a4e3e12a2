"""Stage 2: the LLM judge (sampled, budgeted, concurrent, cached, fenced).

Names load on first use: the config schema imports ``releasegate.judge.config``,
and that must not pull in the runner, the SDKs and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Criterion", "JudgeConfig", "JudgeItem", "JudgeOutcome", "run_judge_stage"]

_EXPORTS = {
    "Criterion": "releasegate.judge.config",
    "JudgeConfig": "releasegate.judge.config",
    "JudgeItem": "releasegate.judge.records",
    "JudgeOutcome": "releasegate.judge.records",
    "run_judge_stage": "releasegate.judge.stage",
}

if TYPE_CHECKING:
    from releasegate.judge.config import Criterion as Criterion
    from releasegate.judge.config import JudgeConfig as JudgeConfig
    from releasegate.judge.records import JudgeItem as JudgeItem
    from releasegate.judge.records import JudgeOutcome as JudgeOutcome
    from releasegate.judge.stage import run_judge_stage as run_judge_stage


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'releasegate.judge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
