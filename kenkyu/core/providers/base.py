"""The provider interface: stream one assistant turn for a conversation and a set of tools."""

from __future__ import annotations

import abc
import contextlib
import json
import os
from dataclasses import dataclass
from typing import Iterator, Sequence

from kenkyu.core.config import ProviderConfig
from kenkyu.core.messages import Message, ToolCall


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

    # Whether the model can write a free-text answer worth reading (e.g. from papers), not only calls.
    writes_prose = True

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


def sdk_client(sdk_class, config: ProviderConfig, default_key_env: str, vendor: str, fix: str = ""):
    """An official SDK client, its key read from the environment now and never stored in the config.

    A local server (``base_url``) may need no key; the SDKs insist on one, so a placeholder is passed.
    """
    key_env = config.api_key_env or default_key_env
    key = os.environ.get(key_env)
    if not key and not config.base_url:
        raise ProviderUnavailable(
            f"no {vendor} API key: the environment variable {key_env} is not set",
            fix=fix or f"export {key_env}=... before starting Jupyter",
        )
    return sdk_class(
        api_key=key or "not-needed", base_url=config.base_url, timeout=config.timeout_s, max_retries=config.max_retries
    )


@contextlib.contextmanager
def sdk_errors(sdk, config: ProviderConfig, key_env: str, malformed_fix: str = ""):
    """Turn an official SDK's exceptions (openai and anthropic share the same hierarchy) into
    :class:`ProviderError` subclasses with a message and a fix the user can act on."""
    where = config.describe()
    try:
        yield
    except sdk.APITimeoutError as exc:
        raise ProviderTimeout(
            f"{where} did not answer within {config.timeout_s:g} s",
            fix=f"try again, raise the limit with %kenkyu provider {config.provider} --timeout 300, "
            "or use a smaller model",
        ) from exc
    except sdk.AuthenticationError as exc:
        raise ProviderUnavailable(f"{where} refused the API key ({exc.status_code})", fix=f"check {key_env}") from exc
    except sdk.APIConnectionError as exc:
        raise ProviderUnavailable(
            f"could not reach {config.base_url or where}: {exc}",
            fix=f"is the server running and the base URL right? (%kenkyu provider {config.provider} --base-url ...)",
        ) from exc
    except sdk.APIStatusError as exc:
        raise ProviderError(f"{where} answered HTTP {exc.status_code}: {exc.message}") from exc
    except (
        json.JSONDecodeError,
        sdk.APIResponseValidationError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
    ) as exc:
        raise MalformedReply(f"{where} sent a reply kenkyu could not read: {exc}", fix=malformed_fix) from exc
