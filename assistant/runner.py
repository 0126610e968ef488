"""Run an action cell in the scientist's kernel and keep its outputs.

Outputs are shown live (progress bars, widgets and prints appear while a long tool runs) and teed
into nbformat output records, so the same outputs can go back to the agent and into the notebook
record.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
import textwrap
import threading
import time
import traceback
from dataclasses import dataclass, field

from kenkyu.assistant.summaries import summarize_for_agent
from kenkyu.core.markdown_escape import as_markdown_text


@dataclass
class Execution:
    code: str
    value: object = None
    outputs: list = field(default_factory=list)  # nbformat v4 output dicts
    error: BaseException | None = None
    duration_s: float = 0.0
    interrupted: bool = False  # Ctrl-C, the stop button or the time budget ended it; its work is kept

    def interruption(self) -> str:
        """What the interrupted tool said about the work it kept (e.g. where its last checkpoint is)."""
        message = str(self.error or "").strip()
        return message if message and message != "interrupted by the user" else ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self, limit: int = 2500) -> str:
        """What the agent reads: the value's summary, or the error, plus printed text."""
        printed = "".join(o.get("text", "") for o in self.outputs if o.get("output_type") == "stream")
        if self.error is not None:
            text = f"ERROR: {type(self.error).__name__}: {self.error}"
            if printed.strip():
                text += f"\nOutput before the error:\n{printed[-800:]}"
            return text[:limit]
        text = summarize_for_agent(self.value)
        if printed.strip():
            text += f"\nPrinted:\n{printed[-800:]}"
        return text[:limit]


class _Tee(io.TextIOBase):
    def __init__(self, stream, name, sink):
        self.stream, self.name, self.sink = stream, name, sink

    def write(self, text):
        self.sink.append((self.name, text))
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()

    def isatty(self):
        return False


class ToolInterrupted(KeyboardInterrupt):
    """An action cell was interrupted; ``execution`` holds what it printed and kept. Still a
    KeyboardInterrupt, so a loop that does not look at the execution stops as Ctrl-C stops it."""

    def __init__(self, execution: Execution):
        super().__init__(str(execution.error or "interrupted"))
        self.execution = execution


class InPlaceRunner:
    """Execute action cells in a namespace (the kernel's ``user_ns`` inside IPython)."""

    def __init__(self, shell=None, namespace: dict | None = None):
        self.shell = shell
        self.namespace = namespace if namespace is not None else (shell.user_ns if shell is not None else {})

    def cells_run_on_main_thread(self) -> bool:
        """The cell runs right here: on the main thread when the caller is (``%%ask`` in a kernel)."""
        return threading.current_thread() is threading.main_thread()

    def run(self, code: str, metadata: dict | None = None) -> Execution:
        """Run an action cell here. ``metadata`` (the cell's, from
        :func:`~kenkyu.assistant.cells.cell_metadata`) is what a notebook runner writes on the cell;
        running in place has no cell to write it on."""
        execution = Execution(code)
        streams: list[tuple[str, str]] = []
        published: list[tuple[dict, dict]] = []
        started = time.perf_counter()
        try:
            with (
                self._tee_display(published),
                contextlib.redirect_stdout(_Tee(sys.stdout, "stdout", streams)),
                contextlib.redirect_stderr(_Tee(sys.stderr, "stderr", streams)),
            ):
                try:
                    execution.value = self._execute(code)
                    self._flush_inline_figures()
                except KeyboardInterrupt as exc:
                    # The stop button or the time budget: keep what ran (a tool may have said where its
                    # work is kept, as md.run's RunInterrupted does) and let the agent loop end the turn.
                    execution.error = exc if str(exc) else KeyboardInterrupt("interrupted by the user")
                    execution.interrupted = True
                except Exception as exc:  # a tool failure is an outcome for the agent, not a crash
                    execution.error = exc
        finally:
            execution.duration_s = time.perf_counter() - started
            execution.outputs = _merge_streams(streams) + [
                {"output_type": "display_data", "data": data, "metadata": meta} for data, meta in published
            ]
        if execution.interrupted:
            execution.outputs.append(
                {
                    "output_type": "error",
                    "ename": type(execution.error).__name__,
                    "evalue": str(execution.error),
                    "traceback": [],
                }
            )
            raise ToolInterrupted(execution) from execution.error
        if execution.error is not None:
            self._show_traceback(execution.error, execution)
        elif execution.value is not None:
            data, metadata = self._format(execution.value)
            execution.outputs.append(
                {"output_type": "execute_result", "data": data, "metadata": metadata, "execution_count": None}
            )
            self._publish(data, metadata)
        return execution

    def _format(self, value) -> tuple[dict, dict]:
        if self.shell is not None:
            data, metadata = self.shell.display_formatter.format(value)
            return dict(data), dict(metadata)
        return {"text/plain": repr(value)}, {}

    def _publish(self, data: dict, metadata: dict) -> None:
        if self.shell is not None:
            self.shell.display_pub.publish(data=data, metadata=metadata)
        else:
            print(data["text/plain"])

    def _execute(self, code: str):
        tree = ast.parse(code)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
        exec(compile(body, "<kenkyu action cell>", "exec"), self.namespace)
        if last is not None:
            return eval(compile(ast.Expression(last.value), "<kenkyu action cell>", "eval"), self.namespace)
        return None

    @contextlib.contextmanager
    def _tee_display(self, published):
        pub = getattr(self.shell, "display_pub", None)
        if pub is None:
            yield
            return
        original = pub.publish

        def publish(data, metadata=None, *args, **kwargs):
            if data:
                published.append((dict(data), dict(metadata or {})))
            return original(data, metadata, *args, **kwargs)

        pub.publish = publish
        try:
            yield
        finally:
            pub.publish = original

    def _flush_inline_figures(self):
        # In a notebook, figures a tool drew would otherwise appear only after the whole %%ask cell.
        if "matplotlib.pyplot" not in sys.modules or self.shell is None:
            return
        import matplotlib

        if "inline" in matplotlib.get_backend():
            from matplotlib_inline.backend_inline import flush_figures

            flush_figures()

    def _show_traceback(self, exc, execution: Execution):
        """Show the error in one line (the tool's message says what to do); ``%tb`` shows all of it."""
        etype, evalue, tb = type(exc), exc, exc.__traceback__
        sys.last_type, sys.last_value, sys.last_traceback = etype, evalue, tb
        if self.shell is not None:
            stb = self.shell.InteractiveTB.structured_traceback(etype, evalue, tb)
            line = f"{etype.__name__}: {evalue}"
            # Escaped: "$X ... $X" in a message would render as TeX math, "<NULL>" as a tag that shows nothing.
            message = message_markdown(str(evalue))
            between = "\n\n" if message.startswith(("```", "~~~")) else " "
            shown = f"**{etype.__name__}:**{between}{message}"
            self.shell.display_pub.publish(
                {
                    "text/plain": f"{line}\n(full traceback: %tb)",
                    "text/markdown": f"{shown}\n\n<sub>full traceback: `%tb`</sub>",
                },
                {},
            )
        else:
            stb = traceback.format_exception(etype, evalue, tb)
            sys.stderr.write(stb[-1])
        execution.outputs.append(
            {"output_type": "error", "ename": etype.__name__, "evalue": str(evalue), "traceback": list(stb)}
        )


