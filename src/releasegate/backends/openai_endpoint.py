"""OpenAI-compatible endpoints: vLLM, SGLang, TGI, llama.cpp, Ollama, ``transformers serve``.

One request per example over plain HTTP (httpx), ``model.concurrency`` in flight as
a sliding window across the whole benchmark (a new request starts as soon as one
finishes; ``generation.batch_size`` plays no part). Replies stream by default, so
each example carries its time to first token and the gaps between chunks.

Every example has a wall-clock deadline (``model.timeout_s``) from connect to the
last byte, retries and back-off included, so a server that trickles a byte at a
time or streams forever cannot hold a run; ``model.run_timeout_s`` bounds the whole
stage, and deadline misses in a row (twice the concurrency) stop the requests not yet
sent. 429, 5xx, dropped connections and malformed 200 replies (truncated JSON,
HTML, a non-string ``content``) are retried with back-off that honours Retry-After,
then become that example's failure with the reason. A 401/403/404 or an endpoint
that cannot be reached stops the remaining requests (they would all fail alike) and
the error names the URL, with a hint when ``/v1`` is missing.

With ``model.tool_calls: native`` a chat request carries the example's functions as
``tools`` (names made safe for servers and mapped back) with ``model.tool_choice``,
and the reply's ``tool_calls`` become the canonical call text the scorer reads
(arguments parsed from their JSON string; arguments that do not parse leave the
example ``unparseable``). An example without functions is asked as text; the run's
report says how many were. A stop string the server left in the text (``transformers
serve`` does) is cut here, as the HF backend cuts it.

The API key comes only from the variable named by ``model.api_key_env`` and is
sent as a Bearer token. Credentials in the URL (``user:pass@host``) are refused,
never sent as Basic auth; the key and any ``Authorization`` echo are scrubbed from
error messages and outputs, and key-like query parameters from recorded URLs.
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.backends.endpoint_reply import (
    MAX_REPLY_CHARS,
    MalformedReply,
    Reply,
    StreamReader,
    error_message,
    parse_body,
)
from releasegate.backends.stop_strings import cut_at_stop
from releasegate.backends.tool_calls import calls_text, openai_tools
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError

if TYPE_CHECKING:
    # Imported where requests are sent: ``--model`` detection imports every backend
    # module, and a run of a local model should not pay for httpx (~0.1 s), nor for
    # asyncio and email.utils (~0.04 s).
    import httpx

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Statuses retried with back-off (others fail the example at once)."""
ENDPOINT_WIDE_STATUS = frozenset({401, 403, 404, 405})
"""Statuses that every request would get alike: the remaining ones are not sent."""
OWN_FIELDS = frozenset(
    {"model", "messages", "prompt", "max_tokens", "temperature", "seed", "stop", "stream"}
)
"""Request fields releasegate sets itself; ``model.extra_body`` may not override them."""
NATIVE_FIELDS = frozenset({"tools", "tool_choice"})
"""Also releasegate's own under ``model.tool_calls: native``."""
NATIVE_DETAIL = "native (tools sent, tool_calls read)"
"""How a native run's tool calls are recorded in the model details and the report."""
LATE_IN_A_ROW = 4
"""This many deadline misses in a row (at least twice the concurrency) stop the
requests not yet sent: a server that trickles or never finishes cannot hold a run of
N examples for N / concurrency deadlines."""
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 8.0
_ERROR_BODY_BYTES = 64 * 1024
_SECRET_QUERY = re.compile(r"(?i)(key|token|secret|passw|auth|sig|credential)")
_AUTH_ECHO = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}")


