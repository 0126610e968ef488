"""Keep secrets out of notebooks, exports and logs.

Keys are read from the environment at call time and never stored in a config object that gets
serialised. As a second line of defence, everything kenkyu writes into a notebook passes through
:func:`redact`, which blanks the values of secret environment variables and key-shaped strings.

Only what is secret is blanked, never ordinary text: an environment value counts as a secret when its
variable is named like one (``*_API_KEY``, ``KENKYU_*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD``)
*and* the value looks like a key (8+ characters, no spaces, letters and digits). A placeholder such as
``OPENAI_API_KEY=not-needed`` for a local server, or a password that is a plain word, is left alone: blanking
it would rewrite every "not-needed" a notebook contains (a searched text once became "[redacted]" so).
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"(_KEY|_TOKEN|_SECRET|PASSWORD|_PASS|_PAT)$", re.IGNORECASE)
# Variables named like secrets that hold names of other variables or settings, not secrets.
_NOT_SECRET_NAME = re.compile(r"_KEY_ENV$|^KENKYU_API_KEY_ENV$", re.IGNORECASE)
# Shapes of provider keys, each with enough characters (and a digit) that ordinary words never match:
# OpenAI/Anthropic "sk-..." / "sk-ant-...", Hugging Face "hf_...", GitHub "ghp_..."/"github_pat_...",
# AWS access key ids and bearer tokens.
_KEY_BODY = r"(?=[A-Za-z0-9_\-]*\d)[A-Za-z0-9_\-]{20,}"
_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    rf"sk-{_KEY_BODY}"
    rf"|hf_{_KEY_BODY}"
    rf"|gh[pousr]_{_KEY_BODY}|github_pat_{_KEY_BODY}"
    r"|AKIA[0-9A-Z]{16}"
    r")"
    r"|(?<=Bearer )(?=[A-Za-z0-9_\-\.=]*\d)[A-Za-z0-9_\-\.=]{16,}"
)
REDACTED = "[redacted]"


def looks_like_a_key(value: str) -> bool:
    """8+ characters, no whitespace, letters and digits: the shape of a key, not of a word or a placeholder."""
    return (
        len(value) >= 8
        and not any(c.isspace() for c in value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
    )


def secret_variables(environ=None) -> dict[str, str]:
    """The environment variables that hold secrets: name -> value."""
    environ = os.environ if environ is None else environ
    return {
        k: v
        for k, v in environ.items()
        if _SECRET_NAME.search(k) and not _NOT_SECRET_NAME.search(k) and v and looks_like_a_key(v)
    }


def secret_values(environ=None) -> list[str]:
    """The secret values, longest first (so a key that contains another is blanked whole)."""
    return sorted(set(secret_variables(environ).values()), key=len, reverse=True)


def secret_variable_holding(value, environ=None) -> str | None:
    """The name of the environment variable whose secret value is exactly ``value``, if any: an action
    cell then reads the variable (``os.environ['NAME']``) instead of writing the key down."""
    if not isinstance(value, str):
        return None
    return next((k for k, v in sorted(secret_variables(environ).items()) if v == value), None)


def redact(text: str, environ=None) -> str:
    if not text or not isinstance(text, str):
        return text
    for value in secret_values(environ):
        text = text.replace(value, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


def redact_obj(value, environ=None):
    """Redact every string inside a JSON-like structure (keys stay: they are names, not values)."""
    if isinstance(value, str):
        return redact(value, environ)
    if isinstance(value, list | tuple):
        return [redact_obj(v, environ) for v in value]
    if isinstance(value, dict):
        # Output data that is base64 of a binary file (a figure) holds no readable key, and a key shape
        # matched by chance inside an image would corrupt it.
        return {k: v if _BINARY_MIME.match(str(k)) else redact_obj(v, environ) for k, v in value.items()}
    return value


_BINARY_MIME = re.compile(r"^(image/(png|jpeg|gif|webp|bmp)|application/(pdf|octet-stream))$")


def redact_mimebundle(data: dict, environ=None) -> dict:
    """A display's data (mime type -> content) with every text representation redacted."""
    return redact_obj(data, environ)
