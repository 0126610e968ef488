"""OpenAI chat completions with tools and streaming, through the official SDK.

The same adapter serves any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server, LM Studio):
set ``base_url`` and, if the server needs none, leave the key unset.
"""

from __future__ import annotations

import json
from typing import Iterator, Sequence

from kenkyu.core.messages import Message, ToolCall
from kenkyu.core.providers.base import (
    Chunk,
    MalformedReply,
    Provider,
    TextDelta,
    ToolCallDone,
    Usage,
    sdk_client,
    sdk_errors,
)


class OpenAIChatProvider(Provider):
    def __init__(self, config):
        super().__init__(config)
        import openai

        self._client = sdk_client(
            openai.OpenAI,
            config,
            "OPENAI_API_KEY",
            "OpenAI",
            fix=f"export {config.api_key_env or 'OPENAI_API_KEY'}=... before starting Jupyter, or point at a local "
            "server with %kenkyu provider openai --base-url http://localhost:8000/v1",
        )

    def stream(self, messages: Sequence[Message], tools: Sequence) -> Iterator[Chunk]:
        import openai

        request = dict(
            model=self.model_id,
            messages=[_to_wire(m) for m in messages],
            stream=True,
            stream_options={"include_usage": True},
            temperature=self.config.temperature,
            max_tokens=self.config.max_output_tokens,
        )
        if tools:
            request["tools"] = [{"type": "function", "function": t.llm_schema()} for t in tools]
        partial: dict[int, dict] = {}
        key_env = self.config.api_key_env or "OPENAI_API_KEY"
        fix = "the server may not support streaming tool calls; check its version or try another model"
        with sdk_errors(openai, self.config, key_env, fix):
            for chunk in self._client.chat.completions.create(**request):
                if getattr(chunk, "usage", None):
                    yield Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if delta is None:
                    continue
                if delta.content:
                    yield TextDelta(delta.content)
                for piece in delta.tool_calls or ():
                    slot = partial.setdefault(piece.index or 0, {"id": None, "name": "", "arguments": ""})
                    slot["id"] = piece.id or slot["id"]
                    if piece.function is not None:
                        slot["name"] += piece.function.name or ""
                        slot["arguments"] += piece.function.arguments or ""
        for index in sorted(partial):
            slot = partial[index]
            if not slot["name"]:
                raise MalformedReply(f"{self.config.describe()} sent a tool call without a name")
            yield ToolCallDone(ToolCall.from_json_text(slot["id"] or f"call_{index}", slot["name"], slot["arguments"]))


def _to_wire(message: Message) -> dict:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    wire = {"role": message.role, "content": message.content or None if message.tool_calls else message.content}
    if message.tool_calls:
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
            for c in message.tool_calls
        ]
    return wire
