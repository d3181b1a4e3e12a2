"""``api_key_env`` and friends: the NAME of an environment variable, never its value."""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Vendor key prefixes, or lower case mixed with digits (names are upper case by habit).
_KEY_LIKE = re.compile(
    r"^(sk-|sk_|pk-|xox|gh[pousr]_|hf_|AIza|ya29\.|eyJ)|[a-z].*[0-9]|[0-9].*[a-z]"
)


def check_env_name(value: str | None) -> str | None:
    """``value`` if it is a variable name (or None); else a ValueError that never echoes it.

    Raises:
        ValueError: not a name, or shaped like a key (``sk-...``, mixed case and digits).
    """
    if value is None:
        return None
    if _NAME.fullmatch(value) and not (_KEY_LIKE.search(value) and not value.isupper()):
        return value
    # Never echo the value: if it is not a name, it may well be the key itself.
    hint = (
        "it looks like a key itself; put the key in an environment variable and write "
        "that variable's name here"
        if _KEY_LIKE.search(value) or len(value) >= 20
        else "letters, digits and underscores, not starting with a digit"
    )
    raise ValueError(
        f"must name an environment variable (e.g. OPENAI_API_KEY), and the value given "
        f"({len(value)} characters, not shown) is not one: {hint}"
    )
