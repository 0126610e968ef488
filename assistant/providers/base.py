"""The provider interface: stream one assistant turn for a conversation and a set of tools."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Iterator, Sequence

from kenkyu.assistant.config import ProviderConfig
from kenkyu.assistant.messages import Message, ToolCall


class ProviderError(RuntimeError):
    """The model could not give a usable turn. ``fix`` tells the user what to do about it."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.fix = fix


class ProviderTimeout(ProviderError):
    pass


class ProviderUnavailable(ProviderError):
    pass


class MalformedReply(ProviderError):
    pass


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolCallDone:
    call: ToolCall


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


Chunk = TextDelta | ToolCallDone | Usage


class Provider(abc.ABC):
    """One LLM backend. Adapters translate :class:`Message` to their wire format and back."""

    def __init__(self, config: ProviderConfig):
        self.config = config

    @property
    def model_id(self) -> str:
        return self.config.model_id

    @abc.abstractmethod
    def stream(self, messages: Sequence[Message], tools: Sequence) -> Iterator[Chunk]:
        """Yield text deltas, finished tool calls and usage for one assistant turn.

        Raise :class:`ProviderError` (or a subclass) for anything the user should hear about.
        """
