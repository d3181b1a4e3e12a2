"""The benchmark record types. Imports nothing from inside the package."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn of an example's input."""

    role: Role
    content: str


@dataclass(frozen=True)
class Example:
    """One benchmark example."""

    id: str
    """Unique id; every downstream record joins on it."""
    input: str | tuple[ChatMessage, ...]
    """The request, as plain text or as chat messages."""
    expected_output: str
    """The reference answer, usually a JSON object as text."""
    expected_action: str | None = None
    """The expected Task API action, when known."""
    category: str = "uncategorized"
    """Stratum for per-category metrics and judge sampling."""
    tags: tuple[str, ...] = ()
    cluster: str | None = None
    """Group of examples that are not independent (e.g. the template it was generated
    from); paired regression tests are then cluster-robust."""
    metadata: dict[str, object] = field(default_factory=dict, hash=False, compare=False)
    line: int = 0
    """1-based line (JSONL) or array index + 1 (JSON) in the source file."""

    @property
    def input_text(self) -> str:
        """The input flattened to text (for hashing, reports and judge prompts)."""
        if isinstance(self.input, str):
            return self.input
        return "\n".join(f"{m.role}: {m.content}" for m in self.input)

    @property
    def input_hash(self) -> str:
        """sha256 of the canonical input; baselines pair examples on id + this hash."""
        if isinstance(self.input, str):
            payload: object = self.input
        else:
            payload = [[m.role, m.content] for m in self.input]
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Benchmark:
    """A loaded, validated benchmark."""

    path: str
    name: str
    examples: tuple[Example, ...]
    fingerprint: str
    """sha256 over the examples' ids, inputs and expected outputs."""

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def categories(self) -> list[str]:
        """Sorted distinct categories."""
        return sorted({e.category for e in self.examples})
