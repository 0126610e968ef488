"""A report whose session analysed a run between two extensions gives the session's numbers for that analysis:
after export (a fresh folder) and when re-run where it is (where md.run(resume=True) finds the run already at its
final length). Real %%ask with the replay provider, md.run/md.extend (villin, implicit, reproducible), RMSD,
nbformat, nbclient and ipykernel."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient
from notebooks import run_cells

import kenkyu.tools.md as md
from kenkyu.assistant.export import export_report
from kenkyu.assistant.session import RECORD_MIME

RUN_DIR = "md_runs/villin_1vii_implicit"


def _turns(structure: str) -> list[dict]:
    run = {
        "structure": structure,
        "ps": 0.5,
        "solvent": "implicit",
        "nvt_ps": 0.1,
        "report_interval_ps": 0.1,
        "seed": 5,
        "reproducible": True,
    }
    extend = {"name": "md_extend", "arguments": {"run": RUN_DIR, "ps": 0.5}}
    rmsd = {"name": "analysis_rmsd", "arguments": {"trajectory": RUN_DIR}}
    return [
        {"text": "A short run first.", "tool_calls": [{"name": "md_run", "arguments": run}]},
        {"text": "Longer.", "tool_calls": [extend]},
        {"text": "How far has it moved at 1 ps?", "tool_calls": [rmsd]},
        {"text": "Longer still.", "tool_calls": [extend]},
        {"text": "And at 1.5 ps?", "tool_calls": [rmsd]},
        {"text": "Done."},
    ]


def _rmsd_tables(cells) -> list[str]:
    """Each RMSD cell's table, as numbers: what the session's and the report's cells computed."""
    tables = []
    for cell in cells:
        meta = cell["metadata"].get("kenkyu", {})
        if cell["cell_type"] == "code" and meta.get("tool") == "analysis_rmsd":
            text = next(o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result")
            tables.append(text)
    return tables


def test_an_analysis_between_two_extensions_reads_the_run_at_the_sessions_length(tmp_path, write_replay):
    replay = write_replay(_turns(str(md.example_structure("villin"))))
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%ask\nSimulate villin, extend it, RMSD, extend again, RMSD",
        ],
        tmp_path,
        name="villin.ipynb",
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[2].outputs if RECORD_MIME in o.get("data", {}))
    session = _rmsd_tables(record["cells"])
    assert [len(t.splitlines()) - 1 for t in session] == [10, 15]  # frames at 1 ps, then at 1.5 ps
    assert md.MDRun(tmp_path / RUN_DIR).n_frames == 15

    paths = export_report(path)  # executed once in a fresh folder: run, extend, RMSD, extend, RMSD
    assert paths.executed
    report = nbformat.read(paths.ipynb, as_version=4)
    first, second = (c.source for c in report.cells if c.metadata.get("kenkyu", {}).get("tool") == "analysis_rmsd")
    assert "end_ps=1.0)" in first and "the run's length when the session ran this analysis" in first
    assert "end_ps" not in second  # the last analysis reads the whole run, as in the session
    assert _rmsd_tables(report.cells) == session

    # Run All again where it is: md.run(resume=True) finds the run at 1.5 ps and the first extend leaves it.
    again = nbformat.read(paths.ipynb, as_version=4)
    folder = paths.ipynb.parent
    NotebookClient(again, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    assert md.MDRun(folder / RUN_DIR).n_frames == 15
    assert _rmsd_tables(again.cells) == session
