"""Reading an OpenAI-compatible reply: one JSON body, or a stream of server-sent events.

A chat reply may carry native ``tool_calls`` (``content`` is then usually ``null``);
they come back as ``RawCall``s, the arguments still their JSON text. In a stream the
tool-call deltas accumulate by ``index``: the name and the arguments arrive in
pieces that are joined in order, as the OpenAI SDK joins them.

Replies are untrusted input. Anything that is not the documented shape (truncated
JSON, an HTML page, ``content: 12345``, a stream that ends before it finishes) raises
``MalformedReply`` with a reason; the backend retries it like a 5xx and, when retries
run out, records it as that example's failure. Nothing here raises anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from releasegate.backends.tool_calls import RawCall

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
    calls: tuple[RawCall, ...] = ()
    """Native ``tool_calls``, in order (empty when the reply is text only)."""


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
    calls: tuple[RawCall, ...] = ()
    if api == "chat":
        message = choice.get("message")
        if not isinstance(message, dict):
            raise MalformedReply("the reply's choices[0] has no message object")
        text = message.get("content")
        calls = _message_calls(message.get("tool_calls"))
        where = "choices[0].message.content"
        if text is None and calls:
            text = ""  # content: null beside tool_calls
    else:
        text = choice.get("text")
        where = "choices[0].text"
    if not isinstance(text, str):
        raise MalformedReply(f"the reply's {where} is {_kind(text)}, not text")
    return Reply(text=text, finish_reason=_finish(choice), usage=_usage(data), calls=calls)


def _message_calls(value: object) -> tuple[RawCall, ...]:
    """``message.tool_calls`` of a non-streamed reply (absent or null: none)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedReply(f"the reply's tool_calls is {_kind(value)}, not a list")
    calls = []
    for i, item in enumerate(value):
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(function, dict):
            raise MalformedReply(f"the reply's tool_calls[{i}] has no function object")
        name, arguments = function.get("name"), function.get("arguments")
        if not isinstance(name, str) or not name:
            raise MalformedReply(f"the reply's tool_calls[{i}].function.name is {_kind(name)}")
        if arguments is not None and not isinstance(arguments, (str, dict)):
            raise MalformedReply(
                f"the reply's tool_calls[{i}].function.arguments is {_kind(arguments)}"
            )
        calls.append(RawCall(name, arguments))
    return tuple(calls)


@dataclass
class _CallPieces:
    """One streamed tool call being assembled."""

    name: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)


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
    calls: dict[int, _CallPieces] = field(default_factory=dict)

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
        tool_text = 0
        if self.api == "chat":
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(delta, dict) and delta.get("tool_calls") is not None:
                tool_text = self._take_calls(delta["tool_calls"])
        else:
            text = choice.get("text")
        if text is not None and not isinstance(text, str):
            raise MalformedReply(f"a streamed chunk's text is {_kind(text)}, not text")
        if text:
            self.pieces.append(text)
        grown = len(text or "") + tool_text
        if grown:
            self.chars += grown
            if self.chars > MAX_REPLY_CHARS:
                raise MalformedReply(f"the streamed reply exceeds {MAX_REPLY_CHARS} characters")
            if self.last_token_at is not None:
                self.gaps.append(now - self.last_token_at)
            if self.first_token_at is None:
                self.first_token_at = now
            self.last_token_at = now
        self.finish_reason = _finish(choice) or self.finish_reason

    def _take_calls(self, deltas: object) -> int:
        """Accumulate ``delta.tool_calls`` by index; the characters they added."""
        if not isinstance(deltas, list):
            raise MalformedReply(f"a streamed chunk's tool_calls is {_kind(deltas)}, not a list")
        added = 0
        for position, item in enumerate(deltas):
            if not isinstance(item, dict):
                raise MalformedReply("a streamed tool call delta is not an object")
            index = item.get("index", position)
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 128:
                raise MalformedReply(f"a streamed tool call's index is {_kind(index)}")
            function = item.get("function") or {}
            if not isinstance(function, dict):
                raise MalformedReply("a streamed tool call's function is not an object")
            pieces = self.calls.setdefault(index, _CallPieces())
            for key, into in (("name", pieces.name), ("arguments", pieces.arguments)):
                value = function.get(key)
                if value is not None and not isinstance(value, str):
                    raise MalformedReply(f"a streamed tool call's {key} is {_kind(value)}")
                if value:
                    into.append(value)
                    added += len(value)
        return added

    def reply(self) -> Reply:
        """The assembled answer.

        Raises:
            MalformedReply: the stream ended before ``[DONE]`` or a finish reason.
        """
        if not self.done and self.finish_reason is None:
            raise MalformedReply("the stream ended before the reply was complete")
        calls = []
        for index in sorted(self.calls):
            pieces = self.calls[index]
            if not pieces.name:
                raise MalformedReply(f"the streamed tool call {index} never named its function")
            calls.append(RawCall("".join(pieces.name), "".join(pieces.arguments)))
        return Reply(
            text="".join(self.pieces),
            finish_reason=self.finish_reason,
            usage=self.usage,
            first_token_at=self.first_token_at,
            gaps_s=tuple(self.gaps),
            calls=tuple(calls),
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
