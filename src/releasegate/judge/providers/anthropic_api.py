"""Anthropic as judge, through the official ``anthropic`` SDK (messages API).

Structured output by forced tool use: the verdict schema is the input schema of
a ``record_verdict`` tool that the model must call. The messages API of the
installed SDK (anthropic 2.x) has no ``temperature`` parameter, so none is sent;
the forced tool call and the judge cache keep verdicts stable. SDK retries are
off; the runner retries.
"""

from __future__ import annotations

import json

import anthropic
from anthropic.types import MessageParam, ToolParam

from releasegate.config.judge import JudgeConfig
from releasegate.judge.providers.base import (
    JudgeReply,
    JudgeRequest,
    ProviderCallError,
    status_error,
)

TOOL_NAME = "record_verdict"


class AnthropicProvider:
    """Messages API with a forced verdict tool call."""

    name = "anthropic"

    def __init__(self, config: JudgeConfig, api_key: str | None) -> None:
        self._model = config.model or ""
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key or "not-needed",  # a keyless proxy; the SDK insists on a key
            base_url=config.base_url,
            max_retries=0,
            timeout=config.timeout_s,
        )

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        """One messages call; SDK errors become ``ProviderCallError``."""
        tool: ToolParam = {
            "name": TOOL_NAME,
            "description": "Record the grading verdict.",
            "input_schema": request.schema,
        }
        messages: list[MessageParam] = [{"role": "user", "content": request.user}]
        try:
            message = await self._client.messages.create(
                model=self._model,
                system=request.system,
                messages=messages,
                max_tokens=request.max_tokens,
                tools=[tool],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                timeout=request.timeout_s,
            )
        except anthropic.APIStatusError as exc:
            raise status_error(
                exc.status_code,
                kind=type(exc).__name__,
                retry_after=exc.response.headers.get("retry-after"),
            ) from exc
        except anthropic.APITimeoutError as exc:
            raise ProviderCallError("timeout", retryable=True) from exc
        except anthropic.APIConnectionError as exc:
            message_text = f"connection error ({type(exc).__name__})"
            raise ProviderCallError(message_text, retryable=True) from exc
        except (anthropic.APIError, ValueError) as exc:
            raise ProviderCallError(f"bad response ({type(exc).__name__})", retryable=True) from exc
        text = ""
        for block in message.content:
            if block.type == "tool_use" and block.name == TOOL_NAME:
                text = json.dumps(block.input)
                break
            if block.type == "text":
                text += block.text
        return JudgeReply(
            text=text,
            tokens_in=message.usage.input_tokens,
            tokens_out=message.usage.output_tokens,
        )

    async def aclose(self) -> None:
        """Close the SDK client and its connection pool."""
        await self._client.close()


def create(config: JudgeConfig, api_key: str | None) -> AnthropicProvider:
    """Registry factory."""
    return AnthropicProvider(config, api_key)
