"""The expectations a task states about the notebook its %%ask left behind, as small pure checks.

Each check reads a :class:`TaskRun` (what the harness collected from the executed notebook) and
returns ``(passed, message)``; the message says what was expected and what was found, so a FAIL in
the table is self-explanatory. Checks never run code of their own: values were computed in the
task's kernel by the probe cell and arrive here as plain JSON.
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TaskRun:
    """What one executed task notebook shows."""

    folder: Path
    record: dict | None = None  # the %%ask output record (application/vnd.kenkyu.record+json)
    ask_text: str = ""  # everything the %%ask cell showed, as text
    ask_raised: str | None = None  # the %%ask cell itself raised (the magic crashed)
    kernel_alive: bool = False  # the probe cell after %%ask ran
    values: dict[str, Any] = field(default_factory=dict)  # probe results, by value-check label
    before: frozenset[str] = frozenset()  # files (relative paths) in the folder before the notebook ran

    @property
    def reply(self) -> str:
        """What the assistant itself said (its messages' text), without tool results or action cells."""
        return "\n".join(
            str(m.get("content") or "") for m in (self.record or {}).get("messages", []) if m.get("role") == "assistant"
        )

    @property
    def tool_cells(self) -> list[dict]:
        """Action cells the agent executed: tool name, variable, whether it raised."""
        cells = (self.record or {}).get("cells", [])
        out = []
        for cell in cells:
            meta = cell.get("metadata", {}).get("kenkyu", {})
            if cell.get("cell_type") == "code" and meta.get("tool"):
                failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
                out.append({"tool": meta["tool"], "variable": meta.get("variable"), "ok": not failed})
        return out

    @property
    def tool_calls(self) -> list[dict]:
        """Every call the model made (executed or rejected), with its arguments."""
        calls = []
        for message in (self.record or {}).get("messages", []):
            for call in message.get("tool_calls", []) or []:
                calls.append({"name": call.get("name"), "arguments": call.get("arguments") or {}})
        return calls

    @property
    def tool_cell_errors(self) -> list[tuple[str, str]]:
        """(tool, "Name: message") of every action cell that raised."""
        out = []
        for cell in (self.record or {}).get("cells", []):
            tool = cell.get("metadata", {}).get("kenkyu", {}).get("tool")
            for o in cell.get("outputs", []):
                if tool and o.get("output_type") == "error":
                    out.append((tool, f"{o.get('ename')}: {o.get('evalue')}"))
        return out

    @property
    def tool_errors(self) -> list[str]:
        """Tool results the agent loop reported as errors (bad arguments, unknown tool, broken call)."""
        return [
            m.get("content", "")
            for m in (self.record or {}).get("messages", [])
            if m.get("role") == "tool" and str(m.get("content", "")).startswith("ERROR")
        ]


def _tools_run(run: TaskRun) -> list[str]:
    return [c["tool"] for c in run.tool_cells]


def tool_called(run: TaskRun, name: str):
    called = _tools_run(run)
    return name in called, (
        f"tool {name} called" if name in called else f"tool {name} not called (called: {called or 'none'})"
    )


def tool_not_called(run: TaskRun, name: str):
    called = _tools_run(run)
    return name not in called, (
        f"tool {name} not called"
        if name not in called
        else f"tool {name} was called, but the task expects it not to be"
    )


def tool_order(run: TaskRun, names: list[str]):
    """The tools ran in this order (other calls may come between them)."""
    called = iter(_tools_run(run))
    ok = all(any(c == n for c in called) for n in names)
    return ok, f"tools in order {names}" if ok else f"tools not in order {names} (called: {_tools_run(run) or 'none'})"


def arg_equals(run: TaskRun, spec: dict):
    """Some call to ``tool`` had ``arg`` equal to ``value`` (numbers to 1e-9, strings exactly)."""
    tool, arg, want = spec["tool"], spec["arg"], spec["value"]
    seen = [c["arguments"].get(arg) for c in run.tool_calls if c["name"] == tool]
    ok = any(_same(got, want) for got in seen)
    return ok, f"{tool}({arg}={want!r})" if ok else f"{tool} never called with {arg}={want!r} (got {seen or 'no call'})"


def _same(got, want) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(got, want, rel_tol=0, abs_tol=1e-9)
    return got == want


def file_exists(run: TaskRun, pattern: str):
    hits = sorted(glob.glob(str(run.folder / pattern), recursive=True))
    return bool(hits), (f"{pattern} exists ({len(hits)})" if hits else f"no file matches {pattern}")


def file_absent(run: TaskRun, pattern: str):
    hits = sorted(glob.glob(str(run.folder / pattern), recursive=True))
    return not hits, (f"no {pattern}" if not hits else f"{pattern} should not exist, found {hits[0]}")


def output_contains(run: TaskRun, wanted: str | list[str]):
    """The %%ask output shows every one of these strings (case-insensitive)."""
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    text = run.ask_text.lower()
    missing = [w for w in wanted if w.lower() not in text]
    return not missing, f"output mentions {wanted}" if not missing else f"output does not mention {missing}"


def no_error(run: TaskRun, _=True):
    """The request finished, every tool cell ran without raising, and no call was rejected."""
    problems = []
    if run.ask_raised:
        problems.append(f"%%ask raised {run.ask_raised}")
    reason = ((run.record or {}).get("done") or {}).get("reason")
    if run.record is None:
        problems.append("no %%ask record")
    elif reason != "finished":
        problems.append(f"request ended with {reason!r}")
    failed = [c["tool"] for c in run.tool_cells if not c["ok"]]
    if failed:
        problems.append(f"tool cells raised: {failed}")
    if run.tool_errors:
        problems.append(f"rejected call: {run.tool_errors[0][:120]}")
    return not problems, "no errors" if not problems else "; ".join(problems)


def tool_succeeded(run: TaskRun, name: str):
    """The tool ran and its cell did not raise: the outcome of a request whose result is shown, not a number
    (a 3D view). Unlike no_error, it does not hold when nothing ran."""
    cells = [c for c in run.tool_cells if c["tool"] == name]
    ok = any(c["ok"] for c in cells)
    return ok, (f"{name} ran and showed its result" if ok else f"{name} raised" if cells else f"{name} did not run")


def tool_failed(run: TaskRun, name: str):
    """The tool was called and its cell raised (an error-handling task's expected outcome)."""
    cells = [c for c in run.tool_cells if c["tool"] == name]
    ok = any(not c["ok"] for c in cells)
    return ok, (f"{name} failed as expected" if ok else f"{name} did not fail" if cells else f"{name} was not called")


def error_mentions(run: TaskRun, spec: dict):
    """A cell of ``tool`` raised an error whose message names every one of ``text`` (case-insensitive):
    the error is clear about what went wrong, not just a traceback from deep inside a library."""
    wanted = [spec["text"]] if isinstance(spec["text"], str) else list(spec["text"])
    errors = [message for tool, message in run.tool_cell_errors if tool == spec["tool"]]
    if not errors:
        return False, f"no error from {spec['tool']}"
    for message in errors:
        if all(w.lower() in message.lower() for w in wanted):
            return True, f"{spec['tool']} error names {wanted}"
    return False, f"{spec['tool']} error does not name {wanted}: {errors[0][:150]}"


def kernel_alive(run: TaskRun, _=True):
    """The kernel survived, and %%ask showed any failure in its output instead of raising."""
    if run.ask_raised:
        return False, f"%%ask raised {run.ask_raised}"
    return run.kernel_alive, "kernel alive after %%ask" if run.kernel_alive else "kernel died or %%ask crashed it"


def no_tool_called(run: TaskRun, _=True):
    """The model made no tool call at all, executed or rejected (a missing input is asked about, never
    replaced by an unrelated call; a question about the assistant needs no tool)."""
    names = [c["name"] for c in run.tool_calls] or _tools_run(run)
    return not names, "no tool called" if not names else f"tools were called: {names}"


def tools_only(run: TaskRun, patterns: str | list[str]):
    """Every call (executed or rejected) names a tool matching one of these regular expressions;
    no call at all passes. For requests where only a kind of tool, or none, would be right."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    names = [c["name"] for c in run.tool_calls] or _tools_run(run)
    unrelated = [n for n in names if not any(re.search(p, n or "") for p in patterns)]
    return not unrelated, (
        f"no call outside {patterns}"
        if not unrelated
        else f"unrelated tool calls: {unrelated} (allowed: {patterns} or none)"
    )


def tool_called_matching(run: TaskRun, pattern: str):
    """Some tool whose name matches this regular expression ran: the check for a kind of tool that
    kenkyu does not have yet (a minimisation, a report export), whatever its name will be."""
    called = _tools_run(run)
    hits = [n for n in called if re.search(pattern, n)]
    return bool(hits), (
        f"tool {hits[0]} (matches {pattern!r}) called"
        if hits
        else f"no tool matching {pattern!r} called (called: {called or 'none'})"
    )


def _says(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` at the start of a word (case-insensitive): ``trajectory`` is not found in
    a tool name such as ``viz_show_trajectory``, so a list of tool names does not name an input."""
    return re.search(r"(?<![\w])" + re.escape(word.lower()), text.lower()) is not None


def _missing_words(text: str, wanted: str | list) -> list:
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    return [w for w in wanted if not any(_says(text, a) for a in ([w] if isinstance(w, str) else w))]


def reply_mentions(run: TaskRun, wanted: str | list):
    """The assistant's own reply names each item (case-insensitive, at the start of a word); an item that is
    a list is satisfied by any one of its strings (e.g. ["solvent", "implicit"])."""
    missing = _missing_words(run.reply, wanted)
    shown = run.reply.strip().replace("\n", " ")[:120]
    return not missing, (
        f"reply mentions {wanted}" if not missing else f"reply does not mention {missing} (reply: {shown!r})"
    )


# A sentence that asks, or says something is absent: where a missing input is named, not merely listed.
_ASKS_OR_LACKS = re.compile(
    r"\?|\b(no|not|none|missing|which|where|cannot|can't|couldn't|don't|didn't|"
    r"isn't|without|find|found|need|needs|give me|tell me|provide)\b",
    re.IGNORECASE,
)


def reply_names_missing(run: TaskRun, wanted: str | list):
    """The reply names what is missing: each item (or one of its alternatives) occurs in a sentence that
    asks (a question mark, "which", "where") or says it is absent ("no", "not", "cannot find", "need").
    A generic help text that lists what the assistant "works best with" does not pass."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", run.reply)
    telling = " \n ".join(s for s in sentences if _ASKS_OR_LACKS.search(s))
    missing = _missing_words(telling, wanted)
    shown = run.reply.strip().replace("\n", " ")[:120]
    return not missing, (
        f"reply names the missing {wanted}"
        if not missing
        else f"reply does not ask for or name the missing {missing} (reply: {shown!r})"
    )


def new_file(run: TaskRun, pattern: str):
    """A file matching ``pattern`` that was not in the folder before the notebook ran (the harness's
    own notebook.ipynb does not count)."""
    hits = [
        h
        for h in sorted(glob.glob(str(run.folder / pattern), recursive=True))
        if Path(h).is_file()
        and Path(h).relative_to(run.folder).as_posix() not in run.before
        and Path(h).relative_to(run.folder).as_posix() not in HARNESS_FILES
    ]
    return bool(hits), (
        f"new file {Path(hits[0]).relative_to(run.folder)}" if hits else f"no new file matches {pattern}"
    )


HARNESS_FILES = {"notebook.ipynb", ".kenkyu-agent-benchmark"}


def any_of(run: TaskRun, alternatives: list[list[dict]]):
    """One of several acceptable outcomes: each alternative is a list of expectations that must all
    pass (e.g. the assistant asks which solvent, or it runs implicit solvent)."""
    messages = []
    for index, alternative in enumerate(alternatives, 1):
        results = [check(run, e) for e in alternative]
        failed = [m for ok, m in results if not ok]
        if not failed:
            return True, f"alternative {index} of {len(alternatives)}: " + "; ".join(m for _, m in results)
        messages.append(f"({index}) {failed[0]}")
    return False, "no alternative holds: " + " | ".join(messages)


def cells_at_least(run: TaskRun, n: int):
    count = len(run.tool_cells)
    return count >= n, f"{count} action cells (≥ {n})" if count >= n else f"only {count} action cells (< {n})"


def value_in_range(run: TaskRun, spec: dict):
    """A number computed in the kernel lies in [min, max]; see :func:`value_label`."""
    label = value_label(spec)
    got = run.values.get(label)
    lo, hi = spec.get("min", -math.inf), spec.get("max", math.inf)
    what = spec.get("name") or label
    if isinstance(got, dict) and "error" in got:
        return False, _no_window(run, spec, str(got["error"])) or f"{what}: {got['error']}"
    if not isinstance(got, (int, float)) or isinstance(got, bool) or math.isnan(got):
        return False, f"{what}: no number ({got!r})"
    ok = lo <= got <= hi
    return ok, f"{what} = {got:.4g} in [{lo}, {hi}]" if ok else f"{what} = {got:.4g} outside [{lo}, {hi}]"


# What a probe expression raises when the pattern it reads from a result's text matched nothing: re.search(...)
# gave None (then .group), or re.findall(...) gave [] (then max/min, or [0]).
_NOTHING_MATCHED = re.compile(
    r"'NoneType' object has no attribute 'group|(max|min)\(\) (arg is an empty sequence|iterable argument is empty)"
    r"|list index out of range|'NoneType' object is not subscriptable"
)
WINDOW_ARGUMENTS = ("frames", "start_ps", "end_ps")


def _no_window(run: TaskRun, spec: dict, error: str) -> str | None:
    """A probe that reads the frames an analysis used from its ``.window`` and found none there: the call
    analysed every frame ("all 20 frames"), most often because the request's window was dropped. Said as
    such, with the window the calls were given, instead of the expression's AttributeError."""
    if ".window" not in spec.get("expr", "") or not _NOTHING_MATCHED.search(error):
        return None
    tool = spec.get("tool", "")
    given = [
        ", ".join(f"{name}={call['arguments'][name]!r}" for name in WINDOW_ARGUMENTS if name in call["arguments"])
        or "no frames=, start_ps= or end_ps="
        for call in run.tool_calls
        if call["name"] == tool
    ]
    calls = f"{tool} was called with " + " | ".join(given) if given else f"no call of {tool} was recorded"
    what = spec.get("name") or value_label(spec)
    return f"no window found: {what}: its .window names no frame window ({calls}; {error})"


def value_label(spec: dict) -> str:
    """The key under which the probe cell reports a value spec."""
    return f"{spec.get('tool', '')}::{spec['expr']}"


CHECKS: dict[str, Callable] = {
    "tool_called": tool_called,
    "tool_not_called": tool_not_called,
    "tool_order": tool_order,
    "tool_failed": tool_failed,
    "tool_succeeded": tool_succeeded,
    "arg_equals": arg_equals,
    "file_exists": file_exists,
    "file_absent": file_absent,
    "output_contains": output_contains,
    "no_error": no_error,
    "error_mentions": error_mentions,
    "kernel_alive": kernel_alive,
    "cells_at_least": cells_at_least,
    "value_in_range": value_in_range,
    "no_tool_called": no_tool_called,
    "tools_only": tools_only,
    "tool_called_matching": tool_called_matching,
    "reply_mentions": reply_mentions,
    "reply_names_missing": reply_names_missing,
    "new_file": new_file,
    "any_of": any_of,
}

# What each kind of check judges, for the two scores of the everyday sets: "call" (the right tool with
# the right arguments, or rightly no tool) and "outcome" (what the scientist got: a value, a file, a
# clear reply or error). A task PASSes when every check holds.
CALL_CHECKS = {
    "tool_called",
    "tool_not_called",
    "tool_order",
    "arg_equals",
    "cells_at_least",
    "no_tool_called",
    "tools_only",
    "tool_called_matching",
}


def aspects(expectation: dict) -> set[str]:
    """Which scores an expectation counts towards: {"call"}, {"outcome"} or, for an any_of mixing both, both."""
    ((kind, argument),) = expectation.items()
    if kind == "any_of":
        return set().union(*(aspects(e) for alternative in argument for e in alternative))
    return {"call"} if kind in CALL_CHECKS else {"outcome"}


def check_aspect(run: TaskRun, expectation: dict, aspect: str) -> bool | None:
    """Whether the expectation holds as far as one aspect goes (None: it says nothing about it).

    For an any_of, the call aspect holds when some alternative's call checks all hold, so "asked
    instead of running" and "ran with the right arguments but the value was off" are told apart."""
    if aspect not in aspects(expectation):
        return None
    ((kind, argument),) = expectation.items()
    if kind != "any_of":
        return check(run, expectation)[0]
    for alternative in argument:
        verdicts = [v for v in (check_aspect(run, e, aspect) for e in alternative) if v is not None]
        # an alternative with no check of this aspect holds for it only when it holds as a whole
        if all(verdicts) if verdicts else all(check(run, e)[0] for e in alternative):
            return True
    return False


def check(run: TaskRun, expectation: dict) -> tuple[bool, str]:
    """Run one expectation, a one-key table such as ``{"tool_called": "md_run"}``."""
    if len(expectation) != 1:
        raise ValueError(
            f"an expectation has exactly one kind, got {sorted(expectation)}; "
            f'write each as its own table, e.g. {{tool_called = "md_run"}}'
        )
    ((kind, argument),) = expectation.items()
    if kind not in CHECKS:
        raise ValueError(f"unknown expectation {kind!r}; use one of {', '.join(CHECKS)}")
    return CHECKS[kind](run, argument)
