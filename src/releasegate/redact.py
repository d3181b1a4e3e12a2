"""Remove credentials from text before it reaches an artifact, a database or a cache.

Three kinds of credential are recognised by their form wherever they appear:

- URL userinfo: ``https://user:token@host`` becomes ``https://***@host``;
- query parameters whose names look like keys or tokens (``?api-key=``, ``&access_token=``,
  ``X-Amz-Signature=``...): the value becomes ``***``;
- ``Authorization`` / ``Proxy-Authorization`` header echoes and ``Bearer``/``Basic``
  credentials (a ``Basic`` credential only when it decodes to ``user:password``).

And known secret values are removed in every encoding a server is likely to echo:
raw, percent-encoded, and inside any base64 text (at each of the three byte
alignments, so a key inside ``base64("user:" + key)`` is found too). Known secrets
are the values of the environment variables a config names (``api_key_env``), the
providers' default key variables, any variable whose name says KEY, TOKEN, SECRET or
PASSWORD, and passwords embedded in configured URLs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 8
"""Shorter values are not treated as secrets (redacting "1" everywhere helps no one)."""

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s?#\"'<>]+@")
_QUERY = re.compile(
    r"([?&;][\w.\-\[\]]*?(?:key|token|secret|passw(?:or)?d|pwd|signature|auth|credential"
    r"|session)[\w.\-\[\]]*=)[^&#\s\"'<>]*",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)"
    r"[^\s\"',;}]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}", re.IGNORECASE)
_BASIC = re.compile(r"\b(Basic\s+)([A-Za-z0-9+/]{4,}={0,2})", re.IGNORECASE)
_MAYBE_HEADER = re.compile(r"authorization|bearer|basic", re.IGNORECASE)
"""A cheap pre-check: the three header patterns all need one of these words."""


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every recognised credential replaced by ``***``."""
    for form in _all_forms(frozenset(secrets)):
        if form in text:
            text = text.replace(form, MASK)
    if "://" in text:
        text = _USERINFO.sub(rf"\1{MASK}@", text)
    if "=" in text:
        text = _QUERY.sub(rf"\1{MASK}", text)
    if _MAYBE_HEADER.search(text):
        text = _HEADER.sub(rf"\1{MASK}", text)
        text = _BEARER.sub(rf"\1{MASK}", text)
        text = _BASIC.sub(_basic, text)
    return text


def holds_credential(text: str, secrets: Iterable[str] = ()) -> bool:
    """``text`` holds something :func:`redact_text` would remove (caches refuse such text)."""
    return redact_text(text, secrets) != text


def redact_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Every string (keys included) in JSON-like data, redacted."""
    known = tuple(secrets)
    # A run record repeats its keys and many values (one in ten strings is distinct):
    # each distinct string is redacted once.
    done: dict[str, str] = {}

    def text(raw: str) -> str:
        clean = done.get(raw)
        if clean is None:
            clean = done[raw] = redact_text(raw, known)
        return clean

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return text(item)
        if isinstance(item, dict):
            return {text(str(k)): walk(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [walk(v) for v in item]
        return item

    return walk(value)


def may_redact_json(document: str, secrets: Iterable[str] = ()) -> bool:
    """False only if :func:`redact_text` would change no string of this JSON ``document``.

    A cheap look at the serialised whole instead of a walk over every string: a run
    record with nothing to redact (the usual case) is then used as it is. Conservative:
    each test below holds in the document if it holds in any string in it, because
    JSON escapes character by character and never escapes the characters tested
    (``://``, the query and header patterns, a secret form with no character JSON
    might escape). A secret form with such a character always answers True.
    """
    if "://" in document or _QUERY.search(document) or _may_name_a_header(document):
        return True
    return any(not _json_plain(form) or form in document for form in _all_forms(frozenset(secrets)))


def _may_name_a_header(document: str) -> bool:
    """Conservative ``_MAYBE_HEADER.search``, ~4x faster on a large document.

    A case-insensitive regex alternation is slow over half a megabyte; a lower-cased
    copy and three substring tests are not. ``lower`` differs from the regex's case
    rules only for the characters in ``_FOLDS_OTHERWISE``, which send it to the regex.
    """
    if any(c in document for c in _FOLDS_OTHERWISE):
        return _MAYBE_HEADER.search(document) is not None
    lowered = document.lower()
    return "authorization" in lowered or "bearer" in lowered or "basic" in lowered


_FOLDS_OTHERWISE = ("\u0130", "\u0131", "\u017f")
"""İ, ı and ſ match i and s under ``re.IGNORECASE`` but lower-case to something else."""


def _json_plain(text: str) -> bool:
    """``text`` is printable ASCII other than quote and backslash (JSON leaves it as is)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def known_secrets(
    env_names: Iterable[str | None] = (), urls: Iterable[str | None] = ()
) -> set[str]:
    """Secret values to remove: named variables, key-like variables, URL passwords."""
    names = {n for n in env_names if n}
    names |= {n for n in os.environ if _SECRET_NAME.search(n)}
    found = {os.environ.get(n, "") for n in names}
    for url in urls:
        if not url:
            continue
        parts = urllib.parse.urlsplit(url)
        if parts.password:
            found |= {parts.password, f"{parts.username or ''}:{parts.password}"}
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH}


@functools.lru_cache(maxsize=64)
def _all_forms(secrets: frozenset[str]) -> tuple[str, ...]:
    """Every form of every secret, longest secret first (so no part of one is left)."""
    return tuple(f for s in sorted(secrets, key=len, reverse=True) for f in _forms(s))


def _forms(secret: str) -> list[str]:
    """The secret as echoed raw, percent-encoded, or inside base64 of anything."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    for pad in range(3):
        core = _base64_core(raw, pad)
        if len(core) >= MIN_SECRET_LENGTH:
            forms |= {core, core.replace("+", "-").replace("/", "_")}
    return [f for f in forms if f]


def _base64_core(raw: bytes, pad: int) -> str:
    """The base64 characters fixed by ``raw`` alone when it starts ``pad`` bytes into a group.

    Whatever precedes or follows the secret only changes the groups it shares with it,
    so the whole groups in between encode identically in every surrounding text.
    """
    skip = (3 - pad) % 3  # bytes of the secret that complete the first, shared group
    whole = (len(raw) - skip) // 3 * 3
    return base64.b64encode(raw[skip : skip + whole]).decode("ascii")


def _basic(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(2), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return match.group(0)
    return f"{match.group(1)}{MASK}" if ":" in decoded else match.group(0)
