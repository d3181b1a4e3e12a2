"""Default judge prices, USD per million tokens (input, output).

Dated: list prices as published by the providers and known to us on 2025-10-15. They change;
set ``judge.input_price_per_mtok`` / ``judge.output_price_per_mtok`` in the
config to override. A model that is not in this table and has no configured
price is treated as free (a local judge) and the report says so.
"""

from __future__ import annotations

PRICE_TABLE_DATE = "2025-10-15"

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00),
}
"""Model-name prefix -> (input, output) USD per million tokens; longest prefix wins."""


def lookup_price(model: str) -> tuple[float, float] | None:
    """Return the default (input, output) price for ``model``, or None when unknown.

    A dated snapshot suffix (``gpt-4o-mini-2024-07-18``) matches its base name;
    the longest matching prefix wins so ``gpt-4o-mini`` is not priced as ``gpt-4o``.
    """
    name = model.strip().lower()
    best: str | None = None
    for prefix in DEFAULT_PRICES:
        if (name == prefix or name.startswith(prefix + "-")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    return DEFAULT_PRICES[best] if best is not None else None
