"""The exported report's steps read earlier results through their variables, not through the folder
strings the original session wrote, so a report re-run with other parameters computes on the new data."""

import nbformat.v4 as v4

from kenkyu.assistant.export import build_report
from kenkyu.assistant.session import RECORD_MIME


def step(tool, source, variable, result_text=None):
    outputs = []
    if result_text is not None:
        outputs.append(
            {
                "output_type": "execute_result",
                "data": {"text/plain": result_text},
                "metadata": {},
                "execution_count": None,
            }
        )
    meta = {"kenkyu": {"agent": True, "tool": tool, "call_id": tool, "variable": variable}}
    return {"cell_type": "code", "source": source, "metadata": meta, "outputs": outputs}


def notebook_with(cells, variables):
    record = {"prompt": "simulate {structure} and analyse it", "variables": variables, "cells": cells}
    ask = v4.new_code_cell("%%ask\nsimulate {structure} and analyse it")
    ask.outputs = [v4.new_output("display_data", data={RECORD_MIME: record, "text/plain": ""})]
    return v4.new_notebook(cells=[v4.new_code_cell("structure = 'villin.pdb'"), ask])


def report_sources(nb):
    report = build_report(nb, "Report")
    return [c.source for c in report.cells if c.cell_type == "code" and "kenkyu" in c.metadata]


def test_a_later_step_reads_the_run_an_earlier_step_made_not_its_folder():
    nb = notebook_with(
        [
            step(
                "md_run",
                "run = kenkyu.tools.md.run(structure='/data/villin.pdb', ps=10.0)\nrun",
                "run",
                "MDRun(directory=PosixPath('md_runs/villin_implicit'))",
            ),
            step(
                "analysis_rmsd",
                "rmsd = kenkyu.tools.analysis.rmsd(trajectory='md_runs/villin_implicit')\nrmsd",
                "rmsd",
                "RMSD of md_runs/villin_implicit",
            ),
            step(
                "analysis_rmsf",
                "rmsf = kenkyu.tools.analysis.rmsf(trajectory='md_runs/villin_implicit/', selection='name CA')\nrmsf",
                "rmsf",
            ),
            step(
                "analysis_rg", "rg = kenkyu.tools.analysis.radius_of_gyration(trajectory='md_runs/other_run')\nrg", "rg"
            ),
            step("literature_ask", "ask = kenkyu.tools.literature.ask(question='what holds the core')\nask", "ask"),
        ],
        {"structure": "/data/villin.pdb"},
    )
    md, rmsd, rmsf, rg, ask = report_sources(nb)
    assert "run = kenkyu.tools.md.run(structure=structure, ps=10.0, resume=True)" in md
    # The analysis follows the run; the first step that named the folder made it (not the RMSD that quoted it).
    assert rmsd.startswith("rmsd = kenkyu.tools.analysis.rmsd(trajectory=run)")
    assert rmsf.startswith("rmsf = kenkyu.tools.analysis.rmsf(trajectory=run, selection='name CA')")
    # A folder no step of the report made stays as written, and so does ordinary text.
    assert "trajectory='md_runs/other_run'" in rg
    assert "question='what holds the core'" in ask


def test_a_reports_simulation_reuses_its_run_when_run_again():
    import ast

    import nbformat.v4 as v4

    from kenkyu.assistant.export import _rerunnable_runs

    sources = [
        "run = kenkyu.tools.md.run(\n    structure='villin.pdb',\n    ps=2.0,\n)\nrun",  # trailing comma
        "run = kenkyu.tools.md.run(structure='Å.pdb', ps=2.0)",  # ast's offsets count UTF-8 bytes
        "run = kenkyu.tools.md.run(structure='x.pdb', overwrite=True)",  # the step decided itself
        "rg = kenkyu.tools.analysis.radius_of_gyration(trajectory=run)",
        "cg_run = kenkyu.tools.md.coarse_grained(structure='hp35.pdb', ps=20.0)",  # newcomer r8 O7
    ]
    cells = [v4.new_code_cell(s, metadata={"kenkyu": {}}) for s in sources]
    _rerunnable_runs(cells)
    for cell in cells:
        ast.parse(cell.source)
    assert "ps=2.0, resume=True," in cells[0].source and cells[0].source.startswith("# resume=True")
    assert cells[1].source.endswith("md.run(structure='Å.pdb', ps=2.0, resume=True)")
    assert cells[2].source == sources[2] and cells[3].source == sources[3]
    assert cells[4].source.endswith("md.coarse_grained(structure='hp35.pdb', ps=20.0, resume=True)")


def test_a_folder_only_named_by_a_step_that_writes_nothing_stays_as_written():
    """Newcomer r11: the notebook overview listed 'notes/ (2 Markdown files)', and the report turned the
    later ingest(paths='notes/') into ingest(paths=notebook_overview); its re-run failed."""
    nb = notebook_with(
        [
            step(
                "notebook_tools_overview",
                "notebook_overview = kenkyu.assistant.notebook_tools.overview()\nnotebook_overview",
                "notebook_overview",
                "Documents: notes/ (2 Markdown files)",
            ),
            step(
                "literature_ingest",
                "ingest = kenkyu.tools.literature.ingest(paths='notes/')\ningest",
                "ingest",
                "Indexed 2 documents from notes/",
            ),
            step(
                "analysis_rmsd",
                "rmsd = kenkyu.tools.analysis.rmsd(trajectory='md_runs/dhfr_implicit')\nrmsd",
                "rmsd",
                "RMSD of md_runs/dhfr_implicit",
            ),
            step(
                "analysis_rmsf", "rmsf = kenkyu.tools.analysis.rmsf(trajectory='md_runs/dhfr_implicit')\nrmsf", "rmsf"
            ),
        ],
        {},
    )
    overview, ingest, rmsd, rmsf = report_sources(nb)
    assert "ingest(paths='notes/')" in ingest
    # An analysis that names the folder it read did not make it either.
    assert "rmsf(trajectory='md_runs/dhfr_implicit')" in rmsf


def test_a_question_to_the_assistant_is_never_copied_as_code_into_the_report():
    """Newcomer r11: a cell `%kenkyu approval ask --wait 20` + `%ask simulate dhfr ...` was copied into the report
    as code, so the report that 're-runs with no LLM' would have asked the model."""
    record = {"prompt": "simulate dhfr for 1 ps", "variables": {}, "cells": []}
    asked = v4.new_code_cell("%kenkyu approval ask --wait 20\n%ask simulate dhfr for 1 ps")
    asked.outputs = [v4.new_output("display_data", data={RECORD_MIME: record, "text/plain": ""})]
    never_answered = v4.new_code_cell("%kenkyu approval auto\n%%ask\nwhat is in this folder?")
    mid_cell = v4.new_code_cell("n_loop = 16\n%ask how long is the Met20 loop?\nprint(n_loop)")
    report = build_report(v4.new_notebook(cells=[asked, never_answered, mid_cell]), "Report")
    code = "\n".join(c.source for c in report.cells if c.cell_type == "code")
    markdown = "\n".join(c.source for c in report.cells if c.cell_type == "markdown")
    assert "%ask" not in code and "%%ask" not in code
    assert "**Question.** simulate dhfr for 1 ps" in markdown
    assert "> what is in this folder?" in markdown
    assert "n_loop = 16\nprint(n_loop)" in code
    assert "`%ask how long is the Met20 loop?`" in markdown
