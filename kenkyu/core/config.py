"""Which model to talk to, and how.

Settings come from (later wins): the defaults, environment variables (``KENKYU_PROVIDER``,
``KENKYU_MODEL``, ``KENKYU_BASE_URL``, ``KENKYU_REPLAY``, ``KENKYU_APPROVAL``, ``KENKYU_TIMEOUT``,
``KENKYU_MAX_REQUEST_SECONDS``),
and ``%kenkyu`` in the notebook. API keys are never part of a config: providers read them from the
environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, or the variable named by ``api_key_env``)
when they make a request, so a config can be written into a notebook safely.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class ProviderKind:
    """One kind of provider: its name, its default model and the class that talks to it."""

    name: str
    summary: str  # what the name means, for help texts
    default_model: str | None = None
    # "module:Class", imported only when chosen (so choosing one never imports the others' clients)
    implementation: str | None = None


# The list of providers: every other list (the %kenkyu and benchmark choices, the sidebar's settings
# schema and protocol schema, checked by tests/unit/test_protocol_schema.py) comes from this one.
PROVIDER_KINDS = (
    ProviderKind(
        "local",
        "the embedded offline model (llama.cpp)",
        "SmolLM2-135M-Instruct.Q4_1",
        "kenkyu.core.providers.local_llama:LocalLlamaProvider",
    ),
    ProviderKind(
        "openai",
        "OpenAI, or any OpenAI-compatible server (--base-url)",
        "gpt-4o-mini",
        "kenkyu.core.providers.openai_chat:OpenAIChatProvider",
    ),
    ProviderKind(
        "anthropic",
        "Anthropic's Messages API",
        "claude-sonnet-4-5",
        "kenkyu.core.providers.anthropic_messages:AnthropicProvider",
    ),
    ProviderKind(
        "replay", "recorded turns from a file (tests, demos)", None, "kenkyu.core.providers.replay:ReplayProvider"
    ),
    ProviderKind("none", "no model: tools only", None, None),
)
PROVIDERS = tuple(kind.name for kind in PROVIDER_KINDS)
DEFAULT_MODELS = {kind.name: kind.default_model for kind in PROVIDER_KINDS}


def provider_kind(name: str) -> ProviderKind:
    for kind in PROVIDER_KINDS:
        if kind.name == name:
            return kind
    raise ValueError(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}")


@dataclass(frozen=True)
class ProviderConfig:
    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    # The *name* of the environment variable holding the key, never the key itself.
    api_key_env: str | None = None
    replay_file: str | None = None
    timeout_s: float = 120.0
    max_retries: int = 2
    max_output_tokens: int = 1024
    temperature: float = 0.0

    def __post_init__(self):
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {self.provider!r}; choose one of {', '.join(PROVIDERS)}")

    @property
    def model_id(self) -> str:
        return self.model or DEFAULT_MODELS.get(self.provider) or self.provider

    def describe(self) -> str:
        where = f" at {self.base_url}" if self.base_url else ""
        if self.provider == "replay":
            return f"replay of {self.replay_file}"
        if self.provider == "local":
            return f"embedded {self.model_id} (offline, llama.cpp)"
        return f"{self.provider} {self.model_id}{where}"

    def to_dict(self) -> dict:
        return asdict(self)

    def updated(self, **changes) -> "ProviderConfig":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


DEFAULT_MAX_REQUEST_COST_S = 900.0
DEFAULT_APPROVAL_WAIT_S = 300.0  # five minutes: time to read the card and decide, not to leave the kernel held


@dataclass
class Settings:
    provider: ProviderConfig = field(default_factory=ProviderConfig)
    approval: str = "ask"  # "ask": tools marked approval="ask" wait for the user; "auto": run everything
    max_steps: int = 12
    max_tokens: int = 60_000
    max_seconds: float = 1800.0  # wall time of one request; a tool still running then is interrupted
    # The estimated seconds of tool runs one request may start, checked before each call even under
    # approval "auto": a request that would launch an hour of simulation stops and says so first.
    max_request_cost_s: float = DEFAULT_MAX_REQUEST_COST_S
    # How long an approval prompt on stdin waits for an answer: a front end that never answers input()
    # would otherwise hold the kernel forever. Then the request is cancelled, saying how to approve.
    approval_wait_s: float = DEFAULT_APPROVAL_WAIT_S

    def __post_init__(self):
        if self.approval not in ("ask", "auto"):
            raise ValueError(f"approval must be 'ask' or 'auto', not {self.approval!r}")
        for name in ("max_steps", "max_tokens", "max_seconds", "max_request_cost_s", "approval_wait_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")


def settings_from_env(environ=None) -> Settings:
    env = os.environ if environ is None else environ
    provider = env.get("KENKYU_PROVIDER") or ("replay" if env.get("KENKYU_REPLAY") else "local")
    config = ProviderConfig(
        provider=provider,
        model=env.get("KENKYU_MODEL") or None,
        base_url=env.get("KENKYU_BASE_URL") or None,
        api_key_env=env.get("KENKYU_API_KEY_ENV") or None,
        replay_file=env.get("KENKYU_REPLAY") or None,
        timeout_s=float(env.get("KENKYU_TIMEOUT", 120)),
    )
    cap = _seconds(env, "KENKYU_MAX_REQUEST_SECONDS", DEFAULT_MAX_REQUEST_COST_S, example=1800)
    wait = _seconds(env, "KENKYU_APPROVAL_WAIT", DEFAULT_APPROVAL_WAIT_S, example=300)
    return Settings(
        provider=config,
        approval=env.get("KENKYU_APPROVAL", "ask"),
        max_request_cost_s=cap,
        approval_wait_s=wait,
    )


def _seconds(env, name: str, default: float, *, example: int) -> float:
    """A number of seconds from the environment (unset or empty: the default); anything else is refused."""
    value = env.get(name) or default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {value!r}: e.g. {name}={example}") from None
