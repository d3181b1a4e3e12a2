"""Escaping for untrusted model output in human reports."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_inline(text: str | None, *, limit: int = 160) -> str:
    """Untrusted text as inert Markdown inline text (escaped, one line, capped)."""
    if text is None:
        return "_(none)_"
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return html.escape(_MD_SPECIAL.sub(r"\\\1", one_line), quote=False)


def html_text(text: str | None, *, limit: int = 160) -> str:
    """Untrusted text inside raw HTML (e.g. ``<summary>``): escaped, one line, capped."""
    one_line = " ".join((text or "").split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return html.escape(one_line)


def md_code(text: str | None, *, limit: int = 2000) -> str:
    """Untrusted text in a fenced block whose fence cannot be closed from inside."""
    if text is None:
        return "_(no output)_"
    body = text if len(text) <= limit else text[:limit] + "\n…(truncated)"
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def md_code_span(text: str | None, *, limit: int = 160) -> str:
    """Untrusted text as an inline code span: one line, capped, safe inside a table."""
    if text is None:
        return "_(none)_"
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    one_line = one_line.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", one_line)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{ticks}{pad}{one_line}{pad}{ticks}"
