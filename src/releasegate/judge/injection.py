"""Heuristics that flag an evaluated output trying to instruct the judge.

A flag does not change the score (the judge is told to treat such text as a
defect); it is recorded per item with the rules that fired, and counted.
"""

from __future__ import annotations

import re

from releasegate.judge.prompt import FENCE_PATTERN

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ignore-instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(instructions?|prompts?|"
            r"rules|guidelines|rubric|system message)\b",
            re.I,
        ),
    ),
    (
        "score-demand",
        re.compile(
            r"\b(give|award|assign|rate|score|grade|mark)\b[^.\n]{0,40}?"
            r"(\b[1-9]\d?\s*(/|out of)\s*\d+\b|\b(full|perfect|maximum|max|top|highest)\s+"
            r"(score|marks?|points|rating)s?\b)",
            re.I,
        ),
    ),
    (
        "role-claim",
        re.compile(
            r"\b(you are|act as|you're)\s+(now\s+)?(the|a|an)\s+(judge|grader|evaluator|"
            r"assistant|system)\b|\bas the (judge|grader|evaluator)\b|\b(note|message) to the "
            r"(judge|grader|evaluator)\b",
            re.I,
        ),
    ),
    (
        "role-tag",
        re.compile(
            r"<\|?\s*/?\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|?>|\[/?INST\]|"
            r"<</?SYS>>|^\s*(system|assistant)\s*:",
            re.I | re.M,
        ),
    ),
    ("new-instructions", re.compile(r"\bnew (instructions?|task|rules)\s*:", re.I)),
    ("fence-pattern", FENCE_PATTERN),
)


def detect_injection(text: str, *, fence_token: str | None = None) -> str | None:
    """Return a reason naming the rules that fired, or None for an innocent output."""
    fired = [name for name, pattern in _RULES if pattern.search(text)]
    if fence_token is not None and fence_token in text and "fence-pattern" not in fired:
        fired.append("fence-pattern")
    return ", ".join(fired) if fired else None
