"""Judge providers: the registry of lazy ``module:function`` factories.

Adding a provider is one module with ``create(config, api_key) -> JudgeProvider``
and one line here (or an entry in the ``releasegate.judge_providers`` group).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from releasegate.registry import Registry

if TYPE_CHECKING:
    from releasegate.config.judge import JudgeConfig
    from releasegate.judge.providers.base import JudgeProvider

ProviderFactory = Callable[["JudgeConfig", "str | None"], "JudgeProvider"]


PROVIDERS: Registry[ProviderFactory] = Registry(
    "judge provider", group="releasegate.judge_providers"
)
PROVIDERS.add("openai", "releasegate.judge.providers.openai_compat:create")
PROVIDERS.add("anthropic", "releasegate.judge.providers.anthropic_api:create")
PROVIDERS.add("hf", "releasegate.judge.providers.hf_local:create")


def default_api_key_env(config: JudgeConfig) -> str | None:
    """The key variable to read when ``api_key_env`` is not set."""
    if config.api_key_env:
        return config.api_key_env
    if config.provider == "openai" and config.base_url is None:
        return "OPENAI_API_KEY"
    if config.provider == "anthropic" and config.base_url is None:
        return "ANTHROPIC_API_KEY"
    return None
