"""LLM providers behind one interface: OpenAI (and compatible servers), Anthropic, the embedded
local model, and a replay of recorded turns."""

from __future__ import annotations

from kenkyu.assistant.config import ProviderConfig
from kenkyu.assistant.providers.base import (
    MalformedReply,
    Provider,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    TextDelta,
    ToolCallDone,
    Usage,
)

__all__ = [
    "MalformedReply",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "TextDelta",
    "ToolCallDone",
    "Usage",
    "make_provider",
]


def make_provider(config: ProviderConfig) -> Provider:
    """Build the provider a config names; imports only that provider's client library."""
    if config.provider == "openai":
        from kenkyu.assistant.providers.openai_chat import OpenAIChatProvider

        return OpenAIChatProvider(config)
    if config.provider == "anthropic":
        from kenkyu.assistant.providers.anthropic_messages import AnthropicProvider

        return AnthropicProvider(config)
    if config.provider == "local":
        from kenkyu.assistant.providers.local_llama import LocalLlamaProvider

        return LocalLlamaProvider(config)
    if config.provider == "replay":
        from kenkyu.assistant.providers.replay import ReplayProvider

        if not config.replay_file:
            raise ProviderUnavailable("the replay provider needs a file", fix="%kenkyu provider replay path/to/turns.json")
        return ReplayProvider(config)
    raise ProviderUnavailable(
        "no LLM is configured (provider 'none')",
        fix="choose one: %kenkyu provider local | openai --model M | anthropic --model M | replay FILE",
    )
