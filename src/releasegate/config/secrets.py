"""The secret values a run must keep out of every artifact, cache and message."""

from __future__ import annotations

from releasegate.config.schema import PipelineConfig
from releasegate.redact import known_secrets


def run_secrets(config: PipelineConfig, *, model_ref: str | None = None) -> set[str]:
    """Secret values a run's artifacts must never contain (see ``known_secrets``).

    Args:
        config: The run's config (``api_key_env`` names, URLs with passwords).
        model_ref: ``--model`` as given (an endpoint URL may carry a password).
    """
    return known_secrets(
        env_names=[config.model.api_key_env, config.judge.api_key_env],
        urls=[model_ref, config.judge.base_url],
    )
