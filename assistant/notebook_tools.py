"""Tools about the notebook itself: explain the last error, describe what the notebook holds, export a report.

They sit with the agent (not in :mod:`kenkyu.tools`) because their subject is the notebook: its last
error, its kernel variables, its saved file. Each is a plain function a scientist calls by hand with
the same call an action cell writes::

    from kenkyu.assistant import notebook_tools
    notebook_tools.explain_error()          # the kernel's last error: the failing line and a likely fix
    notebook_tools.overview("which runs do I have?")
    notebook_tools.export_report()          # the current notebook as an executable report (like %kenkyu export)

``explain_error`` returns facts, from a small table of common errors: the error, the line that failed
and a likely fix. A strong model may explain further from them; the embedded model quotes them.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kenkyu.assistant import cell_log
from kenkyu.assistant.cell_errors import standing_error
from kenkyu.assistant.defining_cells import defining_cell
from kenkyu.assistant.interrupts import last_kernel_error
from kenkyu.assistant.report_cost import estimate_export
from kenkyu.assistant.summaries import near_paths
from kenkyu.core.registry import tool
from kenkyu.core.science import checked_by, costs, result_check, writes

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ERROR_LINE = re.compile(
    r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning|Interrupted))\s*(?::\s*(.*))?$"
)

# Python modules -> the kenkyu extra that installs them.
EXTRA_OF_MODULE = {
    "openmm": "md",
    "pdbfixer": "md",
    "mdtraj": "md",
    "nglview": "md",
    "dask": "md",
    "distributed": "md",
    "numba": "kernels",
    "torch": "esm",
    "transformers": "esm",
    "esm": "esm",
    "huggingface_hub": "esm",
    "llama_index": "rag",
    "chromadb": "rag",
    "pypdf": "rag",
    "bibtexparser": "rag",
    "yaml": "rag",
    "llama_cpp": "local-llm",
    "sentence_transformers": "local-llm",
    "jupyterlab": "lab",
}


def _ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st: the fix reads as a person writes it ("the 3th residue" did not)."""
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# -- explain_error ---------------------------------------------------------------------------------------


@dataclass
class ErrorExplanation:
    """The facts about one error: what it says, the line that failed, and a likely fix (from a table)."""

    error_type: str | None
    message: str
    failing_line: str | None = None
    line_number: int | None = None
    raised_in: str | None = None  # the innermost frame, when it is not the cell's own line
    cause: str | None = None
    fix: str | None = None
    kind: str | None = None  # the table entry that matched, or None
    details: dict = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.error_type is not None

    def summary(self) -> str:
        if not self.found:
            return self.message
        # The error, the line and the fix first: a reply that quotes only the first lines still has all three.
        # Which cell raised it and how long ago: an old error is never passed off as the latest (newcomer r12).
        cell = f" — {self.details['cell']}" if self.details.get("cell") else ""
        lines = [f"Error: {self.error_type}: {self.message}{cell}"]
        if self.failing_line:
            where = f"line {self.line_number}" if self.line_number else "the line"
            of = self.details.get("failing_in", "the cell")
            lines.append(f"failing line ({where} of {of}): {self.failing_line.strip()}")
        lines.append(f"likely fix: {self.fix}" if self.fix else "likely fix: none in kenkyu's table of common errors")
        if self.cause:
            lines.append(f"likely cause: {self.cause}")
        if self.raised_in:
            lines.append(f"raised in: {self.raised_in}")
        if self.details.get("settled"):
            lines.append(f"note: {self.details['settled']}")
        lines += [f"note: {note}" for note in self.details.get("notes", [])]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        body = self.summary().splitlines()
        return f"**{body[0]}**\n\n" + "\n".join(f"- {line}" for line in body[1:])


@result_check("the explanation quotes the error, the failing line and a likely fix")
def explanation_is_complete(result):
    (expectation,) = explanation_is_complete.expectations
    if not result.found:
        yield expectation, "skip", result.message
        return
    missing = [name for name, value in (("failing line", result.failing_line), ("fix", result.fix)) if not value]
    if missing:
        yield expectation, "warn", f"{result.error_type}: no {' and no '.join(missing)} found"
    else:
        yield expectation, "pass", f"{result.error_type} ({result.kind or 'kenkyu message'}); fix: {result.fix[:80]}"


@tool(
    keywords=(
        "explain the error",
        "what went wrong",
        "why did it fail",
        "last error",
        "traceback",
        "fix the error",
        "error message",
        "debug",
    ),
    produces="value",
    result_name="explanation",
)
@costs(0.5, basis="reads the traceback, not measured")
@checked_by(explanation_is_complete)
def explain_error(error: str | None = None, cell: str | None = None) -> ErrorExplanation:
    """Explain an error: quote it, name the line that failed and give a likely fix from a table of common errors.

    With no arguments it explains the kernel's last error (the red cell). Knows missing files and paths,
    trajectory/topology atom-count mismatches, simulations that blew up (NaN), missing packages (which
    kenkyu extra to install), missing table columns and variables, existing run folders and more.

    Parameters
    ----------
    error
        The error text (a traceback or "Type: message"); default the kernel's last error.
    cell
        The source of the cell that failed, to find the failing line in.
    """
    if error is None:
        logged = cell_log.records()
        latest = logged[-1] if logged else None
        # The last error that still stands: a Stop that a Resume has since finished is no error any more.
        value, settled = standing_error()
        raised = next((r for r in reversed(logged) if value is not None and r.error_id == id(value)), None)
        # A cell that failed without a Python error (a `!papermill …` whose output holds a traceback), when it
        # came after that error: the most recent failure is the one asked about.
        for record in reversed(logged):
            if raised is not None and record.ended <= raised.ended:
                break
            text = _error_text_of(record)
            if text is not None:
                explanation = _explain_cell_output(record, text, cell)
                if record is not latest:
                    explanation.details.setdefault("notes", []).append(
                        f"{len(logged) - 1 - logged.index(record)} cell(s) ran since it without an error"
                    )
                return explanation
        if value is None:
            return ErrorExplanation(None, settled or "No error in this kernel yet: nothing to explain.")
        explanation = _explain_exception(value, cell)
        if settled:
            explanation.details["settled"] = settled
        _place(explanation, value, logged)
        return explanation
    return _explain_text(str(error), cell)


