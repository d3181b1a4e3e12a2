"""A real HTTP server on 127.0.0.1 that speaks chat completions, completions and Anthropic messages.

For tests and benchmarks of the judge and the endpoint backend with real clients.
It streams (server-sent events, one chunk per word-ish token, usage in the last
chunk when asked) and can be programmed to answer slowly, with 429 (+ Retry-After),
500, 404, malformed or truncated JSON, HTML, a non-string ``content``, a body that
trickles a byte at a time, a stream that never ends, or an error that echoes the
request's ``Authorization`` header. Every loop is bounded (``Fault.duration_s``) and
stops when the client hangs up. It reports usage figures and the highest number of
requests it had in flight at once. A chat request that carries ``tools`` is answered
with ``tool_calls`` (``content: null``; streamed as tool-call deltas by index) when
the reply is a call in releasegate's canonical form, or when the reply function
returns ``{"tool_calls": [{"name": ..., "arguments": "<raw JSON text>"}]}`` (for
malformed arguments); any other reply is sent as text, as a model that calls no
tool answers. Only ``/v1/chat/completions``,
``/v1/completions`` and ``/v1/messages`` exist; any other path is a 404, as on
vLLM.

    with FakeLLMServer(latency_s=0.05) as server:
        server.push_faults(Fault("429", retry_after="0.2"), Fault("500"))
        ... AsyncOpenAI(base_url=server.openai_base_url, ...) ...
        server.max_in_flight, server.requests
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

FaultKind = Literal[
    "429",
    "500",
    "503",
    "401",
    "404",
    "malformed",
    "truncated",
    "slow",
    "html",
    "bad_content",
    "trickle",
    "stream_forever",
    "echo_auth",
]

Verdict = dict[str, object] | str
"""A verdict object (sent as JSON / as a tool call), or raw reply text (e.g. garbage)."""

_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/messages")
_TOKEN = re.compile(r".{1,4}", re.S)

_SECTION = re.compile(
    r"<<<BEGIN_(INPUT|REFERENCE|OUTPUT|REQUEST|EXPECTED|RESPONSE)_(\w+)>>>\n(.*?)\n<<<END_\1_\2>>>",
    re.S,
)
_SYNONYMS = {"REQUEST": "INPUT", "EXPECTED": "REFERENCE", "RESPONSE": "OUTPUT"}
"""The perturbation check's relabelled fences, read as the usual sections."""


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, applied to the next request that arrives."""

    kind: FaultKind
    retry_after: str | None = None
    """Retry-After header value for 429/503."""
    delay_s: float = 0.0
    """For ``slow``: extra seconds before answering; for ``trickle`` and
    ``stream_forever``: seconds between bytes / chunks (default 2 s / 0.05 s)."""
    duration_s: float = 30.0
    """Upper bound on how long ``trickle`` and ``stream_forever`` keep sending."""


@dataclass(frozen=True)
class RecordedRequest:
    """What the server saw."""

    path: str
    headers: dict[str, str]
    body: dict[str, object]
    started: float
    finished: float


def fenced_sections(prompt: str) -> dict[str, str]:
    """The fenced INPUT / REFERENCE / OUTPUT texts of a judge prompt."""
    return {_SYNONYMS.get(m.group(1), m.group(1)): m.group(3) for m in _SECTION.finditer(prompt)}


def _canonical(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def reference_verdict(system: str, user: str) -> Verdict:
    """A deterministic stand-in judge: 5s when the output equals the reference, else 2s.

    Criterion names are read from the ``"scores"`` example in the system prompt.
    """
    sections = fenced_sections(user)
    match = re.search(r'"scores": (\{[^}]*\})', system)
    names = list(json.loads(match.group(1))) if match else ["accuracy"]
    same = _canonical(sections.get("OUTPUT", "")) == _canonical(sections.get("REFERENCE", "?"))
    score = 5 if same else 2
    return {
        "rationale": "matches the reference" if same else "differs",
        "scores": dict.fromkeys(names, score),
    }


def order_sensitive_verdict(system: str, user: str) -> Verdict:
    """A judge with a position bias: only the criterion listed first gets the honest score.

    The others get one point less (never below 1), so reordering the criteria changes
    verdicts: the perturbation check must catch it.
    """
    honest = reference_verdict(system, user)
    scores = honest.get("scores") if isinstance(honest, dict) else None
    if not isinstance(honest, dict) or not isinstance(scores, dict):
        return honest
    biased = {
        name: int(score) if i == 0 else max(1, int(score) - 1)
        for i, (name, score) in enumerate(scores.items())
    }
    return {"rationale": honest["rationale"], "scores": biased}


def nondeterministic(
    answer: Callable[[str, str], Verdict], *, wrong: str, flip_rate: float, seed: int = 0
) -> Callable[[str, str], Verdict]:
    """A reply function that answers like ``answer``, but ``wrong`` with probability ``flip_rate``.

    A server whose identical requests get different replies (sampling at
    temperature > 0, batch-dependent numerics). Whether the k-th request with a
    given prompt is answered wrongly depends only on (seed, k, prompt), so a
    test's replies repeat whatever order concurrent requests arrive in; thread-safe.
    """
    seen: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    def reply(system: str, user: str) -> Verdict:
        with lock:
            k = seen.get((system, user), 0)
            seen[(system, user)] = k + 1
        flip = random.Random(f"{seed}:{k}:{system}:{user}").random() < flip_rate
        return wrong if flip else answer(system, user)

    return reply


def sampling_verdict(
    options: Callable[[str, str], Sequence[Verdict]], *, seed: int = 0
) -> Callable[[str, str], Verdict]:
    """Replies of a nondeterministic server: one of ``options(system, user)`` per request.

    The choice is seeded (``seed``) and thread-safe, so a test is repeatable while
    the same prompt sent twice may get different replies, as from a server that
    samples or batches with other traffic. Install it with
    :meth:`FakeLLMServer.set_verdict`.
    """
    rng = random.Random(seed)
    lock = threading.Lock()

    def verdict(system: str, user: str) -> Verdict:
        choices = options(system, user)
        with lock:
            return choices[rng.randrange(len(choices))]

    return verdict


@dataclass
class _State:
    verdict: Callable[[str, str], Verdict]
    latency_s: float
    usage_scale: float = 1.0
    faults: deque[Fault] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)
    in_flight: int = 0
    max_in_flight: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    streams: bool = True
    stream_usage: bool = True
    hold_until: int = 0
    hold_max_s: float = 0.0

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    token_delay_s: float = 0.0


def _prompt_parts(body: dict[str, object]) -> tuple[str, str]:
    system = body.get("system") if isinstance(body.get("system"), str) else ""
    user = ""
    messages = body.get("messages")
    for msg in messages if isinstance(messages, list) else []:
        if isinstance(msg, dict) and msg.get("role") == "system":
            system = str(msg.get("content", ""))
        elif isinstance(msg, dict) and msg.get("role") == "user":
            user = str(msg.get("content", ""))
    if isinstance(body.get("prompt"), str):
        user = str(body["prompt"])
    return str(system), user


def _openai_body(body: dict[str, object], text: str, tokens: tuple[int, int]) -> dict[str, object]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": tokens[0],
            "completion_tokens": tokens[1],
            "total_tokens": tokens[0] + tokens[1],
        },
    }


def _completion_body(
    body: dict[str, object], text: str, tokens: tuple[int, int]
) -> dict[str, object]:
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": tokens[0],
            "completion_tokens": tokens[1],
            "total_tokens": tokens[0] + tokens[1],
        },
    }


def _anthropic_body(
    body: dict[str, object], verdict: Verdict, tokens: tuple[int, int]
) -> dict[str, object]:
    if isinstance(verdict, str):
        content: list[dict[str, object]] = [{"type": "text", "text": verdict}]
        stop = "end_turn"
    else:
        content = [
            {"type": "tool_use", "id": "toolu_fake", "name": "record_verdict", "input": verdict}
        ]
        stop = "tool_use"
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server
    _started: float = 0.0
    _body: dict[str, object]
    _recorded: bool = False

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Silence the default stderr access log."""

    def _send(
        self,
        status: int,
        payload: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self._record()
        self.wfile.write(payload)

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _fault(self, fault: Fault, body: dict[str, object]) -> bool:
        """Apply a fault; True when the response has been sent."""
        if fault.kind == "slow":
            time.sleep(fault.delay_s)
            return False
        if fault.kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"id": "chatcmpl-fake", "choices": [{"index"')
            self.wfile.flush()
            self.close_connection = True
            return True
        if fault.kind in ("malformed", "html", "bad_content"):
            payload, content_type = _bad_reply(fault.kind, body)
            self._send(200, payload, content_type=content_type)
            return True
        if fault.kind in ("trickle", "stream_forever"):
            self._endless(fault)
            return True
        headers = {"retry-after": fault.retry_after} if fault.retry_after is not None else {}
        message = f"fake {fault.kind}"
        status = int(fault.kind) if fault.kind.isdigit() else 400
        if fault.kind == "echo_auth":
            message = f"invalid header Authorization: {self.headers.get('Authorization', '')}"
        error = {"error": {"message": message, "type": "fake_error"}}
        self._send(status, json.dumps(error).encode(), headers)
        return True

    def _endless(self, fault: Fault) -> None:
        """Trickle one byte per ``delay_s``, or stream chunks that never finish (bounded)."""
        trickle = fault.kind == "trickle"
        pause = fault.delay_s or (2.0 if trickle else 0.05)
        self._start_chunked("application/json" if trickle else "text/event-stream")
        end = time.monotonic() + fault.duration_s
        piece = b" " if trickle else _sse({"choices": [{"index": 0, "delta": {"content": "a"}}]})
        self.close_connection = True
        try:
            while time.monotonic() < end:
                self._chunk(piece)
                time.sleep(pause)
        except OSError:
            return  # the client hung up: what a deadline should do

    def _stream(self, body: dict[str, object], text: str, tokens: tuple[int, int]) -> None:
        """Send ``text`` as server-sent events, one chunk per word-ish token."""
        state = self.server.state
        chat = self.path.endswith("/chat/completions")
        self._start_chunked("text/event-stream")
        try:
            for piece in _TOKEN.findall(text) or [""]:
                if state.token_delay_s:
                    time.sleep(state.token_delay_s)
                part: dict[str, object] = {"content": piece} if chat else {"text": piece}
                choice: dict[str, object] = (
                    {"index": 0, "delta": part} if chat else {"index": 0, **part}
                )
                self._chunk(_sse({"object": "chunk", "choices": [choice]}))
            final: dict[str, object] = {"index": 0, "finish_reason": "stop"}
            if chat:
                final["delta"] = {}
            else:
                final["text"] = ""
            self._chunk(_sse({"object": "chunk", "choices": [final]}))
            options = body.get("stream_options")
            if state.stream_usage and isinstance(options, dict) and options.get("include_usage"):
                usage = {
                    "prompt_tokens": tokens[0],
                    "completion_tokens": tokens[1],
                    "total_tokens": sum(tokens),
                }
                self._chunk(_sse({"object": "chunk", "choices": [], "usage": usage}))
            self._record()
            self._chunk(b"data: [DONE]\n\n")
            self._end_chunked()
        except OSError:
            self.close_connection = True

    def _send_tool_calls(
        self, body: dict[str, object], calls: list[dict[str, object]], tokens: tuple[int, int]
    ) -> None:
        """Answer with ``tool_calls``: one JSON body, or deltas when streaming was asked."""
        if not (body.get("stream") is True and self.server.state.streams):
            self._send(200, json.dumps(_tool_calls_body(body, calls, tokens)).encode())
            return
        self._start_chunked("text/event-stream")
        try:
            for event in _tool_call_events(calls):
                self._chunk(_sse(event))
            options = body.get("stream_options")
            if isinstance(options, dict) and options.get("include_usage"):
                usage = {"prompt_tokens": tokens[0], "completion_tokens": tokens[1]}
                self._chunk(_sse({"object": "chunk", "choices": [], "usage": usage}))
            self._record()
            self._chunk(b"data: [DONE]\n\n")
            self._end_chunked()
        except OSError:
            self.close_connection = True

    def _record(self) -> None:
        """Add this request to ``requests`` (once), before the last bytes of the reply.

        A client that has its reply therefore always finds its request recorded.
        """
        if self._recorded:
            return
        self._recorded = True
        state = self.server.state
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self._body,
                    started=self._started,
                    finished=time.monotonic(),
                )
            )

    def do_POST(self) -> None:
        """Answer a chat-completions, completions or messages request."""
        state = self.server.state
        started = time.monotonic()
        self._started, self._body, self._recorded = started, {}, False
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            fault = state.faults.popleft() if state.faults else None
            state.arrived.notify_all()
            if state.hold_until:
                state.arrived.wait_for(
                    lambda: state.max_in_flight >= state.hold_until, timeout=state.hold_max_s
                )
        body: dict[str, object] = {}
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            self._body = body
            path = self.path.split("?", 1)[0].rstrip("/")
            if path not in _PATHS:
                error = {"error": {"message": f"no route {path}", "type": "not_found"}}
                self._send(404, json.dumps(error).encode())
                return
            time.sleep(state.latency_s)
            if fault is not None and self._fault(fault, body):
                return
            system, user = _prompt_parts(body)
            verdict = state.verdict(system, user)
            text = verdict if isinstance(verdict, str) else json.dumps(verdict)
            scale = state.usage_scale
            tokens = (
                math.ceil(scale * len(system + user) / 4),
                math.ceil(scale * len(text) / 4),
            )
            calls = tool_calls_for(body, verdict) if path.endswith("/chat/completions") else None
            if calls is not None:
                self._send_tool_calls(body, calls, tokens)
                return
            if path.endswith("/messages"):
                payload = _anthropic_body(body, verdict, tokens)
            elif body.get("stream") is True and state.streams:
                self._stream(body, text, tokens)
                return
            elif path.endswith("/chat/completions"):
                payload = _openai_body(body, text, tokens)
            else:
                payload = _completion_body(body, text, tokens)
            self._send(200, json.dumps(payload).encode())
        finally:
            self._record()  # a reply cut short (a fault) or no reply
            with state.lock:
                state.in_flight -= 1


def tool_calls_for(body: dict[str, object], verdict: Verdict) -> list[dict[str, object]] | None:
    """The ``tool_calls`` to answer with when ``tools`` were sent, else None (text).

    A reply in releasegate's canonical call form (``{"action": NAME, ...}`` or a list
    of them) becomes one call per item, named as the offered tool whose name is NAME
    made safe (``math.hypot`` -> ``math_hypot``); ``{"tool_calls": [...]}`` is sent as
    given, its ``arguments`` text untouched.
    """
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    scripted = verdict.get("tool_calls") if isinstance(verdict, dict) else None
    if isinstance(scripted, list):
        given = [c for c in scripted if isinstance(c, dict)]
        return [{"name": c.get("name"), "arguments": c.get("arguments")} for c in given]
    try:
        value = json.loads(verdict) if isinstance(verdict, str) else verdict
    except json.JSONDecodeError:
        return None
    items = value if isinstance(value, list) else [value]
    if not items or not all(
        isinstance(i, dict) and isinstance(i.get("action"), str) for i in items
    ):
        return None
    offered = {
        str(t["function"].get("name"))
        for t in tools
        if isinstance(t, dict) and isinstance(t.get("function"), dict)
    }
    calls: list[dict[str, object]] = []
    for item in items:
        name = str(item["action"])
        safe = re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64]
        arguments = {k: v for k, v in item.items() if k != "action"}
        calls.append(
            {"name": safe if safe in offered else name, "arguments": json.dumps(arguments)}
        )
    return calls


