"""Show the agent's events in a cell's output: streamed Markdown in Jupyter, plain text in a terminal."""

from __future__ import annotations

import time

from kenkyu.assistant import events as ev
from kenkyu.core.markdown_escape import as_markdown_text
from kenkyu.core.secrets import redact


# The model's reply could not be used (a tool call that did not parse, a timeout) and the provider gave no
# fix: the newcomer who met it on their first request read an error with nothing to do about it. The
# sidebar says the same in its terms (labext/src/fixes.ts, PROVIDER_FIX).
PROVIDER_FIX = (
    'ask again in other words, naming the file and what to do with it (e.g. "simulate villin_1vii.pdb for 2 ps '
    'in implicit solvent"), ask *what can you do?*, or use a stronger model: `%kenkyu provider openai --model ...`'
)


class NotebookRenderer:
    """Renders events with IPython's display machinery (updated in place while text streams)."""

    def __init__(self, rich: bool = True, min_interval_s: float = 0.1):
        self.rich = rich
        self.min_interval_s = min_interval_s
        self._handle = None
        self._text = ""
        self._printed = 0  # how much of the streamed text a terminal has been shown
        self._last_update = 0.0
        self._failed: list[str] = []  # tools that failed in this request: the closing line says so
        self._stopped_shown = False  # a tool's "⏸ interrupted" line is in this request's output
        self._header: tuple | None = None  # (display handle, the header without its waiting note)

    def header(self, description: str, waiting: str = "") -> None:
        """The request's first line. ``waiting`` (:func:`cold_start_note`) says why nothing shows yet; it is taken
        off once the first event arrives (:meth:`settle_header`), so the saved notebook does not say "loading…"
        over an answer that came (newcomer r12: it stayed on a 0.3 s answer, in the saved file for good)."""
        if not (waiting and self.rich):
            self._show_markdown(f"<sub>研究 kenkyu · {description}{waiting}</sub>")
            return
        from IPython.display import display

        handle = display(_bundle(f"<sub>研究 kenkyu · {description}{waiting}</sub>"), raw=True, display_id=True)
        self._header = (handle, f"<sub>研究 kenkyu · {description}</sub>")

    def settle_header(self) -> None:
        """Take the waiting note off the header (once; nothing when it had none)."""
        if self._header is not None:
            handle, settled = self._header
            self._header = None
            handle.update(_bundle(settled), raw=True)

    def __call__(self, event: ev.Event) -> None:
        self.settle_header()  # something arrived: the router and the model are loaded
        if isinstance(event, ev.Token):
            self._stream(event.text)
        elif isinstance(event, ev.CellAdded):
            if event.cell_type == "markdown":
                self._finish_text()
        elif isinstance(event, ev.ToolCallStarted):
            self._finish_text()
            self._show_markdown(f"**▶ `{event.name}`**\n```python\n{event.code}\n```")
        elif isinstance(event, ev.ApprovalNeeded):
            self._show_markdown(approval_text(event))
        elif isinstance(event, ev.ToolResult):
            if event.status == "interrupted":
                resume = f"\n```python\n{event.resume}\n```" if event.resume else ""
                first = event.summary.strip().splitlines()[0]
                self._show_markdown(f"⏸ `{event.name}` ({event.duration_s:.1f} s) — {first}{resume}")
                self._stopped_shown = True
                return
            mark = "✓" if event.ok else "✗"
            if not event.ok and not event.summary.startswith("declined"):  # a decline is the user's choice
                self._failed.append(event.name)
            first = event.summary.strip().splitlines()[0] if event.summary.strip() else ""
            # An exception's text is read as written ('$KENKYU_MODELS' twice was TeX math, newcomer r11).
            first = first[:200] if event.ok else as_markdown_text(first[:200])
            # What the result cannot show is read with it, whatever the model's reply says or leaves out.
            caveats = "".join(f"\n- ⚠ {line}" for line in caveat_lines(event.summary))
            self._show_markdown(f"{mark} `{event.name}` ({event.duration_s:.1f} s) — {first}{caveats}")
        elif isinstance(event, ev.Error):
            self._finish_text()
            if event.where == "user" and self._stopped_shown:
                # The user's own stop: the ⏸ line already says what was kept and how to go on. Under it,
                # "**Error** (user): interrupted ... says how to resume it" read as a crash, and as resumable
                # for a run that kept nothing (a newcomer's coarse-grained run). The sidebar drops it too.
                return
            fix = event.fix or (PROVIDER_FIX if event.where == "provider" else "")
            fix = f"\n\n*What to do:* {fix}" if fix else ""
            self._show_markdown(f"**Error** ({event.where}): {event.message}{fix}")
        elif isinstance(event, ev.Done):
            self._finish_text()
            self._show_markdown(
                f"<sub>{end_reason(event.reason, self._failed)} · {event.steps} model turn(s) · "
                f"{event.tokens:,} tokens · {event.elapsed_s:.1f} s</sub>"
            )
            self._failed = []
            self._stopped_shown = False

    # -- plumbing ---------------------------------------------------------------------------------
    def _stream(self, text: str) -> None:
        self._text += text
        if not self.rich:
            # Print up to the last space only: a key streamed over several tokens is whole (and redacted)
            # before any of it is printed.
            cut = max(self._text.rfind(" ", self._printed), self._text.rfind("\n", self._printed)) + 1
            if cut > self._printed:
                print(redact(self._text[self._printed : cut]), end="", flush=True)
                self._printed = cut
            return
        from IPython.display import display

        now = time.monotonic()
        if self._handle is None:
            if not self._text.strip():
                # The local model streams an empty text before a tool call: shown, it was a blank output
                # block at the top of the cell (a newcomer's %%ask cells), so wait for words.
                return
            self._handle = display(_bundle(self._text), raw=True, display_id=True)
            self._last_update = now
        elif now - self._last_update >= self.min_interval_s:
            self._handle.update(_bundle(self._text), raw=True)
            self._last_update = now

    def _finish_text(self) -> None:
        if self.rich and self._handle is not None:
            self._handle.update(_bundle(self._text), raw=True)
        elif not self.rich and self._text:
            print(redact(self._text[self._printed :]))
        self._handle = None
        self._text = ""
        self._printed = 0

    def _show_markdown(self, text: str) -> None:
        if self.rich:
            from IPython.display import display

            display(_bundle(text), raw=True)
        else:
            print(text)