_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^-{20,}$", re.MULTILINE)


def _error_text_of(record) -> str | None:
    """The text of the error a cell that raised no Python error shows: a failed shell command's output (its exit
    status or a traceback in it), or an ``Out`` string that holds a traceback; None when it shows none."""
    if record.error_id is not None:
        return None
    if record.shell:
        output = _ANSI.sub("", record.output)
        if record.exit_code or _TRACEBACK.search(output):
            return output
        return None
    try:
        from IPython import get_ipython

        out = (get_ipython().user_ns.get("Out") or {}).get(record.count)
    except (ImportError, AttributeError):
        out = None
    return _ANSI.sub("", out) if isinstance(out, str) and _TRACEBACK.search(out) else None


def _explain_cell_output(record, text: str, cell: str | None) -> ErrorExplanation:
    """Explain the error a cell's output shows (a ``!papermill …`` that failed), naming the cell and its age."""
    errors = [line for line in text.splitlines() if _ERROR_LINE.match(line)]
    if errors:
        explanation = _explain_text(text, cell)
    else:  # "papermill: command not found": no Python error in it, the command's own last words
        last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
        explanation = _match(
            ErrorExplanation("shell command failed", last or f"exit status {record.exit_code}, and it printed nothing")
        )
        # bash says "x: command not found", dash (Debian's /bin/sh) "x: not found"; 127 is the shell's own code for it
        missing = re.search(r"\bnot found$|No such file or directory", last) or record.exit_code == 127
        if not explanation.fix and missing:
            explanation.fix = (
                "the command is not on this kernel's PATH (a virtual environment not activated): run it with "
                "its full path, or a Python module as `!{sys.executable} -m <module> …`"
            )
    if record.shell:
        status = f", exit status {record.exit_code}" if record.exit_code is not None else ""
        explanation.details["cell"] = (
            f"In [{record.count}] `{record.shell_line()}` (a shell command{status}), {cell_log.ago(record.ended)}"
        )
        executed = re.findall(r'Exception encountered at "In \[(\d+)\]"', text)
        if executed and explanation.failing_line:  # papermill: the executed notebook's cell, not the shell cell
            explanation.details["failing_in"] = f"the executed notebook's In [{executed[-1]}]"
        elif explanation.failing_line:
            explanation.details["failing_in"] = "the command's code"
    else:
        explanation.details["cell"] = f"In [{record.count}] (its output), {cell_log.ago(record.ended)}"
    return explanation


def _place(explanation: ErrorExplanation, value: BaseException, logged: list) -> None:
    """Name the cell that raised ``value`` and its age, and say how many cells ran after it."""
    record = next((r for r in reversed(logged) if r.error_id == id(value)), None)
    if record is None:
        if logged:  # raised before the log started, or not by a cell (a tool called from the sidebar)
            explanation.details["notes"] = [
                f"this is the kernel's last Python error; its cell is not known (cells logged since: In "
                f"[{logged[0].count}]–In [{logged[-1].count}])"
            ]
        return
    explanation.details["cell"] = f"In [{record.count}], {cell_log.ago(record.ended)}"
    later = [r for r in logged if r.ended > record.ended]
    if later:
        explanation.details["notes"] = [
            f"this is the last Python error, In [{record.count}] ({cell_log.ago(record.ended)}); "
            f"{len(later)} cell(s) ran since (In [{later[0].count}]–In [{later[-1].count}]) without a Python error",
        ]


def _explain_exception(value: BaseException, cell: str | None) -> ErrorExplanation:
    tb = value.__traceback__ or getattr(sys, "last_traceback", None)
    frames = list(_walk(tb))
    user = [f for f in frames if f[0].f_globals.get("__name__") == "__main__"]
    failing = line_number = None
    if user:
        frame, lineno = user[-1]
        line_number = lineno
        failing = _source_line(frame.f_code.co_filename, lineno)
    raised_in = None
    if frames and (not user or frames[-1] is not user[-1]):
        frame, lineno = frames[-1]
        raised_in = f"{frame.f_code.co_filename}:{lineno} in {frame.f_code.co_name}"
    if cell and (failing is None or line_number is None):
        failing, line_number = _line_in_cell(cell, str(value), line_number)
    # The tables the failing line used (`rmsd['rmsd_angstrom']` -> rmsd), not every table in the kernel: a
    # top-level cell's locals are all the notebook's variables.
    scope = {k: v for frame, _ in (user or frames[-1:]) for k, v in frame.f_locals.items() if _is_table(v)}
    used = [v for k, v in scope.items() if failing and re.search(rf"(?<![\w.]){re.escape(k)}\b", failing)]
    tables = list({id(v): v for v in (used or scope.values())}.values())
    explanation = ErrorExplanation(type(value).__name__, str(value), failing, line_number, raised_in)
    if getattr(value, "new_folder", None):  # RunExistsError: the folder holds a run made with other settings
        explanation.details["new_folder"] = value.new_folder
    module = type(value).__module__
    return _match(explanation, tables=tables, namespace=user[-1][0].f_globals if user else {}, module=module)


def _walk(tb):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _source_line(filename: str, lineno: int) -> str | None:
    import linecache

    line = linecache.getline(filename, lineno)
    return line.rstrip("\n") or None


# The unit a column's name ends in, and how to get the unit people often ask for instead.
_COLUMN_UNITS = {
    "nm": "nm (x10 for Å: `table['{c}'] * 10`)",
    "nm2": "nm² (x100 for Å²: `table['{c}'] * 100`)",
    "ps": "ps (/1000 for ns)",
    "k": "kelvin",
    "kj_mol": "kJ/mol (/4.184 for kcal/mol)",
}


def _unit_note(column: str) -> str:
    for suffix, unit in _COLUMN_UNITS.items():
        if column.lower().endswith("_" + suffix):
            return f"; {column!r} is in {unit.format(c=column)}"
    return ""


