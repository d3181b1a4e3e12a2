"""A third-party-style backend for the registry tests (echoes the input back)."""

from __future__ import annotations

from collections.abc import Sequence

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.config.schema import ModelSettings


class EchoBackend:
    """Claims ``echo://`` references and answers every prompt with its own input."""

    name = "echo"

    def __init__(self, ref: str) -> None:
        self.ref = ref

    @classmethod
    def claims(cls, ref: str) -> bool:
        return ref.startswith("echo://")

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings) -> EchoBackend:
        return cls(ref)

    def info(self) -> ModelInfo:
        return ModelInfo(backend="echo", ref=self.ref, fingerprint="echo")

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        return [
            Generation(sample_id=p.sample_id, text=p.input if isinstance(p.input, str) else "")
            for p in prompts
        ]
