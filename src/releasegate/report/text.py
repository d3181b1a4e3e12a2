"""Escaping for untrusted text in reports: one function per output format and context.

Untrusted means model outputs, benchmark inputs and ids, categories, judge
rationales and error messages that quote any of those.

- Markdown prose (``md_inline``): Markdown syntax backslash-escaped, HTML escaped, and
  what GitHub turns live after rendering (``@mentions``, bare ``https://`` and
  ``www.`` links) broken with a zero-width space, so nothing becomes a tag, a link,
  an image or a notification.
- Markdown code (``md_code``, ``md_code_span``): fences that cannot be closed from inside.
- HTML inside Markdown (``html_text``): escaped, mentions and links broken the same way.
- XML (``xml_text``): characters XML 1.0 cannot hold written as visible escapes.

A lone surrogate is written as its visible escape by the file writer.
"""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_ZWSP = "\u200b"
_LIVE = re.compile(r"@|://|(?i:www)\.")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _defuse(text: str) -> str:
    """Break mentions and autolinks with a zero-width space (they render unchanged)."""
    return _LIVE.sub(lambda m: m.group()[0] + _ZWSP + m.group()[1:], text)


def xml_text(text: str | None, *, limit: int | None = None) -> str:
    r"""Untrusted text for an XML attribute or element: only characters XML allows.

    Control characters, lone surrogates and U+FFFE/U+FFFF become visible escapes
    (``\x01``, ``\ud800``); ElementTree escapes ``<``, ``&`` and quotes itself.
    """
    out = _XML_INVALID.sub(lambda m: _escape_char(m.group()), text or "")
    return out if limit is None else out[:limit]


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def md_inline(text: str | None, *, limit: int = 160) -> str:
    """Untrusted text as inert Markdown inline text (escaped, one line, capped)."""
    if text is None:
        return "_(none)_"
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return html.escape(_MD_SPECIAL.sub(r"\\\1", _defuse(one_line)), quote=False)


def html_text(text: str | None, *, limit: int = 160) -> str:
    """Untrusted text inside raw HTML (e.g. ``<summary>``): escaped, one line, capped."""
    one_line = " ".join((text or "").split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return html.escape(_defuse(one_line))


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
