"""Anthropic's Messages API with tool use and streaming, through the official SDK."""

from __future__ import annotations

from typing import Iterator, Sequence

from kenkyu.core.messages import Message, ToolCall
from kenkyu.core.providers.base import (
    Chunk,
    MalformedReply,
    Provider,
    ProviderError,
    TextDelta,
    ToolCallDone,
    Usage,
    sdk_client,
    sdk_errors,
)


class AnthropicProvider(Provider):
    def __init__(self, config):
        super().__init__(config)
        import anthropic

        self._client = sdk_client(anthropic.Anthropic, config, "ANTHROPIC_API_KEY", "Anthropic")

    def stream(self, messages: Sequence[Message], tools: Sequence) -> Iterator[Chunk]:
        import anthropic

        system, wire = _to_wire(messages)
        request = dict(
            model=self.model_id,
            max_tokens=self.config.max_output_tokens,
            messages=wire,
            stream=True,
        )
        # No temperature: recent Anthropic SDKs dropped it from messages.create.
        if system:
            request["system"] = system
        if tools:
            request["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools
            ]
        blocks: dict[int, dict] = {}
        with sdk_errors(anthropic, self.config, self.config.api_key_env or "ANTHROPIC_API_KEY"):
            for event in self._client.messages.create(**request):
                kind = event.type
                if kind == "message_start" and event.message.usage:
                    yield Usage(event.message.usage.input_tokens or 0, 0)
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        blocks[event.index] = {"id": block.id, "name": block.name, "json": ""}
                elif kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        yield TextDelta(delta.text)
                    elif delta.type == "input_json_delta" and event.index in blocks:
                        blocks[event.index]["json"] += delta.partial_json
                elif kind == "content_block_stop" and event.index in blocks:
                    slot = blocks.pop(event.index)
                    yield ToolCallDone(ToolCall.from_json_text(slot["id"], slot["name"], slot["json"]))
                elif kind == "message_delta" and getattr(event, "usage", None):
                    yield Usage(0, event.usage.output_tokens or 0)
                elif kind == "error":
                    raise ProviderError(f"{self.config.describe()} reported an error mid-stream: {event}")
        if blocks:
            raise MalformedReply(f"{self.config.describe()} ended the stream inside a tool call")


def _to_wire(messages: Sequence[Message]) -> tuple[str, list[dict]]:
    """Anthropic keeps the system prompt apart and wants tool results inside a user turn."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    wire: list[dict] = []
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content}
            if wire and wire[-1]["role"] == "user" and isinstance(wire[-1]["content"], list):
                wire[-1]["content"].append(block)
            else:
                wire.append({"role": "user", "content": [block]})
        elif m.role == "assistant":
            content = [{"type": "text", "text": m.content}] if m.content else []
            content += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
            wire.append({"role": "assistant", "content": content or m.content})
        else:
            wire.append({"role": "user", "content": m.content})
    return system, wire
