"""Executable reports: the notebook's record without the LLM.

``%%ask`` cells are replaced by what they produced: the question as narrative, the model's
explanations as Markdown and each tool call as the plain public call that computed it. Cells that
only configure kenkyu are dropped. A papermill-style ``parameters`` cell and a provenance section
(package versions, models, seeds, timestamps) are added; the result validates with nbformat,
re-executes with nbclient in a fresh kernel with no LLM configured, and is written atomically as
.ipynb and HTML.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import platform
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kenkyu.assistant.cells import python_literal
from kenkyu.assistant.report_html import report_html
from kenkyu.assistant.report_lengths import analyses_at_their_length
from kenkyu.assistant.report_inputs import OUTSIDE_FOLDER, Inputs, built_path, copy_inputs, rewrite_paths
from kenkyu.assistant.report_reproducible import not_reproducible_sentence, unreproducible_steps
from kenkyu.assistant.session import RECORD_MIME
from kenkyu.core.files import write_text_atomically
from kenkyu.core.secrets import redact_obj

_ASK = re.compile(r"^\s*%%?(ask|research)\b")
_ASK_LINE = re.compile(r"^\s*%(ask|research)\b.*$", re.MULTILINE)
_KENKYU_LINE = re.compile(r"^\s*%(load_ext|reload_ext)\s+kenkyu\s*$|^\s*%kenkyu\b.*$")
_PROVENANCE_PACKAGES = (
    "kenkyu",
    "numpy",
    "pandas",
    "matplotlib",
    "openmm",
    "pdbfixer",
    "mdtraj",
    "nglview",
    "torch",
    "transformers",
    "fair-esm",
    "llama-index-core",
    "chromadb",
    "llama-cpp-python",
    "numba",
    "dask",
    "ipykernel",
    "nbclient",
)
# Variables that would point a re-run at an LLM; the report must not need one.
_LLM_ENV = re.compile(r"^(KENKYU_(PROVIDER|MODEL|BASE_URL|REPLAY|API_KEY_ENV)|.*_API_KEY)$")


@dataclass(repr=False)
class ReportPaths:
    ipynb: Path
    html: Path | None
    executed: bool
    parameters: tuple[str, ...] = ()  # the names in the report's parameters cell
    left_out: tuple[str, ...] = ()  # the notebook's own cells that raised, left out of the report (one line each)
    inputs: tuple[str, ...] = ()  # input files the cells name, copied from the notebook's folder into the report's
    outside: tuple[str, ...] = ()  # "'../data/x.pdb' -> inputs/x.pdb": files from outside it, copied and renamed
    built: tuple[str, ...] = ()  # "cell 5 (os.path.join(...))": cells that build a file path at run time
    never_ran: tuple[str, ...] = ()  # "cell 7 (`run = ...`)": code cells the session never ran or finished
    remade: tuple[str, ...] = ()  # files read inside run folders the report's own steps make: not copied
    not_reproducible: tuple[str, ...] = ()  # "report cell 5 (`run = ...`)": simulations a re-run does not repeat
    where: str = ""  # how output= was read: "'friday_update' taken as the report's name: .ipynb added"

    def __str__(self) -> str:
        lines = [f"report notebook: {self.ipynb}" + (f" ({self.where})" if self.where else "")]
        if self.html:
            lines.append(f"report HTML    : {self.html}")
        lines.append("re-executed from a fresh kernel: " + ("yes" if self.executed else "no"))
        if self.inputs:
            lines.append(f"inputs copied beside it: {', '.join(self.inputs)}")
        if self.outside:
            lines.append(f"inputs from outside the notebook's folder, copied into it: {'; '.join(self.outside)}")
        if self.built:
            lines.append(f"paths built at run time (not copied): {'; '.join(self.built)}")
        if self.never_ran:
            lines.append(f"never ran in the session (no execution count): {'; '.join(self.never_ran)}")
        if self.not_reproducible:
            lines.append(f"not reproducible (numbers differ on a re-run): {'; '.join(self.not_reproducible)}")
        if self.left_out:
            lines.append(f"left out (they raised an error): {'; '.join(self.left_out)}")
        lines.append(f"re-run it: {self.rerun_command()}")
        return "\n".join(lines)

    def rerun_command(self) -> str:
        """The command that re-runs the report with no LLM (papermill, which also takes new parameters)."""
        # Always in the report's own folder, where its inputs were copied: run from the session's folder, a
        # report's md.run(resume=True) and md.extend reused and extended the session's own runs (newcomer).
        out = _shown(Path(self.ipynb).with_name("rerun.ipynb"))
        command = f"{_papermill()} {_shown(self.ipynb)} {out} --cwd {_shown(Path(self.ipynb).parent)}"
        return command + (f" -p {self.parameters[0]} VALUE" if self.parameters else "")

    def summary(self) -> str:
        """What was written, whether it re-ran, what was left out and how to re-run it, in sentences."""
        files = f"{_shown(self.ipynb)}" + (f" and its HTML copy {_shown(self.html)}" if self.html else "")
        if self.executed:
            ran = "It re-ran from a fresh kernel with no LLM, so its outputs are its own."
        else:
            ran = (
                "It was not re-executed: it keeps the outputs this session recorded; "
                "re-run it (below) to check that it runs on its own."
            )
        lines = [f"Wrote the report {files}{f' ({self.where})' if self.where else ''}. {ran}"]
        lines += _input_sentences(self.inputs, self.outside, self.built)
        if self.remade:
            lines.append(_remade_sentence(self.remade))
        if self.never_ran:
            lines.append(_never_ran_sentence(self.never_ran))
        if self.not_reproducible:
            lines.append(not_reproducible_sentence(self.not_reproducible))
        if self.left_out:
            lines.append(
                f"Left out {len(self.left_out)} cell(s) of yours that raised an error (the report says which): "
                + "; ".join(self.left_out)
            )
        lines.append(f"Re-run it with: {self.rerun_command()}")
        if self.parameters:
            lines.append(f"Its parameters ({', '.join(self.parameters)}) can be changed with -p NAME VALUE.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        links = f"[{Path(self.ipynb).name}]({_link(self.ipynb)})" + (
            f" and its HTML copy [{Path(self.html).name}]({_link(self.html)})" if self.html else ""
        )
        ran = (
            "It **re-ran** from a fresh kernel with no LLM: its outputs are its own."
            if self.executed
            else "It was **not re-executed**: it keeps the outputs this session recorded."
        )
        lines = [f"Wrote the report {links}{f' ({self.where})' if self.where else ''}. {ran}"]
        lines += ["\n" + sentence for sentence in _input_sentences(self.inputs, self.outside, self.built)]
        if self.never_ran:
            lines.append("\n" + _never_ran_sentence(self.never_ran))
        if self.not_reproducible:
            lines.append("\n" + not_reproducible_sentence(self.not_reproducible))
        if self.left_out:
            lines.append(
                f"\nLeft out {len(self.left_out)} cell(s) of yours that raised an error:\n"
                + "\n".join(f"- `{line}`" for line in self.left_out)
            )
        lines.append(f"\nRe-run it with `{self.rerun_command()}`.")
        return "\n".join(lines)


def _input_sentences(inputs: tuple[str, ...], outside: tuple[str, ...] = (), built: tuple[str, ...] = ()) -> list:
    """What happened to the report's input files, for its first cell and the export's summary."""
    sentences = []
    if inputs:
        sentences.append(
            f"The input files its cells read ({', '.join(inputs)}) were copied from the notebook's folder into the "
            "report's, so it re-runs there, and wherever that folder is moved."
        )
    if outside:
        sentences.append(
            f"Input files from outside the notebook's folder were copied into the report's `{OUTSIDE_FOLDER}/` "
            f"folder and the cells read the copies ({'; '.join(outside)}): the report does not depend on them."
        )
    if built:
        sentences.append(
            f"Some cells build a file path while they run, so kenkyu cannot know which file they read and copied "
            f"none for them: {'; '.join(built)}. If such a file is an input (not one the report makes), copy it "
            "into the report's folder at that path before re-running it."
        )
    return sentences


def _remade_sentence(remade: tuple[str, ...]) -> str:
    return (
        f"Files the cells read inside run folders that the report's own steps make ({', '.join(remade)}) were not "
        "copied: the steps make them again when the report runs (a copy would stop them at 'already exists')."
    )


def _papermill() -> str:
    """How to call papermill so the command runs where it is shown: `papermill` when this Python's own papermill is
    the one on PATH, else `<this python> -m papermill`. A JupyterLab started as `.venv/bin/jupyter lab` (the README's
    way) gives its kernels a PATH without the venv, and `!papermill ...` in a cell said "command not found"
    (newcomer r12)."""
    import shutil

    on_path = shutil.which("papermill")
    ours = Path(sys.executable).with_name("papermill")
    if on_path and ours.exists() and Path(on_path).resolve() == ours.resolve():
        return "papermill"
    return f"{sys.executable} -m papermill"


def _shown(path) -> str:
    """A path as short as it can be said: relative to the working folder when it lies under it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _link(path) -> str:
    from urllib.parse import quote

    return quote(_shown(path))