def _wire_call(index: int, call: dict[str, object]) -> dict[str, object]:
    return {
        "index": index,
        "id": f"call_fake_{index}",
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }


def _tool_calls_body(
    body: dict[str, object], calls: list[dict[str, object]], tokens: tuple[int, int]
) -> dict[str, object]:
    reply = _openai_body(body, "", tokens)
    wire = [_wire_call(i, c) for i, c in enumerate(calls)]
    for item in wire:
        item.pop("index")
    reply["choices"] = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": None, "tool_calls": wire},
            "finish_reason": "tool_calls",
        }
    ]
    return reply


def _tool_call_events(calls: list[dict[str, object]]) -> list[dict[str, object]]:
    """Tool-call deltas as vLLM streams them: the name first, then the arguments in pieces."""
    events: list[dict[str, object]] = [
        {"object": "chunk", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}
    ]
    for index, call in enumerate(calls):
        head = _wire_call(index, {**call, "arguments": ""})
        events.append(
            {"object": "chunk", "choices": [{"index": 0, "delta": {"tool_calls": [head]}}]}
        )
        arguments = call["arguments"] if isinstance(call["arguments"], str) else ""
        for piece in _TOKEN.findall(arguments):
            delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            events.append({"object": "chunk", "choices": [{"index": 0, "delta": delta}]})
    final = {"index": 0, "delta": {}, "finish_reason": "tool_calls"}
    events.append({"object": "chunk", "choices": [final]})
    return events


