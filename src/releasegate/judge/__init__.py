"""Stage 2: the LLM judge (sampled, budgeted, concurrent, cached, fenced)."""

from releasegate.judge.config import Criterion, JudgeConfig
from releasegate.judge.records import JudgeItem, JudgeOutcome
from releasegate.judge.stage import run_judge_stage

__all__ = ["Criterion", "JudgeConfig", "JudgeItem", "JudgeOutcome", "run_judge_stage"]
