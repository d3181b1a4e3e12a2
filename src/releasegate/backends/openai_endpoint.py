"""OpenAI-compatible chat-completions endpoints, through the official ``openai`` SDK.

vLLM, TGI, SGLang, Ollama, llama.cpp server and OpenAI itself speak this protocol.

Requests run concurrently (``model.concurrency``), each timed on its own, so latency
percentiles are real per-request figures. Retries on 429/5xx/timeouts are the SDK's
(exponential backoff that honours Retry-After), bounded by ``model.max_retries``. A
request that still fails becomes a typed failure for that example, never empty text.
The API key comes only from the variable named by ``model.api_key_env`` and is
scrubbed from every error message.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Sequence
from typing import Any

import openai

from releasegate.backends.base import Generation, GenerationParams, ModelInfo, Prompt
from releasegate.config.schema import ModelSettings
from releasegate.errors import ConfigError

_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_NO_KEY = "not-needed"  # local servers (vLLM, Ollama) accept any key; the SDK needs one


class OpenAIEndpointBackend:
    """One chat-completions request per example, ``concurrency`` at a time."""

    name = "openai"

    def __init__(self, url: str, *, settings: ModelSettings, api_key: str | None) -> None:
        self.url = url
        self.settings = settings
        self._api_key = api_key

    @classmethod
    def claims(cls, ref: str) -> bool:
        """An ``http(s)://`` URL is an OpenAI-compatible endpoint."""
        return ref.startswith(("http://", "https://"))

    @classmethod
    def from_settings(cls, ref: str, settings: ModelSettings) -> OpenAIEndpointBackend:
        """Check the endpoint settings (no request is sent here).

        Raises:
            ConfigError: no served model name, or the key variable is named but unset.
        """
        if not settings.model_name:
            raise ConfigError(
                f"--model {_redact(ref)}: an endpoint needs the served model name "
                "(model.model_name or --model-name)"
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
        """The endpoint and the served model name (the weights are not visible from here)."""
        return ModelInfo(
            backend=self.name,
            ref=_redact(self.url),
            fingerprint=f"endpoint:{self.settings.model_name}",
            details={"url": _redact(self.url), "model_name": str(self.settings.model_name)},
            per_request_latency=True,
        )

    def generate(self, prompts: Sequence[Prompt], params: GenerationParams) -> list[Generation]:
        """Send every prompt, ``model.concurrency`` at a time; results in prompt order."""
        return asyncio.run(self._generate_all(prompts, params))

    async def _generate_all(
        self, prompts: Sequence[Prompt], params: GenerationParams
    ) -> list[Generation]:
        limit = asyncio.Semaphore(self.settings.concurrency)
        async with openai.AsyncOpenAI(
            base_url=self.url,
            api_key=self._api_key or _NO_KEY,
            max_retries=self.settings.max_retries,
            timeout=self.settings.timeout_s,
        ) as client:
            return list(
                await asyncio.gather(*(self._one(client, limit, p, params) for p in prompts))
            )

    async def _one(
        self,
        client: openai.AsyncOpenAI,
        limit: asyncio.Semaphore,
        prompt: Prompt,
        params: GenerationParams,
    ) -> Generation:
        request: dict[str, Any] = {
            "model": self.settings.model_name,
            "messages": _messages(prompt),
            "temperature": params.temperature,
            "max_tokens": params.max_new_tokens,
            "seed": params.seed,
        }
        if params.stop:
            request["stop"] = list(params.stop)
        async with limit:
            started = time.perf_counter()
            try:
                response = await client.chat.completions.create(**request)
            except openai.OpenAIError as exc:
                return self._failure(prompt, f"{type(exc).__name__}: {exc}")
            latency = time.perf_counter() - started
        choice = response.choices[0] if response.choices else None
        text = choice.message.content if choice is not None else None
        if text is None:
            return self._failure(prompt, "the endpoint returned no message content")
        usage = response.usage
        return Generation(
            sample_id=prompt.sample_id,
            text=text,
            finish_reason=choice.finish_reason if choice is not None else None,
            latency_s=latency,
            tokens_in=usage.prompt_tokens if usage else None,
            tokens_out=usage.completion_tokens if usage else None,
        )

    def _failure(self, prompt: Prompt, message: str) -> Generation:
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return Generation(sample_id=prompt.sample_id, text=None, error=message[:500])


def _messages(prompt: Prompt) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": prompt.system_prompt}] if prompt.system_prompt else []
    if isinstance(prompt.input, str):
        messages.append({"role": "user", "content": prompt.input})
    else:
        messages += [{"role": m.role, "content": m.content} for m in prompt.input]
    return messages


def _redact(url: str) -> str:
    return _USERINFO.sub(r"\1***@", url)
