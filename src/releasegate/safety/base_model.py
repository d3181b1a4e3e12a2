"""Which base model a candidate adapter stands on, and how to load it.

A PEFT adapter is the classic way safety erodes (the base refuses, the adapter
complies), so when the candidate is one the red-team suite also runs on its base
with the same decoding settings and the two runs are compared item by item
(``releasegate.safety.delta``).
"""

from __future__ import annotations

from releasegate.backends.base import Backend, ModelInfo
from releasegate.backends.registry import load_backend
from releasegate.config.schema import ModelSettings


def adapter_base(info: ModelInfo) -> str | None:
    """The base model reference of an adapter candidate, else None.

    Backends that load adapters record ``details["kind"] == "adapter"`` and the
    resolved ``details["base"]`` (the HF backend does).
    """
    if info.details.get("kind") != "adapter":
        return None
    return info.details.get("base") or None


def load_base_backend(base_ref: str, settings: ModelSettings) -> Backend:
    """The base model with the candidate's model settings, minus the adapter's own.

    Raises:
        ReleaseGateError: the base cannot be loaded (the caller reports it; a gate
            on a delta is then never silently passed).
    """
    return load_backend(base_ref, settings.model_copy(update={"base_model": None}))
