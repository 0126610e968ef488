"""Tiny local HTTP servers that speak the OpenAI and Anthropic streaming wire formats.

They let the provider adapters be tested for real (the official SDKs, real HTTP, real SSE parsing)
without a network. Each server replays a scripted list of responses and keeps every request body.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    """Serve ``responses`` in order; each is ("sse", [events]) | ("raw", bytes) | ("sleep", seconds)."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                kind, payload = server.responses.pop(0) if server.responses else ("raw", b"{}")
                if kind == "sleep":
                    time.sleep(payload)
                    kind, payload = "raw", b"{}"
                if kind == "sse":
                    data = "".join(payload).encode()
                    content_type = "text/event-stream"
                else:
                    data = payload
                    content_type = "application/json"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


# -- OpenAI chat completions chunks -----------------------------------------------------------------
def _openai_chunk(delta=None, finish=None, usage=None) -> str:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "fake-gpt"}
    chunk["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    if usage:
        chunk["usage"] = usage
    return f"data: {json.dumps(chunk)}\n\n"


def openai_text(text: str) -> tuple:
    words = [w + " " for w in text.split(" ")]
    events = [_openai_chunk({"role": "assistant", "content": ""})]
    events += [_openai_chunk({"content": w}) for w in words]
    events += [
        _openai_chunk({}, finish="stop"),
        _openai_chunk(usage={"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}),
    ]
    return ("sse", events + ["data: [DONE]\n\n"])


def openai_tool_call(text: str, name: str, arguments_json: str, call_id: str = "call_1") -> tuple:
    events = [_openai_chunk({"role": "assistant", "content": text})]
    events.append(
        _openai_chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
                ]
            }
        )
    )
    # Arguments arrive in fragments, as real servers send them.
    for i in range(0, len(arguments_json), 5):
        events.append(
            _openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments_json[i : i + 5]}}]})
        )
    events += [
        _openai_chunk({}, finish="tool_calls"),
        _openai_chunk(usage={"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}),
    ]
    return ("sse", events + ["data: [DONE]\n\n"])


# -- Anthropic messages events ----------------------------------------------------------------------
def _anthropic_event(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def anthropic_turn(text: str, tool: tuple[str, str] | None = None) -> tuple:
    events = [
        _anthropic_event(
            "message_start",
            {
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "fake-claude",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 30, "output_tokens": 1},
                }
            },
        )
    ]
    events.append(_anthropic_event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}))
    for word in text.split(" "):
        events.append(
            _anthropic_event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word + " "}})
        )
    events.append(_anthropic_event("content_block_stop", {"index": 0}))
    if tool:
        name, arguments_json = tool
        events.append(
            _anthropic_event(
                "content_block_start",
                {"index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}},
            )
        )
        for i in range(0, len(arguments_json), 4):
            events.append(
                _anthropic_event(
                    "content_block_delta",
                    {"index": 1, "delta": {"type": "input_json_delta", "partial_json": arguments_json[i : i + 4]}},
                )
            )
        events.append(_anthropic_event("content_block_stop", {"index": 1}))
    stop = "tool_use" if tool else "end_turn"
    events.append(
        _anthropic_event(
            "message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 15}}
        )
    )
    events.append(_anthropic_event("message_stop", {}))
    return ("sse", events)
