"""Keep secrets out of notebooks, exports and logs.

Keys are read from the environment at call time and never stored in a config object that gets
serialised. As a second line of defence, everything kenkyu writes into a notebook passes through
:func:`redact`, which blanks the values of secret-looking environment variables and key-shaped strings.
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"(API_KEY|_TOKEN|_SECRET|PASSWORD)$", re.IGNORECASE)
# Shapes of common provider keys: OpenAI/Anthropic style "sk-...", and bearer tokens.
_KEY_SHAPES = re.compile(r"\b(sk-(?:ant-)?[A-Za-z0-9_\-]{16,}|Bearer\s+[A-Za-z0-9_\-\.=]{16,})")
REDACTED = "[redacted]"


def secret_values(environ=None) -> list[str]:
    environ = os.environ if environ is None else environ
    values = [v for k, v in environ.items() if _SECRET_NAME.search(k) and v and len(v) >= 8]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, environ=None) -> str:
    if not text:
        return text
    for value in secret_values(environ):
        text = text.replace(value, REDACTED)
    return _KEY_SHAPES.sub(REDACTED, text)


def redact_obj(value, environ=None):
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value, environ)
    if isinstance(value, list):
        return [redact_obj(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: redact_obj(v, environ) for k, v in value.items()}
    return value
