"""Stage 2: the LLM judge (sampled, budgeted, concurrent, cached, fenced).

Names load on first use: the config schema imports ``releasegate.judge.config``,
and that must not pull in the runner, the SDKs and scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)
