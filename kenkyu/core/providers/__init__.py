"""LLM providers behind one interface: OpenAI (and compatible servers), Anthropic, the embedded
local model, and a replay of recorded turns."""

from __future__ import annotations

from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.base import (
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
    "active_provider",
    "make_provider",
    "set_active_provider",
]

# The provider of the assistant in this process (the kernel's kenkyu session), for tools that may
# write prose with it (``literature.ask(llm=None)``). The session registers a getter; tools ask
# here, so they never reach into the agent's objects.
_active_provider_getter = None


def set_active_provider(getter) -> None:
    """Register a zero-argument callable returning the assistant's provider (or None); None clears it."""
    global _active_provider_getter
    _active_provider_getter = getter


def active_provider() -> Provider | None:
    """The provider the assistant in this process uses, or None when there is none (or it is 'none')."""
    return _active_provider_getter() if _active_provider_getter is not None else None


def make_provider(config: ProviderConfig) -> Provider:
    """Build the provider a config names; imports only that provider's client library."""
    import importlib

    from kenkyu.core.config import provider_kind

    if config.provider == "replay" and not config.replay_file:
        raise ProviderUnavailable("the replay provider needs a file", fix="%kenkyu provider replay path/to/turns.json")
    kind = provider_kind(config.provider)
    if kind.implementation is None:
        raise ProviderUnavailable(
            "no LLM is configured (provider 'none')",
            fix="choose one: %kenkyu provider local | openai --model M | anthropic --model M | replay FILE",
        )
    module, name = kind.implementation.split(":")
    return getattr(importlib.import_module(module), name)(config)
