"""Whether the judge can run, and the judge metric names: what a run needs without judging.

Kept apart from the judge itself (providers' clients, asyncio, the statistics), which
a run imports only when it judges.
"""

from __future__ import annotations

import os

from releasegate.config.judge import JudgeConfig
from releasegate.judge.providers import default_api_key_env

FLIP_METRIC = "judge_perturbation_flip_rate"
DISAGREEMENT_METRIC = "judge_jury_disagreement_rate"


def skip_reason(config: JudgeConfig) -> str | None:
    """Why the judge cannot run as configured (disabled, no provider, key missing), or None."""
    if not config.enabled:
        return "judge disabled in config (judge.enabled: false)"
    if config.provider is None:
        return "no judge configured (judge.provider is not set)"
    for judge in config.jurors():
        env = default_api_key_env(judge)
        if env is not None and not os.environ.get(env):
            who = f" (juror {judge.model})" if config.jury else ""
            return f"judge API key missing{who}: environment variable {env} is not set"
    return None