class ReportExecutionError(RuntimeError):
    """The report did not re-run cleanly; the partially executed report is still written for inspection."""


class ReportInputError(ValueError):
    """The file to export is not a notebook kenkyu can read."""


class ReportExistsError(FileExistsError):
    """An earlier report (with the files its re-run made) is in the way."""


REPORT_MARK = ".kenkyu-report"  # marks a folder kenkyu made for a report, so overwrite may clear it


def report_path(notebook, output=None) -> tuple[Path, str]:
    """The .ipynb the report of ``notebook`` is written to, and how ``output`` was read ("" when as given).

    ``output`` names a notebook or a folder: a name without the .ipynb suffix is the report's name with .ipynb
    added (``output='friday_update'`` wrote a file ``friday_update`` that Jupyter does not open as a notebook,
    and its HTML copy as ``friday_update.html``); a folder that exists, or a name that ends with ``/``, is a
    folder to write ``<name>.report.ipynb`` into. No output: ``<name>_report/<name>.report.ipynb`` beside the
    notebook.
    """
    source = Path(notebook)
    if not output:
        return source.parent / f"{source.stem}_report" / f"{source.stem}.report.ipynb", ""
    text = os.fspath(output)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        return path / f"{source.stem}.report.ipynb", f"{text!r} is a folder: the report was written into it"
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        return path, ""
    if suffix == ".html":  # the HTML copy's name: the notebook goes beside it, under the same name
        return path.with_suffix(".ipynb"), f"{text!r} named the HTML copy: the notebook is written beside it"
    return path.with_name(path.name + ".ipynb"), f"{text!r} taken as the report's name: .ipynb added"


