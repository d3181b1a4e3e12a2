"""The benchmark record types. Imports nothing from inside the package."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]
CallOrder = Literal["sequence", "any"]
WhitespaceRule = Literal["exact", "strip", "ignore"]


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn of an example's input."""

    role: Role
    content: str


@dataclass(frozen=True)
class StringRules:
    """How two strings are compared (see docs/tool-calls.md)."""

    case_sensitive: bool = True
    whitespace: WhitespaceRule = "strip"
    """``exact``; ``strip`` surrounding whitespace; ``ignore`` every whitespace character."""
    ignore_chars: str = ""
    """Characters removed from both sides before comparing (e.g. ``",./-_*^"``)."""
    fold_quotes: bool = False
    """Single quotes compare equal to double quotes."""


@dataclass(frozen=True)
class ComparisonPolicy:
    """A declared, versioned policy for comparing argument values.

    Numbers: an integer is accepted where a float is expected (``int_for_float``); a
    float is accepted where an integer is expected only with ``float_for_int``.
    Booleans never equal numbers. Lists compare in order unless the call marks the
    argument ``unordered``. Dates compare as dates only when ``dates`` is on.
    """

    name: str = "strict-v1"
    version: int = 1
    strings: StringRules = field(default_factory=StringRules)
    int_for_float: bool = True
    float_for_int: bool = False
    dates: bool = False
    """Strings that both read as calendar dates compare as dates (2024-04-01 == April 1, 2024)."""


@dataclass(frozen=True)
class ExpectedCall:
    """One expected function call, with every acceptable value per argument."""

    name: str
    arguments: dict[str, tuple[Any, ...]] = field(hash=False)
    """Argument -> acceptable values (any one matches); an optional argument may have none."""
    optional: frozenset[str] = frozenset()
    """Arguments that may be left out."""
    unordered: frozenset[str] = frozenset()
    """List arguments compared as multisets."""


@dataclass(frozen=True)
class ToolFunction:
    """A function the model may call: its name and the JSON Schema of its parameters."""

    name: str
    parameters: dict[str, Any] = field(hash=False)
    description: str = ""


@dataclass(frozen=True)
class ToolCalls:
    """What an example expects when it is scored as function calls."""

    calls: tuple[ExpectedCall, ...]
    order: CallOrder = "sequence"
    """``sequence``: the i-th output call answers the i-th expected one; ``any``: parallel."""
    comparison: ComparisonPolicy = field(default_factory=ComparisonPolicy)


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
    expected_calls: ToolCalls | None = field(default=None, hash=False)
    """Expected calls with alternatives; None: ``expected_output`` is compared as is."""
    functions: tuple[ToolFunction, ...] = field(default=(), hash=False)
    """The functions offered to the model; ``schema_valid_rate`` checks calls against them."""
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


POLICY_PRESETS: dict[str, ComparisonPolicy] = {
    "strict-v1": ComparisonPolicy(),
    "bfcl-v1": ComparisonPolicy(
        name="bfcl-v1",
        strings=StringRules(
            case_sensitive=False, whitespace="ignore", ignore_chars=",./-_*^", fold_quotes=True
        ),
    ),
}
"""Named policies: ``strict-v1`` (the default) and ``bfcl-v1`` (BFCL's loose strings)."""