def _is_table(value) -> bool:
    return hasattr(value, "columns") and hasattr(value, "iloc")


def _explain_text(text: str, cell: str | None) -> ErrorExplanation:
    text = _ANSI.sub("", text)
    lines = text.strip().splitlines()
    error_type, message = None, text.strip()
    for line in reversed(lines):
        found = _ERROR_LINE.match(line)
        if found:
            error_type, message = found.group(1).rsplit(".", 1)[-1], (found.group(2) or "").strip()
            break
    failing = line_number = None
    # IPython: "----> 5 traj = md.load(...)"; Python: 'File "<cell>", line 5' followed by the source line.
    arrows = [re.match(r"^-+>\s*(\d+)\s?(.*)$", line) for line in lines]
    arrows = [a for a in arrows if a]
    if arrows:
        line_number, failing = int(arrows[0].group(1)), arrows[0].group(2)
    else:
        places = [(i, re.search(r"line (\d+)", line)) for i, line in enumerate(lines) if re.search(r"line \d+", line)]
        if places:
            i, found = places[-1]
            line_number = int(found.group(1))
            if i + 1 < len(lines) and not _ERROR_LINE.match(lines[i + 1]):
                failing = lines[i + 1].strip() or None
    if cell:
        from_cell, number = _line_in_cell(cell, message, line_number if not arrows else line_number)
        if from_cell and (failing is None or from_cell.strip() != failing.strip()):
            failing, line_number = from_cell, number
    explanation = ErrorExplanation(error_type or "Error", message, failing, line_number)
    # The text of the kernel's own last error (pasted, or read from the cell's output): the exception object
    # still holds what its words only describe (RunExistsError.new_folder).
    kernel = last_kernel_error(explanation.error_type)
    if kernel is not None and str(kernel).strip() == message and getattr(kernel, "new_folder", None):
        explanation.details["new_folder"] = kernel.new_folder
    return _match(explanation)


def _line_in_cell(cell: str, message: str, line_number: int | None):
    lines = cell.splitlines()
    if line_number and 0 < line_number <= len(lines):
        return lines[line_number - 1], line_number
    quoted = re.findall(r"['\"]([^'\"]{2,})['\"]", message) + re.findall(r"name '(\w+)'", message)
    for token in quoted:
        for i, line in enumerate(lines, 1):
            if token in line:
                return line, i
    code = [(i, line) for i, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    return (code[-1][1], code[-1][0]) if code else (None, None)


def _quoted(message: str) -> list[str]:
    return re.findall(r"['\"]([^'\"]+)['\"]", message)


def _close_files(name: str, limit: int = 3) -> list[str]:
    return near_paths(name, limit)


def _match(e: ErrorExplanation, *, tables=(), namespace=None, module: str = "") -> ErrorExplanation:
    """Fill cause and fix from the table of common errors (the first entry that applies)."""
    t, m = e.error_type or "", e.message
    low = m.lower()
    namespace = namespace or _user_namespace()
    if t in ("ModuleNotFoundError", "ImportError") or "no module named" in low:
        name = (re.findall(r"No module named '([\w.]+)'", m) or [""])[0].split(".")[0]
        extra = EXTRA_OF_MODULE.get(name)
        e.kind = "missing package"
        e.cause = f"the package {name!r} is not installed in this kernel's environment" if name else "a missing package"
        e.fix = (
            f"pip install 'kenkyu[{extra}]' (the extra that brings {name}), then restart the kernel"
            if extra
            else f"pip install {name or '<the package>'} in the kernel's environment, then restart the kernel"
        )
    elif (
        "a topology is required" in low
        or "topology is loaded by filename extension" in low
        or "holds coordinates only" in low  # kenkyu's analyses, with no run folder to take it from
    ):
        _trajectory_without_topology(e)
    elif (
        "does not match" in low
        and "atom" in low
        or "xyz must be shape" in low
        or "might not contain the same atoms" in low
        or ("number of atoms" in low and ("topology" in low or "trajectory" in low))
    ):
        e.kind = "topology/trajectory atom-count mismatch"
        e.cause = "the trajectory and the topology it was loaded with do not have the same atoms"
        e.fix = (
            "load the trajectory with the topology that wrote it: a run folder's prepared.pdb (it includes water "
            "and ions), or pass the run folder itself to the analysis tools (e.g. kenkyu.tools.analysis.rmsd("
            "'md_runs/<run>')); to compare two structures, atom_slice both to the same selection first"
        )
    elif (
        t == "SimulationUnstableError"
        or "nan" in re.findall(r"[a-z]+", low)
        or "blew up" in low
        or "particle coordinate is" in low
    ):
        e.kind = "simulation blew up"
        e.cause = "forces became huge (clashes, a too-long time step or a bad starting structure) and positions hit NaN"
        e.fix = (
            "minimise first (kenkyu.tools.md.minimize(structure)), use a smaller timestep_fs (1 fs) and a longer "
            "nvt_ps, check the structure for clashes; start the fixed run again with overwrite=True"
        )
    elif (
        t in ("FileNotFoundError", "StructureError", "IsADirectoryError")
        or "no such file" in low
        or ("does not exist" in low)
    ):
        # Quoted, or said bare ("No such file: md_runs/villin/trajectroy.dcd", mdtraj's OSError).
        bare = re.findall(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z]\w{0,5}|(?:[\w.-]+/)+[\w.-]+)(?![\w/])", m)
        paths = [q for q in _quoted(m) if "/" in q or "." in q] or bare or _quoted(m)
        path = paths[0] if paths else None
        near = _close_files(path) if path else []
        e.kind = "file not found"
        e.details["path"] = path
        e.details["similar_files"] = near
        e.cause = f"{path!r} does not exist, seen from the working folder {os.getcwd()}" if path else "a missing file"
        e.fix = (
            f"did you mean {near[0]}? (" + ", ".join(near) + " exist here; " + f"{path!r} does not)"
            if near
            else "check the path (relative paths start at the working folder), or use kenkyu.tools.md."
            "example_structure('villin') for the example protein"
        )
    elif t == "KeyError":
        key = (_quoted(m) or [m.strip("'\"")])[0]
        columns = list(dict.fromkeys(str(c) for table in tables for c in table.columns))
        e.kind = "missing key or column"
        e.cause = f"{key!r} is not a column (or key) of the table it was looked up in"
        if columns:
            near = difflib.get_close_matches(key, columns, n=3, cutoff=0.4)
            e.details["columns"] = columns
            e.fix = (
                (f"did you mean {', '.join(repr(c) for c in near)}? " if near else "")
                + f"the table's columns are {', '.join(columns[:20])}"
                + "".join(_unit_note(c) for c in near[:1])
            )
        else:
            e.fix = "print(table.columns) (or dict.keys()) to see the names it has, and use one of them"
    elif t == "NameError" or "is not defined" in low:
        name = (re.findall(r"name '(\w+)'", m) or [""])[0]
        near = difflib.get_close_matches(name, [k for k in namespace if not k.startswith("_")], n=3)
        e.kind = "undefined name"
        e.cause = f"no variable {name!r} in the kernel (a cell that defines it was not run, or the kernel restarted)"
        defined = defining_cell(name)
        if defined is not None:
            # The notebook defines it in a cell that was not run (`import mdtraj as md`): that cell is the fix;
            # a close name ("did you mean rmsd?") for a module alias was noise.
            e.details["defining_cell"] = defined.number
            e.fix = defined.fix(name)
        else:
            e.fix = (f"did you mean {', '.join(near)}? " if near else "") + (
                f"run the cell that defines {name} first (after a restart every variable is gone)"
            )
    elif t == "RunExistsError" or "already holds a run" in low:
        e.kind = "run folder exists"
        e.cause = "the run folder already holds a run, and nothing is overwritten without asking"
        new_folder = e.details.get("new_folder")
        # A run made with other settings: resuming fails and overwriting deletes it; only a new folder is a fix.
        e.fix = (
            f"call again with out={new_folder!r} (a new folder); that run is kept"
            if new_folder
            # error text from elsewhere: the exception that knows the folder is gone, so its message names it
            else "call again with the new out= folder the message names; that run is kept (resume=True would be "
            "refused and overwrite=True would delete it)"
            if "made with other settings" in low
            else "pass resume=True to continue it, overwrite=True to start over, or another out= folder"
        )
    elif t == "ResumeError":
        e.kind = "cannot resume"
        e.cause = "the run folder cannot be continued with this call"
        e.fix = "follow the message: call again with the run's own parameters (in run.json), or use another out="
    elif "no openmm platform" in low or "cuda" in low and "error" in low:
        e.kind = "platform"
        e.cause = "the GPU platform is missing or unusable here"
        e.fix = "pass platform='CPU' (always available), or check the GPU drivers"
    elif t == "MemoryError" or "out of memory" in low:
        e.kind = "out of memory"
        e.cause = "the data does not fit in memory"
        e.fix = "load fewer atoms or frames: selection='protein', stride=10, or an analysis frame window"
    elif _selection_typo(e):
        pass  # filled by _selection_typo: the misspelt keyword and the corrected selection
    elif "selection" in low and ("invalid" in low or "matches no atoms" in low):
        e.kind = "atom selection"
        e.cause = "the mdtraj atom selection is not valid for this topology"
        e.fix = "use mdtraj's selection language, e.g. 'backbone', 'name CA', 'protein and not element H'"
    elif t == "TypeError" and "unexpected keyword argument" in low:
        _unknown_argument(e, namespace)
    elif t == "AttributeError" and "has no attribute" in low:
        _missing_attribute(e, namespace)
    elif t == "IndexError" or "out of bounds" in low or "out-of-bounds" in low:
        _index_out_of_range(e)
    elif t == "ValueError" and re.search(r"shape|broadcast|length of|must have same|must match exactly", low):
        _mismatched_lengths(e, namespace)
    elif module.startswith("kenkyu") or t.endswith("MDError"):
        e.kind = None
        e.fix = "kenkyu's message says what to do: " + m.split(". ", 1)[-1][:300]
    return e


