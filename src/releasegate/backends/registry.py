"""Backend registry and the ``--model`` form detection of SPEC §2."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from releasegate.backends.base import Backend
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError
from releasegate.registry import Registry


class BackendFactory(Protocol):
    """What a registered backend class provides."""

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings) -> Backend:
        """Build the backend for ``ref`` (validates before any model is loaded)."""
        ...


BACKENDS: Registry[BackendFactory] = Registry("backend", group="releasegate.backends")
BACKENDS.add("replay", "releasegate.backends.replay:ReplayBackend")
BACKENDS.add("hf", "releasegate.backends.hf:HFBackend")
BACKENDS.add("openai", "releasegate.backends.openai_endpoint:OpenAIEndpointBackend")


def detect_backend(ref: str) -> str:
    """Name the backend for a model reference by its form.

    A directory with ``config.json`` or ``adapter_config.json`` is an HF model or
    adapter; a ``.jsonl`` file is a replay of outputs; an ``http(s)://`` URL is an
    OpenAI-compatible chat-completions endpoint.

    Raises:
        ConfigError: the reference matches no known form.
    """
    if ref.startswith(("http://", "https://")):
        return "openai"
    path = Path(ref)
    if path.is_dir():
        if (path / "config.json").is_file() or (path / "adapter_config.json").is_file():
            return "hf"
        raise ConfigError(
            f"--model {ref}: a directory must contain config.json (a model) "
            "or adapter_config.json (a PEFT/LoRA adapter)"
        )
    if path.suffix == ".jsonl":
        if not path.is_file():
            raise ConfigError(f"--model {ref}: replay file not found")
        return "replay"
    if not path.exists():
        raise ConfigError(f"--model {ref}: no such file or directory")
    raise ConfigError(
        f"--model {ref}: not a model directory, a .jsonl replay file or an http(s) URL; "
        "use --backend to force one"
    )


def load_backend(ref: str, settings: ModelSettings) -> Backend:
    """Detect (or take ``settings.backend``) and build the backend for ``ref``."""
    name = settings.backend if settings.backend != "auto" else detect_backend(ref)
    return BACKENDS.get(name).from_settings(ref, settings)
