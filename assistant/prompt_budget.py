"""Prompt sizes checked before anything is sent, and kernel values capped before they enter a prompt.

A 5 MB string interpolated as ``{var}`` once became a 1.25 M-token prompt against a 60,000-token
budget: the budget was only counted from the provider's usage reports, after the call. Here the size
of every provider call is estimated first (about four characters a token, the usual rule for English
and code; no tokenizer is downloaded on an offline machine) and a call over the budget is refused
before it leaves the kernel.
"""

from __future__ import annotations

import json

CHARS_PER_TOKEN = 4
MAX_INTERPOLATED_CHARS = 4_000  # about 1,000 tokens: a long sequence or a table fits, a file dump does not


def estimate_tokens(messages, tools=()) -> int:
    """The approximate input tokens of a provider call: every message and every tool schema."""
    chars = 0
    for message in messages:
        chars += len(message.content or "")
        for call in getattr(message, "tool_calls", None) or ():
            chars += len(call.name) + len(json.dumps(call.arguments, default=str))
    for tool in tools:
        chars += len(json.dumps(tool.llm_schema(), default=str))
    return chars // CHARS_PER_TOKEN + 4 * len(messages)


def over_budget(estimated: int, used: int, budget: int, *, prompt_tokens: int, history_tokens: int) -> str | None:
    """Why a call of ``estimated`` tokens must not be sent, or None when it fits what is left."""
    left = budget - used
    if estimated <= left:
        return None
    if prompt_tokens >= history_tokens:
        cause = f"the request itself is ~{prompt_tokens:,} tokens: shorten it (or the {{variables}} it interpolates)"
    else:
        cause = (
            f"the conversation so far is ~{history_tokens:,} tokens: start afresh with `%kenkyu reset` "
            "(or the sidebar's New conversation)"
        )
    return (
        f"not sent: this call to the model would be ~{estimated:,} tokens, over the {left:,} left of this "
        f"request's budget of {budget:,} tokens; {cause}, or raise the budget with `%kenkyu budget --tokens`"
    )


def cap_value(text: str, limit: int = MAX_INTERPOLATED_CHARS) -> str:
    """``text`` as it may enter a prompt: cut to ``limit`` characters, saying so in the prompt itself."""
    if len(text) <= limit:
        return text
    cut = len(text.encode("utf-8", "replace")) - len(text[:limit].encode("utf-8", "replace"))
    return f"{text[:limit]}\n[... {_size(cut)} cut; the first {limit:,} characters shown]"


def _size(n_bytes: int) -> str:
    if n_bytes >= 1_000_000:
        return f"{n_bytes / 1e6:.1f} MB"
    if n_bytes >= 1_000:
        return f"{n_bytes / 1e3:.1f} kB"
    return f"{n_bytes} bytes"