def _bad_reply(kind: FaultKind, body: dict[str, object]) -> tuple[bytes, str]:
    """A 200 reply that is not a usable completion."""
    if kind == "html":
        return b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"
    if kind == "bad_content":
        reply = _openai_body(body, "x", (1, 1))
        reply["choices"] = [
            {"index": 0, "message": {"role": "assistant", "content": 12345}, "finish_reason": 1}
        ]
        return json.dumps(reply).encode(), "application/json"
    return b'{"id": "chatcmpl-fake", "choices": [ this is not json', "application/json"


def _sse(event: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once (concurrency tests)
    state: _State

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a timeout test) is not an error worth printing."""


class FakeLLMServer:
    """Start on enter, stop on exit; thread-safe counters for assertions."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        verdict: Callable[[str, str], Verdict] = reference_verdict,
    ) -> None:
        self._state = _State(verdict=verdict, latency_s=latency_s)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeLLMServer:
        """Bind to a free port on 127.0.0.1 and serve in a background thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.state = self._state
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_base_url(self) -> str:
        """Base URL for the openai SDK (it appends ``/chat/completions``)."""
        return self.root_url + "/v1"

    def push_faults(self, *faults: Fault) -> None:
        """Queue faults for the next requests, in arrival order."""
        with self._state.lock:
            self._state.faults.extend(faults)

    def set_usage_scale(self, scale: float) -> None:
        """Report ``scale`` times the usual token counts (a tokenizer that counts more)."""
        self._state.usage_scale = scale

    def set_streaming(
        self, *, streams: bool = True, usage: bool = True, token_delay_s: float = 0.0
    ) -> None:
        """Whether ``stream: true`` is honoured, usage sent last, and the pause per token.

        Args:
            streams: answer ``stream: true`` with server-sent events (else plain JSON).
            usage: send a usage chunk when ``stream_options.include_usage`` asks for one.
            token_delay_s: seconds before each streamed token.
        """
        self._state.streams = streams
        self._state.stream_usage = usage
        self._state.token_delay_s = token_delay_s

    def hold_until_in_flight(self, n: int, *, max_wait_s: float = 10.0) -> None:
        """Hold every request until ``n`` are in flight at once (or ``max_wait_s`` passed).

        Proves a client's concurrency without timing: a client that keeps fewer than
        ``n`` requests in flight waits the full ``max_wait_s`` and ``max_in_flight``
        shows how many it had.
        """
        self._state.hold_until = n
        self._state.hold_max_s = max_wait_s

    def set_verdict(self, verdict: Callable[[str, str], Verdict]) -> None:
        """Replace the function that produces replies."""
        self._state.verdict = verdict

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was handling at the same time."""
        return self._state.max_in_flight

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request seen so far, in completion order."""
        with self._state.lock:
            return list(self._state.requests)

    def reset_counters(self) -> None:
        """Forget requests and the in-flight maximum."""
        with self._state.lock:
            self._state.requests.clear()
            self._state.max_in_flight = 0