def export_report(
    notebook,
    output=None,
    *,
    execute: bool = True,
    html: bool = True,
    timeout: int = 1800,
    kernel_name: str | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> ReportPaths:
    """Write a clean, executable report notebook from a notebook that used kenkyu.

    Parameters
    ----------
    notebook
        Path of the source notebook (saved, with the outputs of its ``%%ask`` cells).
    output
        Where to write the report; defaults to ``<name>_report/<name>.report.ipynb`` beside the source:
        a folder of its own, so that re-running the steps (simulations write run folders) does not
        collide with the files the original session made. A name without ``.ipynb`` gets it added
        (``"friday_update"`` writes ``friday_update.ipynb``); an existing folder, or a name ending in ``/``,
        receives ``<name>.report.ipynb``.
    execute
        Re-run the report in a fresh kernel (no LLM configured) so its outputs are its own.
    html
        Also write an HTML rendering next to the .ipynb.
    overwrite
        Replace an earlier report in the default folder (and the files its re-run made).
    """
    import nbformat

    source_path = Path(notebook)
    if not source_path.exists():
        raise FileNotFoundError(f"no notebook at {source_path}; save the notebook first, then export it")
    try:
        source = nbformat.read(source_path, as_version=4)
    except Exception as exc:
        raise ReportInputError(
            f"{source_path} is not a Jupyter notebook kenkyu can read ({type(exc).__name__}: {exc})"
        ) from None
    out_path, where = report_path(source_path, output)
    if not output:
        _claim_report_folder(out_path.parent, overwrite)
    report = build_report(source, title or f"Report: {source_path.stem}", source_path.name)
    nbformat.validate(report)

    executed = False
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # The report runs in its own folder (its runs must not land on the session's): the files its cells
    # name relative to the notebook's folder go with it (see report_inputs).
    inputs, built = _carry_inputs(report, source_path.parent, out_path.parent)
    outside = tuple(f"{name!r} -> {copy}" for name, copy in inputs.outside.items())
    sentences = _input_sentences(inputs.copied, outside, built)
    if inputs.remade:
        sentences.append(_remade_sentence(inputs.remade))
    if sentences:
        report.cells[0].source += "\n\n" + "\n\n".join(sentences)
    if execute:
        error = _execute(report, out_path.parent.resolve(), timeout, kernel_name)
        executed = error is None
        # The re-run printed and displayed in a kernel without kenkyu's output redaction: redact again.
        report = nbformat.from_dict(redact_obj(report))
    write_text_atomically(out_path, nbformat.writes(report))
    html_path = None
    if html:
        html_path = out_path.with_suffix(".html")
        write_text_atomically(html_path, report_html(report))
    if execute and not executed:
        missing = re.search(r"FileNotFoundError|No such file|does not exist", error or "")
        hint = (
            f" Paths built at run time, which kenkyu cannot copy: {'; '.join(built)}. If the missing file is one of "
            f"them, copy it into {out_path.parent} (where the report runs) at that path and re-run the report."
            if missing and built
            else ""
        )
        raise ReportExecutionError(
            f"the report did not re-run cleanly: {error}. "
            f"It was written to {out_path} so you can see which cell failed.{hint}"
        )
    never_ran = tuple(report.metadata["kenkyu"].get("never_ran", ()))
    return ReportPaths(
        out_path,
        html_path,
        executed,
        _parameter_names(report),
        _left_out(report),
        inputs.copied,
        outside,
        built,
        never_ran,
        inputs.remade,
        tuple(report.metadata["kenkyu"].get("not_reproducible", ())),
        where,
    )


def _carry_inputs(report, notebook_dir: Path, report_dir: Path) -> tuple[Inputs, tuple[str, ...]]:
    """Copy the files the report's cells name into its folder (see report_inputs), point the cells at the
    copies of files from outside the notebook's folder, and name the cells that build a path at run time."""
    code = [c for c in report.cells if c.cell_type == "code"]
    # A step's source and what it showed name the run folder it made (out=..., MDRun(directory=...)).
    steps = "\n".join(c.source + _result_text(c) for c in code if c.metadata.get("kenkyu", {}).get("tool"))
    inputs = copy_inputs(
        [c.source for c in code],
        notebook_dir,
        report_dir,
        made_by_steps=lambda folder: re.search(rf"(?<![\w/.-]){re.escape(folder)}(?![\w.-])", steps) is not None,
    )
    built = []
    for number, cell in enumerate(report.cells, 1):
        if cell.cell_type != "code":
            continue
        cell.source = rewrite_paths(cell.source, inputs.renamed)
        expression = built_path(cell.source)
        if expression:
            built.append(f"cell {number} (`{expression}`)")
    return inputs, tuple(built)


def _left_out(report) -> tuple[str, ...]:
    """The notes build_report left where a cell of the notebook's own raised: one line each."""
    return tuple(
        c.metadata["kenkyu"]["left_out"]
        for c in report.cells
        if c.cell_type == "markdown" and "left_out" in c.metadata.get("kenkyu", {})
    )


def _parameter_names(report) -> tuple[str, ...]:
    cell = next((c for c in report.cells if "parameters" in c.metadata.get("tags", [])), None)
    return tuple(re.findall(r"^(\w+) = ", cell.source, re.MULTILINE)) if cell is not None else ()


def _claim_report_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / REPORT_MARK).exists():
            raise ReportExistsError(f"{folder} exists and was not made by kenkyu; choose another output with -o")
        if not overwrite:
            raise ReportExistsError(
                f"{folder} already holds a report and the files its re-run made; "
                "pass overwrite=True (kenkyu report --overwrite) to replace it, or -o to write elsewhere"
            )
        import shutil

        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REPORT_MARK).write_text("made by kenkyu export_report; `--overwrite` may delete this folder\n")