class _Retry(Exception):  # noqa: N818 - control flow, never escapes this module
    def __init__(
        self, reason: str, *, retry_after: float | None = None, unreachable: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.unreachable = unreachable


class _Fatal(Exception):  # noqa: N818 - control flow, never escapes this module
    def __init__(self, reason: str, *, endpoint_wide: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.endpoint_wide = endpoint_wide


class OpenAIEndpointBackend:
    """One completion request per example, ``model.concurrency`` in flight."""

    name = "openai"
    settings_used: ClassVar[frozenset[str]] = frozenset(
        {
            "path",
            "backend",
            "model_name",
            "api_key_env",
            "concurrency",
            "timeout_s",
            "max_retries",
            "run_timeout_s",
            "api",
            "stream",
            "extra_body",
            "system_prompt",
            "on_missing",
            "tool_calls",
            "tool_choice",
        }
    )
    """The ``model:`` settings this backend reads; only these are recorded for its runs
    (HF-only settings such as ``dtype`` would be recorded as if they applied)."""

    def __init__(self, url: str, *, settings: ModelSettings, api_key: str | None) -> None:
        self.url = url
        self.settings = settings
        self._api_key = api_key
        route = "/chat/completions" if settings.api == "chat" else "/completions"
        parts = urlsplit(url)
        self._endpoint = urlunsplit(parts._replace(path=parts.path.rstrip("/") + route))
        self._where = f"POST {redact_url(self._endpoint)}"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._abort: str | None = None
        self._late_in_row = 0
        self._late_limit = max(LATE_IN_A_ROW, 2 * settings.concurrency)
        self._native = settings.tool_calls == "native"
        self._asked_as_text = 0

    @classmethod
    def claims(cls, ref: str) -> bool:
        """An ``http(s)://`` URL is an OpenAI-compatible endpoint."""
        return ref.startswith(("http://", "https://"))

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings) -> OpenAIEndpointBackend:
        """Check the endpoint settings (no request is sent here).

        Raises:
            ConfigError: no served model name, the key variable is named but unset,
                credentials in the URL, or ``extra_body`` overriding releasegate's fields.
        """
        parts = urlsplit(ref)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--model {redact_url(ref)}: an endpoint URL needs http(s)://host")
        if "@" in parts.netloc:
            raise ConfigError(
                f"--model {redact_url(ref)}: credentials in the URL are refused (they would be "
                "sent as Basic auth and written into logs); put the key in an environment "
                "variable and name it in model.api_key_env"
            )
        if not settings.model_name:
            raise ConfigError(
                f"--model {redact_url(ref)}: an endpoint needs the served model name "
                "(model.model_name or --model-name)"
            )
        native = settings.tool_calls == "native"
        if native and settings.api != "chat":
            raise ConfigError(
                "model.tool_calls: native sends tools with chat completions; "
                "it needs model.api: chat (or tool_calls: text)"
            )
        own = OWN_FIELDS | NATIVE_FIELDS if native else OWN_FIELDS
        clash = sorted(own & set(settings.extra_body))
        if clash:
            raise ConfigError(
                f"model.extra_body: {', '.join(clash)} set by releasegate from the config "
                "(generation.*, model.*); set them there instead"
            )
        key = None
        if settings.api_key_env:
            key = os.environ.get(settings.api_key_env)
            if not key:
                raise ConfigError(
                    f"model.api_key_env: the variable {settings.api_key_env} is not set"
                )
        return cls(ref, settings=settings, api_key=key)

    def info(self) -> ModelInfo:
        """The endpoint, the served model name and how it is called."""
        s = self.settings
        return ModelInfo(
            backend=self.name,
            ref=redact_url(self.url),
            fingerprint=f"endpoint:{s.model_name}",
            details={
                "url": redact_url(self.url),
                "model_name": str(s.model_name),
                "api": s.api,
                "stream": "yes" if s.stream else "no",
                "concurrency": str(s.concurrency),
                "token_counts": "server-reported usage (absent where the server reports none)",
                "tool_calls": NATIVE_DETAIL if self._native else "text",
            },
            per_request_latency=True,
            concurrency=s.concurrency,
        )

    def notes(self) -> list[str]:
        """Under native tool calls: how many examples had no functions and went as text."""
        if not self._asked_as_text:
            return []
        return [
            f"model.tool_calls: native, but {self._asked_as_text} example(s) have no functions: "
            "they were asked as text (no tools sent) and scored from the text reply"
        ]

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """Send every prompt, ``model.concurrency`` at a time; results in prompt order."""
        return self.generate_windowed(prompts, params, on_done=lambda _: None)

    def generate_windowed(
        self,
        prompts: Sequence[Prompt],
        params: GenerationParams,
        on_done: Callable[[Generation], None],
    ) -> list[Generation]:
        """Send every prompt with a sliding window of ``model.concurrency`` requests."""
        import asyncio

        if not prompts:
            return []
        return asyncio.run(self._run(prompts, params, on_done))

    # ------------------------------------------------------------------ the window
    async def _run(
        self,
        prompts: Sequence[Prompt],
        params: GenerationParams,
        on_done: Callable[[Generation], None],
    ) -> list[Generation]:
        import asyncio

        s = self.settings
        self._abort = None
        self._late_in_row = 0
        self._asked_as_text = 0
        results: list[Generation | None] = [None] * len(prompts)
        queue = deque(range(len(prompts)))
        n = s.concurrency
        import httpx

        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(s.timeout_s), limits=limits, follow_redirects=False
        ) as client:

            async def worker() -> None:
                while queue:
                    i = queue.popleft()
                    if self._abort is not None:
                        done = self._failure(prompts[i], f"not sent: {self._abort}")
                    else:
                        done = await self._one(client, prompts[i], params)
                    results[i] = done
                    on_done(done)

            workers = [asyncio.create_task(worker()) for _ in range(min(s.concurrency, len(queue)))]
            with contextlib.suppress(asyncio.TimeoutError):  # the unfinished examples fail below
                await asyncio.wait_for(asyncio.gather(*workers), timeout=s.run_timeout_s)
        late = f"not finished within model.run_timeout_s ({s.run_timeout_s} s)"
        return [g or self._failure(p, late) for g, p in zip(results, prompts, strict=True)]

    async def _one(
        self, client: httpx.AsyncClient, prompt: Prompt, params: GenerationParams
    ) -> Generation:
        """One example: attempts and back-off inside one wall-clock deadline."""
        import asyncio

        timeout = self.settings.timeout_s
        started = time.perf_counter()
        deadline = started + timeout
        body, names = self._body(prompt, params)
        attempts = 0
        while True:
            attempts += 1
            tries = f", {attempts} attempts" if attempts > 1 else ""
            try:
                reply = await asyncio.wait_for(
                    self._attempt(client, body), timeout=deadline - time.perf_counter()
                )
            except asyncio.TimeoutError:
                self._late_in_row += 1
                if self._late_in_row >= self._late_limit:
                    self._abort = (
                        f"{self._late_in_row} requests in a row got no complete reply within "
                        f"model.timeout_s ({timeout:g} s); {redact_url(self.url)} is not "
                        "answering in time"
                    )
                return self._failure(
                    prompt,
                    f"{self._where}: no complete reply within model.timeout_s "
                    f"({timeout:g} s from connect to the last byte{tries})",
                )
            except _Fatal as exc:
                if exc.endpoint_wide:
                    self._abort = exc.reason
                return self._failure(prompt, exc.reason)
            except _Retry as exc:
                if attempts > self.settings.max_retries:
                    if exc.unreachable:
                        self._abort = exc.reason
                    after = f" (after {attempts} attempts)" if attempts > 1 else ""
                    return self._failure(prompt, exc.reason + after)
                wait = exc.retry_after if exc.retry_after is not None else _backoff(attempts)
                if time.perf_counter() + wait >= deadline:
                    return self._failure(
                        prompt,
                        f"{exc.reason}; no time left for a retry within model.timeout_s "
                        f"({timeout:g} s{tries})",
                    )
                await asyncio.sleep(wait)
                continue
            self._late_in_row = 0
            return self._generation(prompt, reply, started, params=params, names=names)

    async def _attempt(self, client: httpx.AsyncClient, body: dict[str, Any]) -> Reply:
        """One HTTP exchange; raises ``_Retry`` or ``_Fatal`` for anything but an answer."""
        import httpx  # already loaded by ``_run``: a dictionary lookup

        try:
            request = client.build_request("POST", self._endpoint, json=body, headers=self._headers)
            response = await client.send(request, stream=True)
            try:
                return await self._read(response)
            finally:
                await response.aclose()
        except MalformedReply as exc:
            raise _Retry(f"{self._where}: malformed reply: {self._scrub(str(exc))}") from None
        except httpx.TimeoutException as exc:
            raise _Retry(f"{self._where}: {type(exc).__name__} (no data for a while)") from None
        except httpx.ConnectError as exc:
            raise _Retry(
                f"{self._where}: cannot connect ({self._scrub(str(exc)) or type(exc).__name__}); "
                "is the server running at that address?",
                unreachable=True,
            ) from None
        except httpx.HTTPError as exc:
            detail = self._scrub(str(exc)) or type(exc).__name__
            raise _Retry(f"{self._where}: connection failed mid-reply ({detail})") from None

    async def _read(self, response: httpx.Response) -> Reply:
        status = response.status_code
        if status != 200:
            raw = await _read_capped(response, _ERROR_BODY_BYTES, truncate=True)
            raise self._status_error(status, raw, response.headers)
        content_type = response.headers.get("content-type", "")
        if self.settings.stream and "text/event-stream" in content_type:
            reader = StreamReader(api=self.settings.api)
            async for line in _lines(response):
                reader.feed(line, time.perf_counter())
                if reader.done:
                    break
            return reader.reply()
        return parse_body(
            await _read_capped(response, MAX_REPLY_CHARS), content_type, api=self.settings.api
        )

    def _status_error(self, status: int, raw: bytes, headers: httpx.Headers) -> Exception:
        said = self._scrub(error_message(raw))[:300]
        said = f": {said}" if said else ""
        where = f"{self._where}: HTTP {status}{said}"
        if status in RETRY_STATUS:
            return _Retry(where, retry_after=_retry_after(headers.get("retry-after")))
        if 300 <= status < 400:
            target = redact_url(headers.get("location", "?"))
            return _Fatal(
                f"{where} (redirected to {target}); point --model at the API base URL itself",
                endpoint_wide=True,
            )
        if status == 404:
            return _Fatal(where + self._not_found_hint(), endpoint_wide=True)
        if status in (401, 403):
            hint = (
                f"; check the key in {self.settings.api_key_env}"
                if self._api_key
                else "; no key was sent: name its variable in model.api_key_env"
            )
            return _Fatal(where + hint, endpoint_wide=True)
        if status in (400, 422) and self.settings.stream:
            where += "; if the server rejects streaming (stream_options), set model.stream: false"
        return _Fatal(where, endpoint_wide=status in ENDPOINT_WIDE_STATUS)

    def _not_found_hint(self) -> str:
        path = urlsplit(self.url).path.rstrip("/")
        if not path.endswith("/v1"):
            parts = urlsplit(self.url)
            fixed = urlunsplit(parts._replace(path=path + "/v1"))
            return f"; OpenAI-compatible servers answer under /v1: try --model {redact_url(fixed)}"
        if self.settings.api == "chat":
            return (
                f"; check the URL and model.model_name ({self.settings.model_name}); a server "
                "without chat completions needs model.api: completions"
            )
        return f"; check the URL and model.model_name ({self.settings.model_name})"

    # --------------------------------------------------------------- bodies, results
    def _body(
        self, prompt: Prompt, params: GenerationParams
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The request body, and the wire -> real function names of the tools it sends."""
        body: dict[str, Any] = {
            "model": self.settings.model_name,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        }
        messages = _messages(prompt, self.settings.system_prompt)
        if self.settings.api == "chat":
            body["messages"] = messages
        else:
            body["prompt"] = "\n\n".join(m["content"] for m in messages)
        if params.stop:
            body["stop"] = list(params.stop)
        if self.settings.stream:
            body["stream"] = True
            body.setdefault("stream_options", {"include_usage": True})
        names: dict[str, str] = {}
        if self._native and prompt.tools:
            body["tools"], names = openai_tools(prompt.tools)
            body["tool_choice"] = self.settings.tool_choice
        elif self._native:
            self._asked_as_text += 1
        body.update(self.settings.extra_body)
        return body, names

    def _generation(
        self,
        prompt: Prompt,
        reply: Reply,
        started: float,
        *,
        params: GenerationParams,
        names: dict[str, str],
    ) -> Generation:
        """The example's result: tool calls as canonical text, else the text cut at a stop."""
        usage = reply.usage
        text, finish = reply.text, reply.finish_reason
        cut = cut_at_stop(text, params.stop)
        if cut is not None:  # the server left the stop string in (or ignored ``stop``)
            text, finish = cut, "stop"
        if reply.calls:
            text = calls_text(reply.calls, names)
        return Generation(
            sample_id=prompt.sample_id,
            text=self._scrub_key(text),
            finish_reason=finish,
            latency_s=time.perf_counter() - started,
            tokens_in=usage.prompt_tokens if usage else None,
            tokens_out=usage.completion_tokens if usage else None,
            ttft_s=reply.first_token_at - started if reply.first_token_at is not None else None,
            inter_token_s=reply.gaps_s,
            tokens_source="server usage" if usage else None,
        )

    def _failure(self, prompt: Prompt, message: str) -> Generation:
        return Generation(sample_id=prompt.sample_id, text=None, error=self._scrub(message)[:500])

    def _scrub_key(self, text: str) -> str:
        if not self._api_key:
            return text
        key = self._api_key
        for form in (key, *_encoded(key)):
            text = text.replace(form, "***")
        return text

    def _scrub(self, text: str) -> str:
        """Remove the key (in any encoding we might have sent) and Authorization echoes."""
        return _AUTH_ECHO.sub(lambda m: f"{m.group(1)} ***", self._scrub_key(text))


def _encoded(key: str) -> tuple[str, ...]:
    raw = key.encode()
    forms = [base64.b64encode(raw), base64.b64encode(b":" + raw), base64.urlsafe_b64encode(raw)]
    return tuple(f.decode().rstrip("=") for f in forms if len(f) > 8)


def _messages(prompt: Prompt, default_system: str | None) -> list[dict[str, str]]:
    """The chat turns, with the system prompt first unless the input has its own."""
    if isinstance(prompt.input, str):
        messages = [{"role": "user", "content": prompt.input}]
    else:
        messages = [{"role": m.role, "content": m.content} for m in prompt.input]
    system = prompt.system_prompt or default_system
    if system and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system})
    return messages


async def _read_capped(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The body, refusing (or cutting, for error bodies) more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if truncate:
                break
            raise MalformedReply(f"the reply exceeds {limit} bytes")
    return b"".join(chunks)[:limit]


async def _lines(response: httpx.Response) -> Any:
    """Lines of an event stream, with a cap on how long one line may grow."""
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line.rstrip(b"\r").decode("utf-8", "replace")
        if len(buffer) > MAX_REPLY_CHARS:
            raise MalformedReply(f"a streamed line exceeds {MAX_REPLY_CHARS} bytes")
    if buffer:
        yield buffer.decode("utf-8", "replace")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), capped at a minute."""
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    return min(max(seconds, 0.0), 60.0) if math.isfinite(seconds) else None


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def redact_url(url: str) -> str:
    """``url`` without userinfo and with key-like query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if _SECRET_QUERY.search(k) else v) for k, v in pairs], safe="*"
        )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
