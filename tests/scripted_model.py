"""A provider that proposes fixed tool calls in one turn: a stronger model's planning path, offline."""

from __future__ import annotations

from kenkyu.core.messages import ToolCall
from kenkyu.core.providers.base import TextDelta, ToolCallDone


class ScriptedModel:
    model_id = "scripted"

    def __init__(self, calls, text=""):
        self.calls, self.text = calls, text  # calls: [(tool name, arguments), ...]

    def stream(self, messages, tools):
        yield TextDelta(self.text)
        for i, (name, arguments) in enumerate(self.calls):
            yield ToolCallDone(ToolCall(f"c{i}", name, arguments))