def build_report(source, title: str, source_name: str = "notebook"):
    import nbformat.v4 as v4

    records = []
    body = []
    never_ran = []  # (the report's copy, its cell number in the notebook) of code cells the session never ran
    # A saved notebook whose code cells have execution counts was run; then a cell without one was not: the
    # kernel died before (or while) it ran, or it was skipped. A notebook never run at all (written by a
    # program, or rebuilt from a kernel's history) has none anywhere, and says nothing either way.
    counted = any(c.cell_type == "code" and c.get("execution_count") is not None for c in source.cells)
    first_step = None  # where the parameters cell goes: after the setup cells, before the first step
    for number, cell in enumerate(source.cells, 1):
        # A `%kenkyu ...` line above the question does not hide it: `%kenkyu approval ask\n%ask simulate ...` was
        # copied as code, and the report would have called the model (newcomer r11).
        if cell.cell_type == "code" and _ASK.match(_without_kenkyu_lines(cell.source)):
            record = _record_of(cell)
            if record is None:
                question = _question(_without_kenkyu_lines(cell.source))
                body.append(v4.new_markdown_cell(f"*Unanswered question (never run):*\n\n> {question}"))
                continue
            records.append(record)
            if first_step is None:
                first_step = len(body)
            body.extend(_cells_from_record(record))
        elif cell.cell_type == "code":
            kept = _without_kenkyu_lines(cell.source)
            if _ASK_LINE.search(kept):  # a question asked mid-cell: the report asks no model
                asked = [line.strip() for line in kept.splitlines() if _ASK_LINE.match(line)]
                kept = "\n".join(line for line in kept.splitlines() if not _ASK_LINE.match(line)).strip()
                body.append(
                    v4.new_markdown_cell(
                        "*A question to the assistant in a code cell was left out (the report calls no model):* "
                        + "; ".join(f"`{line}`" for line in asked)
                    )
                )
            if not kept:
                continue
            error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
            if error is not None:
                # A cell that raised in the session would stop the report's re-run there: from the statement
                # that raised on, a note says what it was instead. The statements before it ran, and later
                # cells may use what they defined (newcomer r10: `import mdtraj as md` above a failed load was
                # left out with it, and the report stopped at "NameError: md").
                ran = _without_kenkyu_lines(_statements_before_the_error(cell.source, error))
                if ran:
                    body.append(v4.new_code_cell(ran, metadata={"kenkyu": {"ran_before_error": True}}))
                body.append(_left_out_note(kept, error, kept_before=bool(ran)))
                continue
            new = v4.new_code_cell(kept, metadata=dict(cell.metadata))
            new.outputs = [o for o in cell.get("outputs", []) if RECORD_MIME not in o.get("data", {})]
            body.append(new)
            if counted and cell.get("execution_count") is None:
                never_ran.append((new, number))
        else:
            body.append(cell)

    exported = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    intro = v4.new_markdown_cell(
        f"# {title}\n\nGenerated by kenkyu from `{source_name}` on {exported}. "
        "Every result below is computed by the code cells; re-running this notebook needs no LLM."
        + _left_out_sentence(body)
    )
    parameters = {}
    for record in records:
        parameters.update(record.get("variables", {}))
    for cell in body:
        if cell.cell_type == "code" and "kenkyu" in cell.metadata:
            cell.source = _use_parameters(cell.source, parameters)
    _use_earlier_results(body)
    _rerunnable_runs(body)
    _extensions_to_totals(body)
    analyses_at_their_length(body)
    param_source = (
        "# Parameters: papermill (or you) can change these; the steps below use them and each other's results.\n"
        "# The code cells recompute everything; the Markdown quotes the session this report was made from.\n"
    ) + "\n".join(f"{name} = {python_literal(value)}" for name, value in parameters.items())
    param_cell = v4.new_code_cell(param_source.strip(), metadata={"tags": ["parameters"]})
    provenance = _provenance(records, body, exported)
    at = first_step if first_step is not None else 0
    cells = [intro, *body[:at], param_cell, *body[at:], v4.new_markdown_cell(_provenance_markdown(provenance))]
    report = v4.new_notebook(cells=cells, metadata=dict(source.metadata))
    report.metadata.pop("kenkyu", None)
    report.metadata["title"] = title
    report.metadata["kenkyu"] = {"report": True, "provenance": provenance}
    # Named by both numbers: the reply is read beside the notebook, whose cell 18 was the report's cell 56 (a newcomer
    # looked for "cell 56" in a notebook of 21 cells, r11), and by the line that says what it does, not its import.
    in_report = {id(c): i for i, c in enumerate(cells, 1)}
    unrun = [
        f"cell {number} of {source_name}, report cell {in_report[id(new)]} (`{_first_line(new.source, True)}`)"
        for new, number in never_ran
    ]
    if unrun:
        report.metadata["kenkyu"]["never_ran"] = unrun
        intro.source += " " + _never_ran_sentence(unrun)
    drifting = unreproducible_steps(cells, lambda source: _first_line(source, True))
    if drifting:
        report.metadata["kenkyu"]["not_reproducible"] = drifting
        intro.source += " " + not_reproducible_sentence(drifting)
    import nbformat

    return nbformat.from_dict(redact_obj(report))


