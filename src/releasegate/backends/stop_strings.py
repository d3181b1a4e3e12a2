"""Cutting an output at its first stop string, the same way on every backend.

The HF backend stops a row once a stop string appears and cuts the text before it;
vLLM does the same inside the engine. Some servers (``transformers serve``) stop but
leave the stop string in the text, or ignore ``stop``; the endpoint backend cuts
their text here, so an endpoint's outputs equal the HF backend's.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["cut_at_stop"]


def cut_at_stop(text: str, stops: Sequence[str]) -> str | None:
    """``text`` up to (not including) the earliest stop string; None when none occurs."""
    found = [text.find(s) for s in stops if s and s in text]
    return text[: min(found)] if found else None
