"""Which model to talk to, and how.

Settings come from (later wins): the defaults, environment variables (``KENKYU_PROVIDER``,
``KENKYU_MODEL``, ``KENKYU_BASE_URL``, ``KENKYU_REPLAY``, ``KENKYU_APPROVAL``, ``KENKYU_TIMEOUT``),
and ``%kenkyu`` in the notebook. API keys are never part of a config: providers read them from the
environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, or the variable named by ``api_key_env``)
when they make a request, so a config can be written into a notebook safely.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace

PROVIDERS = ("local", "openai", "anthropic", "replay", "none")
DEFAULT_MODELS = {
    "local": "SmolLM2-135M-Instruct.Q4_1",
    "openai": "gpt-4o-mini",
    "anthropic": "claude-sonnet-4-5",
    "replay": None,
    "none": None,
}


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


@dataclass
class Settings:
    provider: ProviderConfig = field(default_factory=ProviderConfig)
    approval: str = "ask"  # "ask": tools marked approval="ask" wait for the user; "auto": run everything
    max_steps: int = 12
    max_tokens: int = 60_000
    max_seconds: float = 1800.0

    def __post_init__(self):
        if self.approval not in ("ask", "auto"):
            raise ValueError(f"approval must be 'ask' or 'auto', not {self.approval!r}")


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
    return Settings(provider=config, approval=env.get("KENKYU_APPROVAL", "ask"))