def _first_line(source: str, skip_imports: bool = False) -> str:
    """The cell's first line, shortened; with ``skip_imports`` its first line that is not an import, where it has
    one (an action cell starts `import kenkyu.tools.md`, which tells one cell from another nothing)."""
    lines = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    if skip_imports:
        lines = [line for line in lines if not line.startswith(("import ", "from "))] or lines
    first = lines[0] if lines else ""
    return first if len(first) <= 60 else first[:57] + "..."


def _never_ran_sentence(unrun) -> str:
    return (
        f"{len(unrun)} code cell(s) never ran in the session, or did not finish (no execution count: the kernel "
        f"died before or while running them, or they were skipped): {'; '.join(unrun)}. Nothing they compute was "
        "seen in the session; a re-run of this report runs them for the first time."
    )


def _left_out_sentence(body: list) -> str:
    count = sum(1 for c in body if c.cell_type == "markdown" and "left_out" in c.metadata.get("kenkyu", {}))
    if not count:
        return ""
    return (
        f" {count} cell(s) of the notebook that raised an error are left out; a note marks where each was "
        "and what it raised."
    )


def _without_kenkyu_lines(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not _KENKYU_LINE.match(line)).strip()


_CELL_LINE = re.compile(r"Cell In\[\d*\], line (\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _statements_before_the_error(source: str, error: dict) -> str:
    """The cell's top-level statements that ran before the one that raised; "" when the traceback does not
    say which line raised (IPython writes "Cell In[7], line 2") or the cell cannot be parsed. Line magics
    are turned into Python as IPython runs them, one line each, so the numbers match the cell's."""
    import ast

    found = _CELL_LINE.search(_ANSI.sub("", "\n".join(error.get("traceback") or [])))
    if not found:
        return ""
    failing = int(found.group(1))
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(source)
    except ImportError:
        python = source
    try:
        statements = ast.parse(python).body
    except SyntaxError:
        return ""
    last_line = max((s.end_lineno for s in statements if s.end_lineno < failing), default=0)
    return "\n".join(source.splitlines()[:last_line]).strip()


def _left_out_note(source: str, error: dict, *, kept_before: bool = False):
    import nbformat.v4 as v4

    first = next((line for line in source.splitlines() if line.strip()), "")
    shown = first if len(first) <= 100 else first[:97] + "..."
    raised = f"{error.get('ename', 'Error')}: {str(error.get('evalue', ''))[:200]}".rstrip(": ")
    line = f"{shown} -> {raised}"
    code = source.replace("```", "` ` `")
    kept = " Its statements before the one that raised ran in the session and are kept above." if kept_before else ""
    note = v4.new_markdown_cell(
        "*A cell of the notebook that raised an error was left out* (re-running the report would stop there; "
        f"fix it in the notebook and export again to keep it). It raised {raised}:{kept}\n\n```python\n{code}\n```",
        metadata={"kenkyu": {"left_out": line}},
    )
    return note


def _record_of(cell) -> dict | None:
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if RECORD_MIME in data:
            return data[RECORD_MIME]
    return None


def _question(source: str) -> str:
    return _ASK.sub("", source, count=1).strip()


def _cells_from_record(record: dict) -> list:
    """The question, the narrative and the steps that worked. A failed step is named in a note, not
    copied: the report must re-run, and the model usually retried it with better arguments."""
    import nbformat.v4 as v4

    cells = [v4.new_markdown_cell("**Question.** " + record["prompt"].replace("\n", "\n> "))]
    for item in record["cells"]:
        if item["cell_type"] == "markdown":
            cells.append(v4.new_markdown_cell(item["source"], metadata=item.get("metadata", {})))
            continue
        errors = [o for o in item.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            tool = item.get("metadata", {}).get("kenkyu", {}).get("tool", "a tool")
            cells.append(
                v4.new_markdown_cell(
                    f"*A step that failed was left out:* `{tool}` — {errors[0]['ename']}: {errors[0]['evalue'][:300]}"
                )
            )
            continue
        cell = v4.new_code_cell(item["source"], metadata=item.get("metadata", {}))
        cell.outputs = [nbformat_output(o) for o in item.get("outputs", [])]
        cells.append(cell)
    if not any(c.cell_type == "code" for c in cells):
        reason = record.get("done", {}).get("reason", "no result")
        cells.append(v4.new_markdown_cell(f"*No step was run for this question ({reason}).*"))
    return cells


def _use_parameters(source: str, parameters: dict) -> str:
    """``structure='/data/x.pdb'`` becomes ``structure=structure`` when ``structure`` is a string
    parameter with that value, so changing the parameters cell changes what the steps compute."""
    for name, value in parameters.items():
        if not isinstance(value, str) or len(value) < 3:
            continue  # numbers coincide too easily (ps=10.0 is not "n = 10")
        literal = python_literal(value)
        source = re.sub(rf"(?<=[(,\s])(\w+)={re.escape(literal)}(?=[,)\n])", rf"\1={name}", source)
    return source


_KEYWORD_STRING = re.compile(r"(?<=[(,\s])(\w+)=('(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")(?=\s*[,)\n])")


def _use_earlier_results(body: list) -> None:
    """``trajectory='md_runs/villin_1vii_implicit'`` becomes ``trajectory=run`` when an earlier step's
    result, ``run``, is that folder (its output names it). The report then follows its own results: re-run
    with another structure, the analyses read the new run, never the original session's folder (which
    may be absent, or worse, present with the old protein's numbers). kenkyu's tools take the results of
    other tools (an MDRun wherever a run folder goes), so passing the variable computes the same thing."""
    earlier: list[tuple[str, str]] = []  # (variable, the text of its result)
    readers = _tools_that_write_nothing()
    for cell in body:
        if cell.cell_type != "code" or "kenkyu" not in cell.metadata:
            continue

        def to_variable(match: re.Match) -> str:
            value = _string_value(match.group(2))
            if value is None or "/" not in value.replace("\\", "/"):
                return match.group(0)  # only paths: an ordinary word may well occur in some output
            for variable, text in earlier:  # the first result to name the folder is the step that made it
                if re.search(rf"(?<![\w./-]){re.escape(value.rstrip('/'))}/?(?![\w./-])", text):
                    return f"{match.group(1)}={variable}"
            return match.group(0)

        cell.source = _KEYWORD_STRING.sub(to_variable, cell.source)
        variable = cell.metadata["kenkyu"].get("variable")
        # A step that writes nothing made no folder, whatever its result names: the notebook overview lists
        # "notes/ (2 Markdown files)", and a later ingest(paths='notes/') became ingest(paths=notebook_overview)
        # (newcomer r11: the report's re-run failed, 'NotebookOverview' object is not iterable).
        if variable and variable.isidentifier() and cell.metadata["kenkyu"].get("tool") not in readers:
            earlier.append((variable, _result_text(cell)))


def _tools_that_write_nothing() -> frozenset[str]:
    """The names of kenkyu's tools (the notebook's own included) that declare they write no files."""
    from kenkyu.assistant.report_tools import report_registry

    return frozenset(t.name for t in report_registry() if not t.writes_files)


# The simulations (and the minimisation) that take resume=True: a finished one of the same input and parameters is
# reused, others refused. md.minimize without it stopped a report's second run in its folder (newcomer r12).
_RESUMABLE_RUNS = ("run", "coarse_grained", "minimize")


def _rerunnable_runs(body: list) -> None:
    """A step's ``md.run(...)``, ``md.coarse_grained(...)`` or ``md.minimize(...)`` gets ``resume=True`` in the
    report, with a comment saying why.

    Re-running the report writes its runs into the report's folder; without it, the second "Run All" in
    that folder would stop at the first simulation with RunExistsError. With it, a finished run of the same
    parameters is reused (same numbers), an interrupted one continues, and a missing one is computed; other
    parameters are refused by md.run, naming the difference. Calls that already decide (resume=,
    overwrite=) are left as they are."""
    import ast

    for cell in body:
        if cell.cell_type != "code" or "kenkyu" not in cell.metadata:
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        ends, which = [], set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _RESUMABLE_RUNS
                and ast.unparse(node.func.value).split(".")[-1] == "md"
                and not any(k.arg in ("resume", "overwrite") for k in node.keywords)
            ):
                which.add(node.func.attr)
                arguments = [*node.args, *(k.value for k in node.keywords)]
                if arguments:  # after the last argument (a trailing comma and the ")" stay where they are)
                    last = max(arguments, key=lambda a: (a.end_lineno, a.end_col_offset))
                    ends.append((last.end_lineno, last.end_col_offset, ", resume=True"))
                else:
                    ends.append((node.end_lineno, node.end_col_offset - 1, "resume=True"))
        if not ends:
            continue
        edits = [(line, col, line, col, text) for line, col, text in ends]
        note = "# resume=True: re-running this report reuses its finished run (same parameters) or continues it."
        if which == {"minimize"}:
            note = "# resume=True: re-running this report reuses its finished minimisation (same input and settings)."
        cell.source = note + "\n" + _spliced(cell.source, edits)


