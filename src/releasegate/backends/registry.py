"""The backend registry, and ``--model`` detection: each backend claims references.

A backend is a class with ``claims(ref) -> bool`` (is this reference mine, by its
form?) and ``from_settings(ref, settings)``. With ``model.backend: auto`` every
registered backend is asked; exactly one must claim the reference. Plugins register
through the ``releasegate.backends`` entry-point group and take part the same way.
"""

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
    def claims(cls, ref: str) -> bool:
        """True when ``ref`` has this backend's form (cheap: no model is loaded)."""
        ...

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings) -> Backend:
        """Build the backend for ``ref`` (validates before any model is loaded)."""
        ...


BACKENDS: Registry[BackendFactory] = Registry("backend", group="releasegate.backends")
BACKENDS.add("replay", "releasegate.backends.replay:ReplayBackend")
BACKENDS.add("hf", "releasegate.backends.hf:HFBackend")
BACKENDS.add("openai", "releasegate.backends.openai_endpoint:OpenAIEndpointBackend")
BACKENDS.add("vllm", "releasegate.backends.vllm:VLLMBackend")


def detect_backend(ref: str) -> str:
    """Name the one registered backend that claims ``ref``.

    Raises:
        ConfigError: no backend claims it (with what the reference looks like), or
            several do (then ``--backend`` must choose).
    """
    claimed = [name for name in BACKENDS.names() if BACKENDS.get(name).claims(ref)]
    if len(claimed) == 1:
        return claimed[0]
    if claimed:
        raise ConfigError(
            f"--model {ref}: claimed by several backends ({', '.join(claimed)}); "
            "use --backend to choose one"
        )
    raise ConfigError(_unclaimed(ref))


def _unclaimed(ref: str) -> str:
    path = Path(ref)
    if path.is_dir():
        return (
            f"--model {ref}: a directory must contain config.json (a model) "
            "or adapter_config.json (a PEFT/LoRA adapter)"
        )
    if path.suffix == ".jsonl" and not path.is_file():
        return f"--model {ref}: replay file not found"
    if not path.exists():
        return f"--model {ref}: no such file or directory"
    return (
        f"--model {ref}: not a model directory, a .jsonl replay file or an http(s) URL; "
        f"use --backend to force one ({', '.join(BACKENDS.names())})"
    )


def load_backend(ref: str, settings: ModelSettings) -> Backend:
    """Detect (or take ``settings.backend``) and build the backend for ``ref``.

    Raises:
        ConfigError: an unknown backend name (with a did-you-mean) or an unclaimed
            reference.
    """
    name = settings.backend if settings.backend != "auto" else detect_backend(ref)
    return BACKENDS.get(name).from_settings(ref, settings)


def check_backend_name(name: str) -> None:
    """Fail on a ``model.backend`` that no registered backend has (before anything runs).

    Raises:
        ConfigError: with a did-you-mean.
    """
    if name != "auto":
        try:
            BACKENDS.check(name)
        except ConfigError as exc:
            raise ConfigError(f"model.backend: {exc}") from exc
