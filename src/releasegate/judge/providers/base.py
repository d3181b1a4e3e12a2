"""The judge provider contract: one async call, typed errors, nothing else.

Retries, backoff, timeouts, budget, cache and concurrency live in
``releasegate.judge.runner``; a provider only turns one request into one reply
and classifies its failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class JudgeRequest:
    """One judge call: system instructions, the fenced user message, the verdict schema."""

    system: str
    user: str
    schema: dict[str, object]
    """JSON schema of the verdict (for structured output / tool use)."""
    max_tokens: int
    timeout_s: float


@dataclass(frozen=True)
class JudgeReply:
    """The judge's raw text and the provider's usage figures (None when not reported)."""

    text: str
    tokens_in: int | None
    tokens_out: int | None


class ProviderCallError(Exception):
    """A failed call, classified so the runner knows whether to retry.

    The message must never contain the API key; providers build it from the
    status code and the error type only.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after_s: float | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.fatal = fatal
        """True when no later call can succeed either (bad key, unknown model)."""


@runtime_checkable
class JudgeProvider(Protocol):
    """A judge model behind an SDK."""

    name: str

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """Make one call; raise ``ProviderCallError`` on failure."""
        ...

    async def aclose(self) -> None:
        """Release clients and connections."""
        ...


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` / ``retry-after-ms`` header value (seconds form only)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def status_error(status: int, *, kind: str, retry_after: str | None) -> ProviderCallError:
    """The ``ProviderCallError`` for an HTTP error status from any provider's SDK.

    Args:
        status: The HTTP status code.
        kind: The SDK's exception class name, for the message.
        retry_after: The response's ``Retry-After`` header, if any.
    """
    retryable, fatal = classify_status(status)
    return ProviderCallError(
        f"HTTP {status} ({kind})",
        retryable=retryable,
        fatal=fatal,
        retry_after_s=parse_retry_after(retry_after),
    )


def classify_status(status: int) -> tuple[bool, bool]:
    """(retryable, fatal) for an HTTP status code."""
    if status in (408, 409, 429) or status >= 500:
        return True, False
    if status in (401, 403, 404):
        return False, True
    return False, False
