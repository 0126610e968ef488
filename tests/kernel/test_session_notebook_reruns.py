"""newcomer r7 O10, end to end: the SESSION notebook (the agent's action cells as the sidebar puts them in the
notebook, not the exported report) re-runs with Run All from a fresh kernel. Its coarse-grained cell stopped at
RunExistsError and its md.run cell simulated again; now each simulation cell reuses its finished run: the same
numbers, no error, nothing simulated (the run folders' files untouched). Real %%ask with the replay provider,
md.coarse_grained (villin Gō model, 35 beads), a 1 ps implicit-solvent md.run of villin, nbclient, ipykernel."""

import nbformat
import nbformat.v4 as v4
from nbclient import NotebookClient
from notebooks import run_cells

import kenkyu.tools.md as md
from kenkyu.assistant.session import RECORD_MIME

CG_RUN = "md_runs/villin_1vii_cg_300K_seed3"
MD_RUN = "md_runs/villin_1vii_implicit"


def turns(structure: str) -> list[dict]:
    cg = {"structure": structure, "ps": 10.0, "report_interval_ps": 0.5, "backend": "openmm", "seed": 3}
    run = {
        "structure": structure,
        "ps": 1.0,
        "solvent": "implicit",
        "nvt_ps": 0.2,
        "report_interval_ps": 0.1,
        "minimize_max_iterations": 50,
        "platform": "CPU",
    }
    return [
        {"text": "A coarse-grained run.", "tool_calls": [{"name": "md_coarse_grained", "arguments": cg}]},
        {"text": "Now all-atom.", "tool_calls": [{"name": "md_run", "arguments": run}]},
        {"text": "Both finished."},
    ]


def result_of(cell) -> str:
    """The cell's value as the notebook shows it (its summary), not the progress bars printed on the way."""
    shown = [o["data"] for o in cell["outputs"] if o["output_type"] == "execute_result"]
    return "".join(data.get("text/html", data["text/plain"]) for data in shown)


def files_of(folder):
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


def test_the_session_notebooks_simulation_cells_rerun_from_a_fresh_kernel(tmp_path, write_replay):
    replay = write_replay(turns(str(md.example_structure("villin"))))
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%ask\ncoarse-grained run of villin with seed 3, then 1 ps of all-atom MD in implicit solvent",
        ],
        tmp_path,
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[2].outputs if RECORD_MIME in o.get("data", {}))
    action = [c for c in record["cells"] if c["cell_type"] == "code"]
    assert [c["metadata"]["kenkyu"]["tool"] for c in action] == ["md_coarse_grained", "md_run"]
    # The cells as they ran: a simulation's cell that wrote a new folder may be run again.
    assert all("resume=True" in c["source"] for c in action), [c["source"] for c in action]

    # The session notebook: the agent's cells in the notebook, as the sidebar inserts them.
    session = v4.new_notebook(cells=[v4.new_code_cell(c["source"], metadata=c["metadata"]) for c in action])
    session.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    before = {run: files_of(tmp_path / run) for run in (CG_RUN, MD_RUN)}
    steps = (tmp_path / MD_RUN / "state.csv").read_text()
    numbers = [result_of(c) for c in action]
    assert "Q (fraction of native contacts)" in numbers[0] and MD_RUN in numbers[1]

    NotebookClient(
        session, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()  # a fresh kernel; a failing cell raises CellExecutionError

    assert [result_of(c) for c in session.cells] == numbers  # the same summaries: Q, Rg, seeds, frames, energies
    assert not any(o.get("output_type") == "error" for c in session.cells for o in c.outputs)
    assert {run: files_of(tmp_path / run) for run in (CG_RUN, MD_RUN)} == before  # nothing simulated again
    assert (tmp_path / MD_RUN / "state.csv").read_text() == steps
    nbformat.write(session, tmp_path / "session.ipynb")
