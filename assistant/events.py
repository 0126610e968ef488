"""Events the agent loop streams to whoever is watching: the magic's output, the sidebar, a test.

Every event is a small dataclass with ``to_dict()`` so the same stream can cross a Jupyter comm.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Event:
    kind = "event"

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}


@dataclass
class Token(Event):
    """A piece of streamed assistant text."""

    text: str
    kind = "token"


@dataclass
class ToolCallStarted(Event):
    """The model asked for a tool; ``code`` is the action cell that will run it."""

    call_id: str
    name: str
    arguments: dict
    code: str
    kind = "tool_call"


@dataclass
class ApprovalNeeded(Event):
    """A call waits for the user. What they approve is spelled out before they do: the expected cost,
    every step that will really run (defaults included) and arguments that collide with files on disk."""

    call_id: str
    name: str
    arguments: dict
    code: str
    writes_files: bool
    estimate: str = ""  # in words: "about 40 s here (...)" or "unknown — no measurement yet (...)"
    estimate_s: float | None = None  # None: nothing measured to estimate from
    steps: list = field(default_factory=list)  # every step that will run, with its length
    warnings: list = field(default_factory=list)  # overwrites, collisions, a run that would be resumed or refused
    kind = "approval_needed"


TOOL_STATUSES = ("done", "failed", "interrupted")


@dataclass
class ToolResult(Event):
    """How a call ended. ``status`` "interrupted" (Stop, Ctrl-C or the time budget) means the work so far
    is kept; ``resume`` is then the code that continues it ("" when the tool cannot resume)."""

    call_id: str
    name: str
    ok: bool
    summary: str
    duration_s: float
    status: str = ""  # "" becomes "done" or "failed" from ok
    resume: str = ""
    kind = "tool_result"

    def __post_init__(self):
        if not self.status:
            self.status = "done" if self.ok else "failed"
        if self.status not in TOOL_STATUSES:
            raise ValueError(f"status must be one of {TOOL_STATUSES}, not {self.status!r}")


@dataclass
class CellAdded(Event):
    """A cell (code or markdown) became part of the notebook record."""

    cell_type: str
    source: str
    metadata: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)
    kind = "cell"


@dataclass
class Error(Event):
    """Something went wrong; ``fix`` says what the user can do about it."""

    message: str
    where: str
    fix: str = ""
    recoverable: bool = True
    kind = "error"


@dataclass
class Done(Event):
    reason: str  # "finished", "stopped", "interrupted", "budget:steps", "budget:tokens", "budget:time", "error"
    steps: int
    tokens: int
    elapsed_s: float
    kind = "done"


def event_from_dict(data: dict[str, Any]) -> Event:
    kinds = {cls.kind: cls for cls in (Token, ToolCallStarted, ApprovalNeeded, ToolResult, CellAdded, Error, Done)}
    payload = {k: v for k, v in data.items() if k != "kind"}
    return kinds[data["kind"]](**payload)