def _trajectory_without_topology(e: ErrorExplanation) -> None:
    """``md.load('run/trajectory.dcd')``: a DCD or XTC holds coordinates only, and mdtraj's message lists the
    topology formats it reads instead of saying so (a newcomer got "none in kenkyu's table" for it)."""
    e.kind = "trajectory without topology"
    e.cause = "a DCD, XTC or TRR file holds only coordinates: mdtraj needs the atoms from a structure file (top=)"
    if "pass topology=" in e.message.lower():  # kenkyu's analyses name the missing topology and the PDBs found
        e.fix = e.message[e.message.lower().index("pass topology=") :]
        return
    written = re.findall(r"['\"]([^'\"]+\.(?:dcd|xtc|trr|nc))['\"]", e.failing_line or "", flags=re.IGNORECASE)
    folder = Path(written[0]).parent if written else None
    if folder is not None and (folder / "run.json").exists():
        # A kenkyu run folder: prepared.pdb holds the atoms the trajectory was written with (water included).
        e.details["topology"] = str(folder / "prepared.pdb")
        e.fix = (
            f"pass the run's own topology: md.load({written[0]!r}, top={str(folder / 'prepared.pdb')!r}), or "
            f"load the run folder, which knows its topology and real times: "
            f"kenkyu.tools.md.MDRun({str(folder)!r}).trajectory()"
        )
    else:
        e.fix = "pass the structure the trajectory was written from: md.load('<trajectory>', top='<structure>.pdb')"


