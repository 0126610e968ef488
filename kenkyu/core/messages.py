"""Provider-neutral conversation records.

Each provider adapter translates these to and from its own wire format; the agent loop, the notebook
metadata and the replay files only ever see these types.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass
class ToolCall:
    """One tool call the model asked for.

    ``arguments`` is the parsed JSON object; when the model produced something that is not valid JSON,
    ``arguments`` is empty and ``parse_error`` says why, so the loop can tell the model instead of crashing.
    """

    id: str
    name: str
    arguments: dict = field(default_factory=dict)
    parse_error: str | None = None

    @classmethod
    def from_json_text(cls, id: str, name: str, text: str) -> "ToolCall":
        if not text or not text.strip():
            return cls(id, name, {})
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return cls(
                id, name, {}, parse_error=f"arguments are not valid JSON ({exc.msg} at char {exc.pos}): {text[:200]!r}"
            )
        if not isinstance(value, dict):
            return cls(id, name, {}, parse_error=f"arguments must be a JSON object, got {type(value).__name__}")
        return cls(id, name, value)


@dataclass
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None  # the tool's name, on role="tool" messages

    def to_dict(self) -> dict:
        data = asdict(self)
        return {k: v for k, v in data.items() if v not in (None, [], "") or k in ("role", "content")}

    @classmethod
    def from_dict(cls, data: dict) -> "Message":
        calls = [ToolCall(**c) for c in data.get("tool_calls", [])]
        return cls(
            role=data["role"],
            content=data.get("content", ""),
            tool_calls=calls,
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
        )
