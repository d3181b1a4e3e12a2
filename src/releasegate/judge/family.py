"""Model families: a judge from the candidate's own family tends to favour it (self-preference).

A family is read from a model name (``gpt-4o-mini``, ``Llama-3.1-8B``), from an HF
model directory's ``config.json`` (``model_type``, ``architectures``), or from an
endpoint's URL (``api.openai.com`` serves OpenAI models). Unknown stays unknown:
no warning is invented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "openai",
        re.compile(r"\b(gpt|chatgpt|o[1345](-mini|-pro)?|davinci|openai)\b|api\.openai\.com", re.I),
    ),
    ("anthropic", re.compile(r"claude|anthropic", re.I)),
    ("llama", re.compile(r"llama", re.I)),
    ("qwen", re.compile(r"qwen", re.I)),
    ("mistral", re.compile(r"mistral|mixtral|ministral", re.I)),
    ("google", re.compile(r"gemma|gemini", re.I)),
    ("phi", re.compile(r"\bphi[-_]?\d", re.I)),
    ("deepseek", re.compile(r"deepseek", re.I)),
)
"""Family -> a pattern over names, ``model_type``s, architectures and URLs (first match wins)."""


def family_of(text: str) -> str | None:
    """The family a name, architecture or URL belongs to, if recognised."""
    for family, pattern in FAMILIES:
        if pattern.search(text):
            return family
    return None


def _hf_config_names(ref: str) -> list[str]:
    config = Path(ref) / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    names = [str(data.get("model_type", ""))]
    archs = data.get("architectures")
    names += [str(a) for a in archs] if isinstance(archs, list) else []
    return names


def candidate_family(ref: str, hints: Iterable[str] = ()) -> tuple[str | None, str]:
    """(family, what it was read from) of the candidate: its config.json first, then names."""
    for name in _hf_config_names(ref):
        family = family_of(name)
        if family is not None:
            return family, f"config.json {name!r}"
    for name in [*hints, ref]:
        family = family_of(name)
        if family is not None:
            return family, repr(name)
    return None, ""


def judge_family(provider: str | None, model: str | None, base_url: str | None) -> str | None:
    """The judge's family: its model name, else its vendor (provider without a custom URL)."""
    family = family_of(model or "") if model else None
    if family is None and provider == "hf" and model:
        family = candidate_family(model)[0]
    if family is None and base_url is None and provider in ("openai", "anthropic"):
        family = provider
    return family


def same_family_warning(
    *,
    provider: str | None,
    model: str | None,
    base_url: str | None,
    candidate_ref: str,
    candidate_hints: Iterable[str] = (),
) -> str | None:
    """The warning every report carries when judge and candidate share a family, else None."""
    judge = judge_family(provider, model, base_url)
    if judge is None:
        return None
    candidate, source = candidate_family(candidate_ref, candidate_hints)
    if candidate != judge:
        return None
    return (
        f"SAME-FAMILY JUDGE: the judge {model!r} and the candidate ({source}) are both "
        f"{judge} models; judges tend to favour their own family, so read judge scores with care"
    )