def _spliced(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    """``source`` with each (line, col, end_line, end_col) span, in ast's coordinates (1-based lines, UTF-8
    byte columns), replaced by its text; an empty span inserts."""
    lines = [line.encode() for line in source.split("\n")]
    for line, col, end_line, end_col, text in sorted(edits, reverse=True):  # from the end: offsets stay valid
        head, tail = lines[line - 1][:col], lines[end_line - 1][end_col:]
        lines[line - 1 : end_line] = [head + text.encode() + tail]
    return "\n".join(line.decode() for line in lines)


# The line md.extend prints when it has extended a run; to_ps= is the total it reached, exactly (repr).
_EXTENDED = re.compile(r"^md\.extend: .*\(to_ps=([0-9.eE+-]+)\)\s*$", re.MULTILINE)


def _extensions_to_totals(body: list) -> None:
    """``md.extend(run, ps=2)`` becomes ``md.extend(run, to_ps=12.0)`` in the report: the total length that
    extension reached in the session, which its output printed.

    A report re-runs where it is (its runs are reused by resume=True): an extension by ``ps`` would grow the
    run again on each re-run, so the report's numbers would change every time. Extending *to* the length the
    session reached gives the same run on every re-run: a run already that long is left as it is (md.extend
    says so), the first re-run in a fresh folder extends to it. A cell whose calls cannot be matched to
    printed totals (a loop, or no output saved) keeps its calls, with a comment saying what a re-run does."""
    import ast

    for cell in body:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        calls = sorted(
            (
                node
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "extend"
                and ast.unparse(node.func.value).split(".")[-1] == "md"
                and not any(k.arg == "to_ps" for k in node.keywords)
            ),
            key=lambda n: (n.lineno, n.col_offset),
        )
        if not calls:
            continue
        printed = "".join(
            "".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream"
        )
        totals = _EXTENDED.findall(printed)
        if len(totals) != len(calls):
            cell.source = (
                "# md.extend below extends the run again on every re-run of this report (its saved output does not "
                "say the length it reached): write to_ps=<total ps> to make it reach a length once.\n" + cell.source
            )
            continue
        edits = []
        for call, total in zip(calls, totals):
            given = next((k for k in call.keywords if k.arg == "ps"), None)
            if given is None and len(call.args) > 1:
                given = call.args[1]
            if given is not None:
                edits.append((given.lineno, given.col_offset, given.end_lineno, given.end_col_offset, f"to_ps={total}"))
            else:  # ps left at its default: the total goes after the last argument
                last = max(
                    [*call.args, *(k.value for k in call.keywords)], key=lambda a: (a.end_lineno, a.end_col_offset)
                )
                edits.append(
                    (last.end_lineno, last.end_col_offset, last.end_lineno, last.end_col_offset, f", to_ps={total}")
                )
        note = "# to_ps=: the length this extension reached; a re-run of the report reaches it once, never again."
        cell.source = note + "\n" + _spliced(cell.source, edits)


def _string_value(literal: str) -> str | None:
    import ast

    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _result_text(cell) -> str:
    """What a step's result says of itself: its plain-text and Markdown representations."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "execute_result":
            data = output.get("data", {})
            parts += [str(data.get("text/plain", "")), str(data.get("text/markdown", ""))]
    return "\n".join(parts)


def nbformat_output(output: dict):
    from nbformat import from_dict

    return from_dict(output)


def record_as_code(record: dict) -> str:
    """One cell's worth of the record, for ``%kenkyu cells``: narrative as comments, then the calls."""
    parts = []
    for item in record["cells"]:
        if item["cell_type"] == "markdown":
            parts.append("\n".join(f"# {line}" for line in item["source"].splitlines()))
        else:
            parts.append(item["source"])
    return "\n\n".join(parts)


def _provenance(records: list[dict], body: list, exported: str) -> dict:
    versions = {"python": platform.python_version()}
    for package in _PROVENANCE_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    seeds = sorted({int(m) for c in body if c.cell_type == "code" for m in re.findall(r"\bseed=(\d+)", c.source)})
    return {
        "exported": exported,
        "platform": platform.platform(),
        "versions": versions,
        "models": sorted(
            {
                f"{r.get('provider')} ({r.get('model')})"
                for r in records
                if any(c["cell_type"] == "code" for c in r["cells"])
            }
        ),
        "asks": [
            {"prompt": r["prompt"][:200], "started": r.get("started"), "finished": r.get("finished")} for r in records
        ],
        "seeds": seeds,
    }


def _provenance_markdown(p: dict) -> str:
    lines = ["## Provenance", "", f"Exported {p['exported']} on `{p['platform']}`.", ""]
    if p["models"]:
        lines.append("Models that wrote the action cells (not needed to re-run): " + ", ".join(p["models"]))
    if p["seeds"]:
        lines.append("Seeds: " + ", ".join(str(s) for s in p["seeds"]))
    lines += ["", "| package | version |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in p["versions"].items()]
    if p["asks"]:
        lines += ["", "| question | asked | answered |", "|---|---|---|"]
        lines += [f"| {a['prompt'][:80]} | {a['started']} | {a['finished']} |" for a in p["asks"]]
    return "\n".join(lines)


def _execute(report, cwd: Path, timeout: int, kernel_name: str | None) -> str | None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    env = {k: v for k, v in os.environ.items() if not _LLM_ENV.match(k)}
    env["KENKYU_PROVIDER"] = "none"
    name = kernel_name or report.metadata.get("kernelspec", {}).get("name") or "python3"
    started: list[int] = []  # the cells the kernel was given, in order: the last is the one a dead kernel ran
    client = NotebookClient(
        report,
        timeout=timeout,
        kernel_name=name,
        resources={"metadata": {"path": str(cwd)}},
        on_cell_execute=lambda cell, cell_index: started.append(cell_index),
    )
    # The kernel's own stderr goes to a file, not to ours: called from a notebook, ours is the cell's
    # output, where ipykernel's "running over TCP without encryption" log line means nothing to the user.
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as kernel_stderr:
        try:
            client.execute(env=env, stderr=kernel_stderr)
        except CellExecutionError as exc:
            return _cell_error(report, exc)
        except DeadKernelError:
            # The kernel died (a crash, or out of memory) in the last cell it was given; the report is still
            # written, with the outputs of the cells before it.
            if not started:
                return "the kernel died"
            cell = report.cells[started[-1]]
            return f"the kernel died while running cell {started[-1] + 1} (`{_first_line(cell.source)}`)"
        finally:
            _pass_on_stderr(kernel_stderr)
    return None


_KERNEL_NOISE = re.compile(r"Kernel is running over TCP without encryption")


def _pass_on_stderr(kernel_stderr) -> None:
    """What the kernel wrote to stderr, less ipykernel's transport notice, on to our stderr."""
    kernel_stderr.seek(0)
    kept = [line for line in kernel_stderr if not _KERNEL_NOISE.search(line)]
    if any(line.strip() for line in kept):
        sys.stderr.write("".join(kept))


def _cell_error(report, exc) -> str:
    """The error a cell raised, and which cell (1-based) raised it."""
    failed = next(
        (i for i, c in enumerate(report.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))),
        None,
    )
    where = f" in cell {failed + 1}" if failed is not None else ""
    return f"{exc.ename}: {exc.evalue}{where}"