_URL = re.compile(r"https?://[^\s<>`\"']+")
_URL_TAIL = ".,;:)]}"


def _link_or_text(text: str) -> str:
    """One line of prose as Markdown: escaped (see :func:`as_markdown_text`), its URLs as autolinks.

    Escaped like the words around it, a URL's ``_`` became ``\\_`` inside the link GitHub-flavoured Markdown makes
    of a bare URL: the link text and its target held backslashes (ESM-2's download URLs, newcomer r12), so a
    clicked or copied URL was broken. ``<url>`` is a CommonMark autolink, read character for character."""
    out, at = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TAIL)
        out += [as_markdown_text(text[at : match.start()]), f"<{url}>"]
        at = match.start() + len(url)
    out.append(as_markdown_text(text[at:]))
    return "".join(out)


def message_markdown(message: str) -> str:
    """An exception's message as Markdown that reads as its text does in a terminal.

    Its lines stay lines (Markdown joined them: "run curl -LO URL curl -LO URL and copy" read as one command), and
    indented lines, the commands a message gives to run, are a code block, copied as they are."""
    blocks: list[str] = []
    prose: list[str] = []
    code: list[str] = []

    def close_prose():
        if prose:
            blocks.append("\\\n".join(_link_or_text(line.strip()) for line in prose))  # hard line breaks
            prose.clear()

    def close_code():
        if code:
            fence = "~~~" if any(line.lstrip().startswith("```") for line in code) else "```"
            blocks.append("\n".join([fence, textwrap.dedent("\n".join(code)), fence]))
            code.clear()

    for line in message.strip("\n").splitlines():
        if line[:1] in (" ", "\t") and line.strip():
            close_prose()
            code.append(line)
        elif line.strip():
            close_code()
            prose.append(line)
        else:
            close_prose()
            close_code()
    close_prose()
    close_code()
    return "\n\n".join(blocks)


def _merge_streams(streams: list[tuple[str, str]]) -> list[dict]:
    merged: list[dict] = []
    for name, text in streams:
        if merged and merged[-1]["name"] == name:
            merged[-1]["text"] += text
        else:
            merged.append({"output_type": "stream", "name": name, "text": text})
    return merged
