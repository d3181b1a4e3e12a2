"""Reading an OpenAI-compatible reply: one JSON body, or a stream of server-sent events.

Replies are untrusted input. Anything that is not the documented shape (truncated
JSON, an HTML page, ``content: 12345``, a stream that ends before it finishes) raises
``MalformedReply`` with a reason; the backend retries it like a 5xx and, when retries
run out, records it as that example's failure. Nothing here raises anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

Api = Literal["chat", "completions"]

MAX_REPLY_CHARS = 8 * 1024 * 1024
"""A reply (or the text of a stream) longer than this is refused, not buffered."""


class MalformedReply(Exception):  # noqa: N818 - a reply, not an error of ours
    """A 200 reply that is not a usable completion; ``str()`` is the reason."""


@dataclass(frozen=True)
class Usage:
    """Token counts the server reported."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Reply:
    """One complete answer."""

    text: str
    finish_reason: str | None
    usage: Usage | None
    first_token_at: float | None = None
    """``time.perf_counter()`` when the first non-empty chunk arrived (streams only)."""
    gaps_s: tuple[float, ...] = ()
    """Seconds between consecutive non-empty chunks (streams only)."""


def parse_body(raw: bytes, content_type: str, *, api: Api) -> Reply:
    """Read a non-streamed reply body.

    Raises:
        MalformedReply: not JSON, or not the shape of a completion.
    """
    if "html" in content_type.lower() or raw.lstrip()[:1] == b"<":
        raise MalformedReply("the reply is an HTML page, not JSON (is this the API base URL?)")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedReply(f"the reply is not valid JSON ({_short(exc)})") from None
    choice = _first_choice(data)
    if api == "chat":
        message = choice.get("message")
        if not isinstance(message, dict):
            raise MalformedReply("the reply's choices[0] has no message object")
        text = message.get("content")
        where = "choices[0].message.content"
    else:
        text = choice.get("text")
        where = "choices[0].text"
    if not isinstance(text, str):
        raise MalformedReply(f"the reply's {where} is {_kind(text)}, not text")
    return Reply(text=text, finish_reason=_finish(choice), usage=_usage(data))


@dataclass
class StreamReader:
    """Assembles a streamed reply line by line (``data: {...}`` events)."""

    api: Api
    pieces: list[str] = field(default_factory=list)
    chars: int = 0
    finish_reason: str | None = None
    usage: Usage | None = None
    done: bool = False
    first_token_at: float | None = None
    last_token_at: float | None = None
    gaps: list[float] = field(default_factory=list)

    def feed(self, line: str, now: float) -> None:
        """Take one line of the event stream, received at ``now``.

        Raises:
            MalformedReply: an event that is not JSON, an error event, or too much text.
        """
        if not line.startswith("data:"):
            return  # blank separators, comments (": ping"), event:/id: fields
        data = line[5:].strip()
        if data == "[DONE]":
            self.done = True
            return
        try:
            event = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise MalformedReply(f"a streamed event is not valid JSON ({_short(exc)})") from None
        if not isinstance(event, dict):
            raise MalformedReply(f"a streamed event is {_kind(event)}, not an object")
        if "error" in event:
            raise MalformedReply(f"the server sent an error event: {_error_text(event)}")
        self.usage = _usage(event) or self.usage
        choices = event.get("choices")
        if not isinstance(choices, list) or not choices:
            return  # e.g. the usage-only last chunk
        choice = choices[0]
        if not isinstance(choice, dict):
            raise MalformedReply("a streamed event's choices[0] is not an object")
        self._take(choice, now)

    def _take(self, choice: dict[str, object], now: float) -> None:
        if self.api == "chat":
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
        else:
            text = choice.get("text")
        if text is not None and not isinstance(text, str):
            raise MalformedReply(f"a streamed chunk's text is {_kind(text)}, not text")
        if text:
            self.pieces.append(text)
            self.chars += len(text)
            if self.chars > MAX_REPLY_CHARS:
                raise MalformedReply(f"the streamed reply exceeds {MAX_REPLY_CHARS} characters")
            if self.last_token_at is not None:
                self.gaps.append(now - self.last_token_at)
            self.first_token_at = self.first_token_at or now
            self.last_token_at = now
        self.finish_reason = _finish(choice) or self.finish_reason

    def reply(self) -> Reply:
        """The assembled answer.

        Raises:
            MalformedReply: the stream ended before ``[DONE]`` or a finish reason.
        """
        if not self.done and self.finish_reason is None:
            raise MalformedReply("the stream ended before the reply was complete")
        return Reply(
            text="".join(self.pieces),
            finish_reason=self.finish_reason,
            usage=self.usage,
            first_token_at=self.first_token_at,
            gaps_s=tuple(self.gaps),
        )


def error_message(raw: bytes) -> str:
    """The server's own words from an error body (JSON ``error.message`` or text)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        text = raw[:300].decode("utf-8", "replace").strip()
        return "an HTML page" if text.startswith("<") else text
    return _error_text(data) if isinstance(data, dict) else ""


def _error_text(data: dict[str, object]) -> str:
    error = data.get("error", data)
    if isinstance(error, dict):
        for key in ("message", "detail", "msg"):
            if isinstance(error.get(key), str):
                return str(error[key])
    if isinstance(error, str):
        return error
    detail = data.get("detail")
    return detail if isinstance(detail, str) else ""


def _first_choice(data: object) -> dict[str, object]:
    if not isinstance(data, dict):
        raise MalformedReply(f"the reply is {_kind(data)}, not a JSON object")
    if "error" in data:
        raise MalformedReply(f"the reply carries an error: {_error_text(data)}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise MalformedReply("the reply has no choices")
    if not isinstance(choices[0], dict):
        raise MalformedReply("the reply's choices[0] is not an object")
    return choices[0]


def _finish(choice: dict[str, object]) -> str | None:
    reason = choice.get("finish_reason")
    return reason if isinstance(reason, str) else None


def _usage(data: dict[str, object]) -> Usage | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if not _count(prompt) or not _count(completion):
        return None
    return Usage(prompt_tokens=int(str(prompt)), completion_tokens=int(str(completion)))


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _kind(value: object) -> str:
    if value is None:
        return "missing"
    return f"{type(value).__name__} {json.dumps(value, ensure_ascii=True)[:40]}"


def _short(exc: Exception) -> str:
    return str(exc)[:120]
