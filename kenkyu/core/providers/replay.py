"""Replay recorded assistant turns, for tests and demos; and record live turns into that format.

A replay file is JSON: ``{"turns": [{"text": "...", "tool_calls": [{"name": "...", "arguments": {...}}]}, ...]}``.
Each request to the provider plays the next turn. A turn may instead hold ``{"raise": "timeout"}`` or
``{"raise": "malformed"}`` to rehearse how failures look to the user.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterator, Sequence

from kenkyu.core.files import write_json_atomically
from kenkyu.core.messages import Message, ToolCall
from kenkyu.core.providers.base import (
    Chunk,
    MalformedReply,
    Provider,
    ProviderError,
    ProviderTimeout,
    TextDelta,
    ToolCallDone,
    Usage,
)


SHAPE = (
    '{"turns": [{"text": "...", "tool_calls": [{"name": "tool_name", "arguments": {...}}]}, ...]} '
    '(a turn may instead be {"raise": "timeout"} or {"raise": "malformed"})'
)


def load_turns(path: str | os.PathLike) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise ProviderError(
            f"replay file {path} does not exist",
            fix="check the path given to %kenkyu provider replay",
        )
    if not path.is_file():
        raise ProviderError(
            f"replay file {path} is a folder or device, not a file",
            fix="pass the path of a .json file",
        )
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProviderError(f"replay file {path} is not valid JSON: {exc}", fix=f"it must be shaped {SHAPE}")
    if isinstance(data, dict) and "turns" not in data:
        raise ProviderError(
            f'replay file {path} has no "turns" key (it has {sorted(data)[:5]})',
            fix=f"it must be shaped {SHAPE}",
        )
    turns = data["turns"] if isinstance(data, dict) else data
    if not isinstance(turns, list):
        raise ProviderError(
            f'replay file {path}: "turns" must be a list, not {type(turns).__name__}',
            fix=f"use {SHAPE}",
        )
    for number, turn in enumerate(turns, start=1):
        problem = _turn_problem(turn)
        if problem:
            raise ProviderError(
                f"replay file {path}, turn {number}: {problem}",
                fix=f"each turn is shaped as in {SHAPE}",
            )
    return turns


def _turn_problem(turn) -> str | None:
    """What is wrong with one recorded turn, or None."""
    if not isinstance(turn, dict):
        return f"a turn must be an object, not {type(turn).__name__} ({str(turn)[:40]!r})"
    if "raise" in turn:
        return None if turn["raise"] in ("timeout", "malformed") else '"raise" must be timeout or malformed'
    if not isinstance(turn.get("text", ""), str):
        return f'"text" must be a string, not {type(turn["text"]).__name__}'
    calls = turn.get("tool_calls", [])
    if not isinstance(calls, list):
        return f'"tool_calls" must be a list, not {type(calls).__name__}'
    for index, call in enumerate(calls, start=1):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str) or not call["name"]:
            return f'tool call {index} needs a "name" (a string), got {str(call)[:60]!r}'
        if not isinstance(call.get("arguments", {}), (dict, str)):
            return f'tool call {index} ({call["name"]}): "arguments" must be an object or JSON text'
    return None


class ReplayProvider(Provider):
    def __init__(self, config, turns: list[dict] | None = None):
        super().__init__(config)
        self.turns = turns if turns is not None else load_turns(config.replay_file)
        self.position = 0

    @property
    def model_id(self) -> str:
        return f"replay:{Path(self.config.replay_file).name}" if self.config.replay_file else "replay"

    def stream(self, messages: Sequence[Message], tools: Sequence) -> Iterator[Chunk]:
        if self.position >= len(self.turns):
            raise ProviderError(
                f"the replay has no more turns (all {len(self.turns)} were played)",
                fix="record a longer conversation, or reset the session with %kenkyu reset",
            )
        turn = self.turns[self.position]
        self.position += 1
        failure = turn.get("raise")
        if failure == "timeout":
            raise ProviderTimeout("the replayed provider timed out", fix="this turn rehearses a timeout")
        if failure == "malformed":
            raise MalformedReply(
                "the replayed provider sent an unreadable reply",
                fix="this turn rehearses a broken reply",
            )
        text = turn.get("text", "")
        # Stream word by word so consumers see the same shape of events as from a live model.
        for piece in re.findall(r"\S+\s*|\s+", text):
            yield TextDelta(piece)
        for i, call in enumerate(turn.get("tool_calls", [])):
            call_id = call.get("id") or f"replay_{self.position}_{i}"
            raw = call.get("arguments", {})
            if isinstance(raw, str):
                yield ToolCallDone(ToolCall.from_json_text(call_id, call["name"], raw))
            else:
                yield ToolCallDone(ToolCall(call_id, call["name"], raw))
        yield Usage(sum(len(m.content) for m in messages) // 4, len(text) // 4)


class RecordingProvider(Provider):
    """Wrap a live provider and append every turn it gives to a replay file (atomically)."""

    def __init__(self, inner: Provider, path: str | os.PathLike):
        super().__init__(inner.config)
        self.inner = inner
        self.path = Path(path)

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def use_notebook(self, candidates) -> None:
        """Hand the notebook's items (kernel variables, run folders, files, the last error) to the wrapped
        provider: recording a session must not change what the model is given."""
        self.candidates = list(candidates)
        if hasattr(self.inner, "use_notebook"):
            self.inner.use_notebook(candidates)

    candidates: list = []

    def stream(self, messages, tools):
        text, calls = [], []
        for chunk in self.inner.stream(messages, tools):
            if isinstance(chunk, TextDelta):
                text.append(chunk.text)
            elif isinstance(chunk, ToolCallDone):
                calls.append({"name": chunk.call.name, "arguments": chunk.call.arguments})
            yield chunk
        turns = load_turns(self.path) if self.path.exists() else []
        turns.append({"text": "".join(text), "tool_calls": calls})
        write_json_atomically(self.path, {"turns": turns})
