"""Any OpenAI-compatible chat-completions endpoint, through the official ``openai`` SDK.

OpenAI itself, vLLM, Ollama, llama.cpp server, TGI, SGLang: ``base_url`` +
``model`` (+ ``api_key_env`` where the server wants a key). The SDK's own
retries are off; the runner retries so that the policy is one, and testable.
"""

from __future__ import annotations

import openai
from openai.types.chat import ChatCompletionMessageParam, completion_create_params

from releasegate.config.judge import JudgeConfig
from releasegate.judge.providers.base import (
    JudgeReply,
    JudgeRequest,
    ProviderCallError,
    status_error,
)

NO_KEY = "not-needed"
"""Placeholder for servers that take no key (the SDK refuses an empty one)."""


class OpenAICompatProvider:
    """Chat completions at temperature 0 with a JSON verdict."""

    name = "openai"

    def __init__(self, config: JudgeConfig, api_key: str | None) -> None:
        self._model = config.model or ""
        self._structured = config.structured_output
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY,
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout_s,
        )

    def _response_format(
        self, request: JudgeRequest
    ) -> completion_create_params.ResponseFormat | openai.Omit:
        if self._structured == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": request.schema, "strict": True},
            }
        if self._structured == "json_object":
            return {"type": "json_object"}
        return openai.omit

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """One chat completion; SDK errors become ``ProviderCallError``."""
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
        try:
            completion = await self._client.chat.completions.create(
                model=self._model,
                messages=messages,
                temperature=0.0,
                max_tokens=request.max_tokens,
                timeout=request.timeout_s,
                response_format=self._response_format(request),
            )
        except openai.APIStatusError as exc:
            raise status_error(
                exc.status_code,
                kind=type(exc).__name__,
                retry_after=exc.response.headers.get("retry-after"),
            ) from exc
        except openai.APITimeoutError as exc:
            raise ProviderCallError("timeout", retryable=True) from exc
        except openai.APIConnectionError as exc:
            message = f"connection error ({type(exc).__name__})"
            raise ProviderCallError(message, retryable=True) from exc
        except (openai.APIError, ValueError) as exc:
            # The body was not a chat completion: garbage JSON, a truncated body, wrong shape.
            raise ProviderCallError(f"bad response ({type(exc).__name__})", retryable=True) from exc
        if not completion.choices:
            raise ProviderCallError("response has no choices", retryable=True)
        text = completion.choices[0].message.content or ""
        usage = completion.usage
        return JudgeReply(
            text=text,
            tokens_in=usage.prompt_tokens if usage else None,
            tokens_out=usage.completion_tokens if usage else None,
        )

    async def aclose(self) -> None:
        """Close the SDK client and its connection pool."""
        await self._client.close()


def create(config: JudgeConfig, api_key: str | None) -> OpenAICompatProvider:
    """Registry factory."""
    return OpenAICompatProvider(config, api_key)