def _resolve(expression: str, namespace: dict):
    """The object a dotted name of the failing line holds (``traj``, ``kenkyu.tools.analysis.rmsd``), or None.
    Names and attributes only: nothing is called."""
    head, *rest = expression.split(".")
    value = namespace.get(head, sys.modules.get(head))
    for part in rest:
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def _unknown_argument(e: ErrorExplanation, namespace: dict) -> None:
    import inspect

    name = (re.findall(r"argument '(\w+)'", e.message) or ["?"])[0]
    function = (re.findall(r"([\w.]+)\(\) got an unexpected", e.message) or [""])[0]
    e.kind = "unknown argument"
    e.cause = f"{function or 'the function'}() takes no argument {name!r}"
    e.fix = "help(<the function>) lists its parameters; check the spelling"
    last = function.rsplit(".", 1)[-1]
    called = re.findall(rf"([A-Za-z_][\w.]*\b{re.escape(last)})\s*\(", e.failing_line or "") if last else []
    target = next((v for v in (_resolve(c, namespace) for c in called) if callable(v)), None)
    try:
        parameters = [p for p in inspect.signature(target).parameters if p not in ("self", "args", "kwargs")]
    except (TypeError, ValueError):  # not found, or a builtin without a signature
        return
    near = difflib.get_close_matches(name, parameters, n=2, cutoff=0.5)
    e.details["parameters"] = parameters
    e.fix = (f"did you mean {' or '.join(f'{n}=' for n in near)}? " if near else "") + (
        f"{function}() takes {', '.join(parameters)}"
    )


def _missing_attribute(e: ErrorExplanation, namespace: dict) -> None:
    found = re.search(r"(?:'(\w+)' object|module '([\w.]+)') has no attribute '(\w+)'", e.message)
    e.kind = "missing attribute"
    e.cause = "the object is not of the type the code expects"
    e.fix = "check the variable's type (type(x)) and what it has (dir(x)); it may hold another result"
    if not found:
        return
    type_name, module_name, attribute = found.groups()
    owner = sys.modules.get(module_name) if module_name else None
    written = ""  # how the failing line names the owner (`md` for mdtraj), to write the fix as the user would
    for expression in re.findall(rf"([A-Za-z_][\w.]*)\.{attribute}\b", e.failing_line or ""):
        value = _resolve(expression, namespace)
        if value is not None and (value is owner or (owner is None and type(value).__name__ == type_name)):
            owner, written = value, expression
    if owner is None:
        return
    names = [a for a in dir(owner) if not a.startswith("_")]
    # A name inside the one written (md.compute_rmsd -> md.rmsd) first: difflib alone finds compute_rg.
    inside = sorted((n for n in names if len(n) >= 3 and n in attribute), key=len, reverse=True)
    near = list(dict.fromkeys([*inside[:1], *difflib.get_close_matches(attribute, names, n=3, cutoff=0.5)]))[:3]
    what = f"module {module_name}" if module_name else f"a {type_name}"
    e.cause = f"{what} has no {attribute!r}"
    e.details["attributes"] = names
    e.fix = (f"did you mean {', '.join(f'{written}.{n}' for n in near)}? " if near else "") + (
        f"{what} has {', '.join(names[:25])}{', ...' if len(names) > 25 else ''} (dir(x) lists them all)"
    )
    if not module_name and (functions := _functions_taking(owner, attribute)):
        # `traj.dssp`: what was wanted is a function of the object's library (mdtraj.compute_dssp(traj)), not a
        # near name among its attributes (a newcomer got an alphabetical list of Trajectory's, r11).
        e.fix = f"{attribute} is a function, not an attribute: " + " or ".join(
            f"{f}({written or 'x'})" for f in functions
        )
        if near:
            e.fix += f"; or did you mean {', '.join(f'{written}.{n}' for n in near)}?"


def _functions_taking(owner, attribute: str) -> list[str]:
    """Functions named for ``attribute`` in the library the object comes from (``mdtraj.compute_dssp`` for a
    Trajectory's ``dssp``) and kenkyu's analysis of that name, written as the user would call them."""
    library = sys.modules.get(type(owner).__module__.split(".")[0])
    found = []
    if library is not None:
        for name in (f"compute_{attribute}", attribute):
            if callable(getattr(library, name, None)):
                found.append(f"{library.__name__}.{name}")
                break
    analysis = sys.modules.get("kenkyu.tools.analysis")
    if analysis is not None and callable(getattr(analysis, attribute, None)) and found:
        found.append(f"kenkyu.tools.analysis.{attribute}")
    return found