def router_loads_first(provider: str) -> bool:
    """Whether the next request loads torch, the MiniLM tool router and the embedded model before anything shows.

    A newcomer's first %%ask sat 45 s under a bare header (2 busy cores), and the sidebar said "The model is
    choosing the next step" all that time: both now say it is loading."""
    import sys

    return provider == "local" and "sentence_transformers" not in sys.modules


def cold_start_note(provider: str) -> str:
    """What a %%ask header adds while :func:`router_loads_first` (the sidebar says the same in its footer)."""
    if not router_loads_first(provider):
        return ""
    return " · first request in this kernel: loading the tool router and the model (up to a minute on a busy machine)…"


def end_reason(reason: str, failed: list[str]) -> str:
    """How a request ended, in its closing line: a bare "finished" under a failed step reads as success."""
    if reason != "finished" or not failed:
        return reason
    names = ", ".join(f"`{name}`" for name in dict.fromkeys(failed))
    steps = "1 step" if len(failed) == 1 else f"{len(failed)} steps"
    return f"finished, {steps} failed ({names})"


def approval_text(event: ev.ApprovalNeeded) -> str:
    """What the person approving reads: the cost, every step that will run, and what it would collide with."""
    writes = " It writes files." if event.writes_files else ""
    # One paragraph each: Markdown joins consecutive lines, and a newcomer read "Expected time: about 57 s here
    # (…busy…: expect up to ~2x longer) Steps that will run:" as one run-on sentence over the list (r12).
    paragraphs = [f"**Approval needed** for `{event.name}`.{writes}"]
    if event.estimate:
        paragraphs.append(f"Expected time: {event.estimate}")
    if event.steps:
        paragraphs.append("\n".join(["Steps that will run:", *(f"- {step}" for step in event.steps)]))
    if event.warnings:
        paragraphs += [f"⚠ **Warning:** {warning}" for warning in event.warnings]
    return "\n\n".join(paragraphs)


def caveat_lines(summary: str) -> list[str]:
    """The ``caveat:`` lines of a tool's summary (too little simulated time, too few frames)."""
    return [line.strip() for line in summary.splitlines() if line.strip().lower().startswith("caveat:")]


def _bundle(markdown: str) -> dict:
    # Plain text alongside Markdown, so text-only consumers (nbconvert to text, the agent) read it too.
    return {"text/markdown": markdown, "text/plain": markdown}


def rich_frontend(shell) -> bool:
    """Whether the kernel talks to a notebook front end (Markdown and HTML render) rather than a terminal."""
    return type(shell).__name__ == "ZMQInteractiveShell"
