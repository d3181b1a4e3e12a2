"""Judge providers: a small registry of lazy ``module:function`` factories.

Adding a provider is one module with ``create(config, api_key) -> JudgeProvider``
and one line here.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from releasegate.errors import ConfigError

if TYPE_CHECKING:
    from releasegate.config.judge import JudgeConfig
    from releasegate.judge.providers.base import JudgeProvider

ProviderFactory = Callable[["JudgeConfig", "str | None"], "JudgeProvider"]


class ProviderRegistry:
    """Name -> lazily imported factory, with did-you-mean on unknown names."""

    def __init__(self) -> None:
        self._entries: dict[str, str] = {}

    def add(self, name: str, target: str) -> None:
        """Register ``name`` for the factory at ``"module:function"``."""
        self._entries[name] = target

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def check(self, name: str) -> None:
        """Raise ``ConfigError`` (with a suggestion) if ``name`` is not registered."""
        if name in self._entries:
            return
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"unknown judge provider '{name}'{hint} (known: {', '.join(self.names())})"
        )

    def factory(self, name: str) -> ProviderFactory:
        """Import and return the factory for ``name``."""
        self.check(name)
        module_name, _, attr = self._entries[name].partition(":")
        factory: ProviderFactory = getattr(importlib.import_module(module_name), attr)
        return factory


PROVIDERS = ProviderRegistry()
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