def _index_out_of_range(e: ErrorExplanation) -> None:
    found = re.search(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", e.message)
    e.kind = "index out of range"
    why = (
        "Python counts from 0: residue or atom number N of the PDB (1-based) is index N-1, and residue numbers "
        "need not start at 1; or a frame window runs past the trajectory's end"
    )
    if not found:
        e.cause = f"an index past the end of a list, array or table ({why})"
        e.fix = (
            "print len(x) (traj.n_frames, top.n_residues, len(table)) and index from 0 to len-1; for residues by "
            "their PDB number use top.select('resSeq N') (or top.residue(N - 1)); table.iloc[-1] is the last row"
        )
        return
    index, axis, size = (int(g) for g in found.groups())
    e.details.update(index=index, axis=axis, size=size)
    e.cause = (
        f"index {index} on axis {axis}, which has {size} entries (valid indices 0 to {size - 1}, or -{size} to -1)"
        + (" — one past the last entry" if index == size else "")
        + f"; {why}"
    )
    # "use index N-1" only where N-1 exists: a newcomer's ca[200] on DHFR's 159 CA atoms was told "use index 199",
    # which fails the same way. Past the end by more than one, the object is shorter than the code thinks.
    counted_from_one = (
        f"for the {_ordinal(index)} residue or atom counted from 1, use index {index - 1}"
        if 0 < index <= size
        else f"it holds only {size} entries, so there is no number {index} in it counted from 0 or from 1 (check "
        f"what it was selected from: {size} CA atoms are {size} residues)"
    )
    e.fix = (
        f"keep the index below {size}: {counted_from_one}; "
        f"to pick by PDB residue number, top.select('resSeq {index}'); for frames, check traj.n_frames ({size} "
        f"here if axis {axis} counts frames) and end the window at or before it"
    )


def _mismatched_lengths(e: ErrorExplanation, namespace: dict) -> None:
    # numpy/matplotlib say shapes "(100,) (50,)"; numpy's concatenate and pandas say "size 100", "length ... (50)".
    shapes = re.findall(r"\((\d+)(?:,\s*\d+)*,?\)", e.message) or re.findall(
        r"(?:size|length)\D{0,12}?(\d+)", e.message
    )
    lengths = sorted({int(n) for n in shapes})
    e.kind = "mismatched lengths"
    e.cause = "two arrays (or columns) of different lengths were combined" + (
        f": {' vs '.join(map(str, lengths))}" if len(lengths) > 1 else ""
    )
    # The failing line's own variables with those lengths, so the fix names them (rmsd.time_ps: 100).
    sized = []
    for expression in dict.fromkeys(re.findall(r"[A-Za-z_][\w.]*", e.failing_line or "")):
        value = _resolve(expression, namespace)
        if value is not None and not callable(value) and hasattr(value, "__len__"):
            try:
                if len(value) in lengths:
                    sized.append(f"{expression} has {len(value)}")
            except TypeError:
                continue
    e.details["lengths"] = sized
    e.fix = (f"here {', '.join(sized)}: " if sized else "print len() of each: ") + (
        "compute both from the same run, stride, selection and frame window (an extended run or stride=2 gives "
        "another length), or cut both to the shorter one (x[:n], y[:n]) to compare them"
    )


_SELECT_CALL = re.compile(r"(?:select\w*|selection)\s*[(=]\s*(['\"])(?P<text>[^'\"]+)\1")
_SELECTION_MESSAGES = ("literals as truth", "single literal as a boolean", "expected end of text", "choked on node")


def _selection_typo(e: ErrorExplanation) -> bool:
    """An mdtraj atom selection with a misspelt keyword ("nme CA"): mdtraj's message ("Cannot use literals as
    truth") hides it, so the selection in the failing line is read word by word against mdtraj's own keywords."""
    found = _SELECT_CALL.search(e.failing_line or "")
    if not found or not any(m in e.message.lower() for m in _SELECTION_MESSAGES):
        return False
    selection = found.group("text")
    known = _selection_keywords()
    # A keyword stands first, or after and/or/not/(: the values (CA, ALA, 0 to 9) stand after a keyword.
    words = re.findall(r"(?:^|\band\b|\bor\b|\bnot\b|\()\s*([A-Za-z_]\w*)", selection)
    unknown = [w for w in words if w not in known]
    e.kind = "atom selection"
    e.cause = "the mdtraj atom selection is not valid for this topology"
    for word in unknown:
        near = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
        if near:
            fixed = re.sub(rf"\b{re.escape(word)}\b", near[0], selection, count=1)
            e.cause = f"{word!r} is not a keyword of mdtraj's selection language"
            e.fix = f"did you mean {near[0]!r}? write {fixed!r} (for {selection!r})"
            e.details["selection"] = fixed
            return True
    e.fix = f"use mdtraj's selection keywords ({', '.join(sorted(known)[:12])}...), e.g. 'name CA', 'backbone'"
    return True


def _selection_keywords() -> set[str]:
    words = {"and", "or", "not", "to", "within", "of", "resid", "name", "backbone", "protein", "all"}
    try:
        from mdtraj.core import selection

        words |= set(selection.SelectionKeyword.keyword_aliases)
        words |= {w.strip() for w in selection.BinaryInfixOperand.keyword_aliases if w.strip().isalpha()}
    except (ImportError, AttributeError):  # mdtraj missing or changed: the words above still help
        pass
    return words


def _user_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return dict(shell.user_ns) if shell is not None else {}
    except ImportError:
        return {}


# -- overview --------------------------------------------------------------------------------------------


@dataclass
class NotebookOverview:
    """What the notebook holds: kernel variables, run folders, structure files, the last error."""

    question: str | None
    variables: list[dict]
    runs: list[dict]
    files: list[str]
    last_error: str | None
    cwd: str
    answer: str | None = None  # "what was the mean rmsd again?": the value, read from the table already here
    documents: list[str] = field(default_factory=list)  # "notes/ (2 Markdown files)", a literature index

    def summary(self) -> str:
        lines = [f"Notebook overview (working folder {self.cwd})" + (f" for: {self.question}" if self.question else "")]
        if self.answer:
            lines.append(f"answer: {self.answer}")
        if self.variables:
            lines.append("variables: " + "; ".join(_variable_line(v) for v in self.variables[:12]))
        if self.runs:
            lines.append(
                "run folders: " + "; ".join(f"{r['path']} ({r['kind']}, {r['status']})" for r in self.runs[:12])
            )
        if self.files:
            lines.append("structure and trajectory files: " + ", ".join(self.files[:12]))
        if self.documents:
            lines.append("documents (papers, notes): " + "; ".join(self.documents[:12]))
        lines.append(f"last error: {self.last_error}" if self.last_error else "no error in this kernel")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        body = self.summary().splitlines()
        return f"**{body[0]}**\n\n" + "\n".join(f"- {line}" for line in body[1:])


def _variable_line(variable: dict) -> str:
    """``traj (Trajectory, 596 atoms, 10 frames)``: the resolver's label where it has one, else the short type;
    a detail (shape, "best match for the question") inside the same parentheses."""
    label = variable.get("label") or f"{variable['name']} ({variable['type'].rsplit('.', 1)[-1]})"
    detail = variable.get("detail")
    return f"{label[:-1]}, {detail})" if detail else label


# (an ensemble's folder too, "which simulations have I got lying around?" named two runs and not the replicas beside
# them: held-out 16; its members are listed within it, three levels down)
_FOLDER_MARKS = (
    ("run.json", "MD run"),
    ("cg.json", "coarse-grained run"),
    ("minimization.json", "minimisation"),
    ("ensemble.json", "ensemble of replicas"),
    ("ladder.json", "temperature ladder"),
)
_STRUCTURE_SUFFIXES = {".pdb", ".cif", ".mmcif", ".dcd", ".xtc", ".trr", ".nc", ".h5", ".fasta", ".fa"}


@tool(
    keywords=(
        "what do i have",
        "which runs do i have",
        # "which simulations do I already have in this folder?" (a newcomer, round 16)
        "simulations do i already have",
        "runs do i already have",
        "which simulations do i have",
        "what is in the notebook",
        "what is in my notebook",
        "what variables",
        "notebook question",
    ),
    produces="value",
    result_name="notebook_overview",
)
@costs(0.5, basis="lists variables and folders, not measured")
def overview(question: str | None = None) -> NotebookOverview:
    """Answer a question about the notebook: its kernel variables, run folders, structure files and last error.

    Lists what the notebook holds, most relevant to ``question`` first (by the words they share), so a
    question like "which runs do I have?" or "what is traj?" is answered from the notebook itself.

    Parameters
    ----------
    question
        The question, to put the relevant items first; default everything, newest first.
    """
    import json

    from kenkyu.assistant.context import kernel_variables, last_error

    from kenkyu.assistant.resolver import variables as resolvable_variables

    namespace = _user_namespace()
    # What the resolver shows in a reply ("traj (Trajectory, 596 atoms, 10 frames)", "run (MDRun, md_runs/...,
    # 2 ps)"), where it knows the kind: a newcomer asking "what have I got?" was shown
    # "traj (mdtraj.core.trajectory.Trajectory, len 10)" and "run (kenkyu.tools.md.MDRun)".
    labels = {c.value: c.label.replace("`", "") for c in resolvable_variables(namespace) if c.variable}
    variables = []
    for v in kernel_variables(namespace):
        label = labels.get(v["name"])
        detail = "" if label else ", ".join(f"{k} {v[k]}" for k in ("shape", "len") if k in v)
        variables.append(
            {"name": v["name"], "type": v["type"], "detail": detail, "repr": v.get("repr", ""), "label": label}
        )
    here = Path.cwd()
    runs = []
    for mark, kind in _FOLDER_MARKS:
        for found in list(here.glob(f"*/{mark}")) + list(here.glob(f"*/*/{mark}")):
            try:
                status = json.loads(found.read_text()).get("status", "finished" if mark != "run.json" else "unknown")
            except (OSError, ValueError):
                status = "unreadable"
            runs.append(
                {
                    "path": str(found.parent.relative_to(here)),
                    "kind": kind,
                    "status": status,
                    "mtime": found.stat().st_mtime,
                }
            )
    runs.sort(key=lambda r: -r["mtime"])
    files = sorted(
        (str(p.relative_to(here)) for p in here.glob("*") if p.suffix.lower() in _STRUCTURE_SUFFIXES),
        key=lambda name: -(here / name).stat().st_mtime,
    )
    if question:
        # Words split at underscores too: a table's column "rmsd_nm" answers "which variable has the rmsd?".
        stop = {"the", "a", "an", "is", "it", "in", "of", "i", "my", "did", "which", "what", "was", "where", "again"}
        words = set(re.findall(r"[a-z0-9]+", question.lower())) - stop

        def score(text: str) -> int:
            return -len(words & set(re.findall(r"[a-z0-9]+", text.lower())))

        variables.sort(key=lambda v: score(f"{v['name']} {v['type']} {v.get('repr', '')}"))
        if variables and score(f"{variables[0]['name']} {variables[0]['type']} {variables[0].get('repr', '')}") < 0:
            variables[0]["detail"] = ", ".join(x for x in (variables[0]["detail"], "best match for the question") if x)
        runs.sort(key=lambda r: score(f"{r['path']} {r['kind']}"))
        files.sort(key=score)
    answer = None
    if question:
        answer = _made_from(question, _user_namespace(), here) or _statistic_asked(
            question, variables, _user_namespace()
        )
    return NotebookOverview(question, variables, runs, files, last_error(), str(here), answer, _documents(here))


_DOCUMENT_KINDS = {".md": "Markdown", ".txt": "text", ".pdf": "PDF", ".bib": "BibTeX"}


def _documents(here: Path) -> list[str]:
    """Folders of papers and notes the literature tool can index, and the indexes already made here.

    "what do my notes say?" needs notes/ to be found; a newcomer's overview listed run folders and PDB files,
    never the notes/ folder beside them.
    """
    found = []
    for index in sorted(here.glob("*/kenkyu_index.json")):
        found.append(f"{index.parent.relative_to(here)}/ (a literature index)")
    for folder in sorted(p for p in here.iterdir() if p.is_dir() and not p.name.startswith(".")):
        counts: dict[str, int] = {}
        for path in folder.iterdir():
            kind = _DOCUMENT_KINDS.get(path.suffix.lower())
            if kind and path.is_file():
                counts[kind] = counts.get(kind, 0) + 1
        if counts:
            files = ", ".join(f"{n} {kind} file{'s' if n != 1 else ''}" for kind, n in sorted(counts.items()))
            found.append(f"{folder.name}/ ({files})")
    return found


def _made_from(question: str, namespace: dict, here: Path) -> str | None:
    """ "which of my Rg tables came from the seed-2 run?": the variables the kernel's own cells assigned from the run
    the question tells apart by its length or seed (the run folders' records say which), with the line that made
    each. None when the question names no run so."""
    from kenkyu.assistant.resolver import run_folders
    from kenkyu.core.routing import runs_said

    runs = run_folders(here)
    said = runs_said(question, runs)
    if said is None:
        return None
    picked, missing = said
    if missing is not None or not picked:
        listed = "; ".join(c.label for c in runs[:6]) or "none"
        return f"no run here is {missing.phrase if missing else 'the one described'} (the runs: {listed})"
    lines = [line for cell in namespace.get("In") or [] for line in str(cell).splitlines()]
    found = []
    for run in picked:
        folder = re.escape(Path(run.value).name)
        for line in lines:
            assigned = re.match(r"\s*([A-Za-z_]\w*)\s*=(?!=)", line)
            if assigned and re.search(rf"(?<![\w-]){folder}(?![\w-])", line) and assigned[1] in namespace:
                found.append(f"`{assigned[1]}` came from {run.label}: `{line.strip()}`")
    if not found:
        return f"no variable here was made from {'; '.join(c.label for c in picked)} (by the cells this kernel ran)"
    return "; ".join(dict.fromkeys(found))


_STATISTICS = {"mean": "mean", "average": "mean", "avg": "mean", "median": "median", "max": "max", "maximum": "max",
               "highest": "max", "largest": "max", "peak": "max", "min": "min", "minimum": "min", "lowest": "min",
               "smallest": "min", "final": "last", "std": "std", "spread": "std"}  # fmt: skip


def _statistic_asked(question: str, variables: list[dict], namespace: dict) -> str | None:
    """ "what was the mean rmsd again?": the statistic of the column the question names, in the table a tool already
    made (the best-matching variable), so nothing is computed again. None when the question asks for no statistic or
    no table here has that column."""
    words = re.findall(r"[a-z0-9]+", question.lower())
    wanted = next((_STATISTICS[w] for w in words if w in _STATISTICS), None)
    if wanted is None:
        return None
    for v in variables:
        table = namespace.get(v["name"])
        columns = getattr(table, "columns", None)
        if columns is None:
            continue
        for column in columns:
            parts = set(re.findall(r"[a-z0-9]+", str(column).lower()))
            if not parts & (set(words) - {"time", "frame", "ps", "nm"}) or not hasattr(table[column], "mean"):
                continue
            series = table[column].dropna()
            if not len(series) or series.dtype.kind not in "fiu":
                continue
            value = series.iloc[-1] if wanted == "last" else getattr(series, wanted)()
            where = f"{v['name']}['{column}']"
            return f"{wanted} of {where} = {float(value):.4g} (over {len(series)} rows, from the table already here)"
    return None


# -- export_report ---------------------------------------------------------------------------------------


def _current_notebook(notebook) -> Path:
    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not path:
        raise FileNotFoundError(
            "Which notebook? This kernel does not know its notebook's file: save it and pass its path, "
            "e.g. export_report('analysis.ipynb')"
        )
    return Path(path)


SESSION_NOTEBOOK = "kenkyu_session.ipynb"


def notebook_from_kernel(folder: str | os.PathLike = ".") -> Path | None:
    """The cells this kernel ran, as a notebook file (``kenkyu_session.ipynb``), for a kernel that does not
    know its notebook's file: the typed cells in order, each ``%%ask`` with the record of what it did
    (its tool calls and their outputs). None outside IPython or before any cell ran."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    import nbformat.v4 as v4

    from kenkyu.assistant.cell_errors import error_of
    from kenkyu.assistant.session import RECORD_MIME

    session = getattr(shell, "_kenkyu_session", None)
    records = [r for r in getattr(session, "records", []) if r.get("done")]  # finished requests only
    cells = []
    for count, source in enumerate(str(s) for s in shell.history_manager.input_hist_raw):
        if not source.strip():
            continue
        cell = v4.new_code_cell(source)
        if re.match(r"^\s*%%(ask|research)\b", source):
            if not records:
                continue  # the request running now (this export), or one that never finished
            record = records.pop(0)
            cell.outputs = [v4.new_output("display_data", data={RECORD_MIME: record})]
        elif error_of(shell, count):  # the export leaves a cell that raised out, with a note
            cell.outputs = [v4.new_output(**error_of(shell, count))]
        cells.append(cell)
    if not cells:
        return None
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = Path(folder) / SESSION_NOTEBOOK
    nbformat_write(nb, path)
    return path


def nbformat_write(nb, path: Path) -> None:
    import nbformat

    from kenkyu.core.files import write_text_atomically

    write_text_atomically(path, nbformat.writes(nb))


def _report_folder(arguments: dict) -> str | None:
    """The folder the report is written into, as export_report reads ``output`` (a name or a folder)."""
    from kenkyu.assistant.export import report_path

    notebook = arguments.get("notebook") or os.environ.get("JPY_SESSION_NAME") or SESSION_NOTEBOOK
    return str(report_path(notebook, arguments.get("output"))[0].parent)


@result_check("the report re-executed from a fresh kernel, with no LLM, and its files exist")
def report_is_sound(paths):
    (expectation,) = report_is_sound.expectations
    exists = Path(paths.ipynb).exists() and (paths.html is None or Path(paths.html).exists())
    if not exists:
        yield expectation, "fail", f"{paths.ipynb} was not written"
    elif paths.executed:
        yield expectation, "pass", f"{paths.ipynb} re-ran cleanly"
    else:
        yield expectation, "warn", f"{paths.ipynb} written but not re-executed (execute=False)"


@tool(
    approval="ask",
    writes_files=True,
    keywords=(
        "export",
        "report",
        "make a report",
        "export a report",
        "write a report",
        "executable report",
        "html report",
        "as html",
        "share the notebook",
        "send to my supervisor",
        "email",
        "e-mail",
    ),
    produces="value",
    result_name="report",
)
@writes(_report_folder)
@costs(estimate_export)
@checked_by(report_is_sound)
def export_report(
    notebook: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    *,
    execute: bool | None = None,
    html: bool = True,
    overwrite: bool = False,
):
    """Export the notebook as a clean, executable report (.ipynb and HTML), as ``%kenkyu export`` does.

    Each question becomes narrative and each tool call the plain call that computed it; the report is
    re-run in a fresh kernel with no LLM, so its results are its own. Save the notebook first: the
    report is made from the saved file.

    Parameters
    ----------
    notebook
        Path of the notebook; default the current notebook (the file this kernel belongs to), or, when the
        kernel does not know its file, the cells it ran, saved as ``kenkyu_session.ipynb``.
    output
        Path of the report .ipynb (``.ipynb`` is added to a name without it), or a folder to write it into (one
        that exists, or a name ending in ``/``); default ``<name>_report/<name>.report.ipynb`` beside the notebook.
    execute
        Re-run the report in a fresh kernel so its outputs are its own; default yes for a saved notebook, no
        for the cells of a kernel without one (the report keeps the outputs each request recorded; its
        re-run command runs it in its own folder, where its inputs are copied).
    html
        Also write an HTML rendering.
    overwrite
        Replace an earlier report in the default folder.
    """
    from kenkyu.assistant import export

    source = None
    if notebook is None and not os.environ.get("JPY_SESSION_NAME"):
        source = notebook_from_kernel()
    if source is None:
        source = _current_notebook(notebook)
        execute = True if execute is None else execute
    else:
        execute = False if execute is None else execute
    return export.export_report(source, output, execute=execute, html=html, overwrite=overwrite)
