"""Prompt rendering shared by the local-weight backends (HF and in-process vLLM).

Both feed the model the same token ids for the same example: the example's turns
(or its single input as a user turn), the config's system prompt prepended when the
example has none, rendered through the tokenizer's chat template (with the
generation prompt) when the model has one and ``model.use_chat_template`` is on, else
the turns' contents joined by blank lines. A template carries its own special
tokens, so the tokenizer adds none to a templated prompt.

Native tool calls (``model.tool_calls: native``) go through the chat template where
it takes ``tools``: the example's functions are passed as ``tools=`` and the
``<tool_call>{...}</tool_call>`` blocks the model writes (Hermes/Qwen templates) are
read back as canonical calls. A template without tools gets the prompt as text,
and the run's model details say so.
"""

from __future__ import annotations

from typing import Any

from releasegate.backends.base import Prompt
from releasegate.backends.tool_calls import template_tools, unwrap_template_calls
from releasegate.config.schema import ModelSettings

__all__ = [
    "encode_prompt",
    "native_template_tools",
    "prompt_messages",
    "prompt_tools",
    "read_template_calls",
    "render_prompt",
    "tool_calls_detail",
    "uses_chat_template",
]


def uses_chat_template(tokenizer: Any, *, use_chat_template: bool) -> bool:
    """Whether prompts go through the tokenizer's chat template."""
    return bool(use_chat_template and getattr(tokenizer, "chat_template", None))


def prompt_messages(prompt: Prompt, default_system: str | None = None) -> list[dict[str, str]]:
    """The chat turns for ``prompt``, with a system turn first when one applies."""
    system = prompt.system_prompt or default_system
    if isinstance(prompt.input, str):
        messages = [{"role": "user", "content": prompt.input}]
    else:
        messages = [{"role": m.role, "content": m.content} for m in prompt.input]
    if system and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system})
    return messages


def render_prompt(
    tokenizer: Any,
    prompt: Prompt,
    *,
    default_system: str | None,
    use_template: bool,
    tools: list[dict[str, Any]] | None = None,
) -> str:
    """The exact text fed to the model for ``prompt`` (``tools`` for a tools-aware template)."""
    messages = prompt_messages(prompt, default_system)
    if use_template:
        extra = {"tools": tools} if tools else {}
        text = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False, **extra
        )
        return str(text)
    return "\n\n".join(m["content"] for m in messages)


def encode_prompt(
    tokenizer: Any,
    prompt: Prompt,
    *,
    default_system: str | None,
    use_template: bool,
    tools: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Prompt token ids (a templated prompt gets no extra special tokens)."""
    text = render_prompt(
        tokenizer, prompt, default_system=default_system, use_template=use_template, tools=tools
    )
    return list(tokenizer(text, add_special_tokens=not use_template)["input_ids"])


def tool_calls_detail(settings: ModelSettings, template_text: str) -> str:
    """The model details' ``tool_calls``: ``native`` only where the template takes tools."""
    if settings.tool_calls == "native" and _takes_tools(settings, template_text):
        return "native"
    return "text" if settings.tool_calls == "text" else "text (the chat template has no tools)"


def native_template_tools(tokenizer: Any, settings: ModelSettings) -> bool:
    """Whether functions go to this tokenizer's chat template (native, tools-aware)."""
    template = str(getattr(tokenizer, "chat_template", None) or "")
    return settings.tool_calls == "native" and _takes_tools(settings, template)


def prompt_tools(prompt: Prompt, *, native: bool) -> list[dict[str, Any]] | None:
    """The ``tools=`` for ``prompt``'s template rendering (None: rendered without)."""
    return template_tools(prompt.tools) if native and prompt.tools else None


def read_template_calls(text: str, prompt: Prompt, *, native: bool) -> str:
    """The output with template tool-call blocks as canonical calls (where tools went in)."""
    return unwrap_template_calls(text) if native and prompt.tools else text


def _takes_tools(settings: ModelSettings, template_text: str) -> bool:
    return settings.use_chat_template and "tools" in template_text
