"""The spine end to end: %%ask in a real kernel, the replay provider calling kenkyu's real MD and
analysis tools, the exported report re-run in a fresh kernel with no LLM, and the same numbers."""

import nbformat
from notebooks import run_cells

import kenkyu.tools.md as md
from kenkyu.assistant.export import export_report
from kenkyu.assistant.session import RECORD_MIME

RUN_DIR = "md_runs/villin_1vii_implicit"


def turns(structure: str) -> list[dict]:
    return [
        {
            "text": "Plan: a short reproducible implicit-solvent run, then RMSD and radius of gyration.",
            "tool_calls": [
                {
                    "name": "md_run",
                    "arguments": {
                        "structure": structure,
                        "ps": 0.4,
                        "solvent": "implicit",
                        "nvt_ps": 0.2,
                        "report_interval_ps": 0.1,
                        "seed": 5,
                        "reproducible": True,
                    },
                }
            ],
        },
        {
            "text": "Check: how far does it move, and does it stay compact?",
            "tool_calls": [
                {"name": "analysis_rmsd", "arguments": {"trajectory": RUN_DIR}},
                {"name": "analysis_radius_of_gyration", "arguments": {"trajectory": RUN_DIR}},
            ],
        },
        {"text": "The backbone stays within a few ångström of the start over 0.4 ps."},
    ]


def results_by_tool(cells) -> dict[str, str]:
    out = {}
    for cell in cells:
        meta = cell["metadata"].get("kenkyu", {})
        if cell["cell_type"] == "code" and meta.get("tool"):
            results = [o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result"]
            out[meta["tool"]] = results[0]
    return out


def test_ask_with_real_tools_exports_a_report_that_reproduces_the_numbers(tmp_path, write_replay):
    replay = write_replay(turns(str(md.example_structure("villin"))))
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%ask\nSimulate the villin headpiece briefly and tell me whether it stays folded",
        ],
        tmp_path,
        name="villin.ipynb",
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[2].outputs if RECORD_MIME in o.get("data", {}))
    code = [c for c in record["cells"] if c["cell_type"] == "code"]
    assert [c["metadata"]["kenkyu"]["tool"] for c in code] == ["md_run", "analysis_rmsd", "analysis_radius_of_gyration"]
    assert code[0]["source"].startswith("import kenkyu.tools.md\n\nrun = kenkyu.tools.md.run(\n")
    assert "reproducible=True" in code[0]["source"] and "seed=5" in code[0]["source"]
    assert code[1]["source"].splitlines()[-2] == f"rmsd = kenkyu.tools.analysis.rmsd(trajectory='{RUN_DIR}')"
    assert (tmp_path / RUN_DIR / "run.json").exists()
    original = results_by_tool(record["cells"])
    assert "rmsd_nm" in original["analysis_rmsd"] and "rg_nm" in original["analysis_radius_of_gyration"]

    # The report runs in its own folder, so the simulation really runs again there.
    paths = export_report(path, tmp_path / "report" / "villin.report.ipynb")
    assert paths.executed and (tmp_path / "report" / RUN_DIR / "run.json").exists()
    report = nbformat.read(paths.ipynb, as_version=4)
    assert not any("%%ask" in c.source or "%kenkyu" in c.source for c in report.cells)
    narrative = [c.source for c in report.cells if c.cell_type == "markdown"]
    assert any(s.startswith("Plan: a short reproducible") for s in narrative)
    rerun = results_by_tool(report.cells)
    assert rerun["analysis_rmsd"] == original["analysis_rmsd"]
    assert rerun["analysis_radius_of_gyration"] == original["analysis_radius_of_gyration"]
    provenance = report.metadata["kenkyu"]["provenance"]
    assert provenance["seeds"] == [5] and provenance["versions"]["openmm"]
    assert provenance["models"] == [f"replay of {replay} (replay:{replay.name})"]

    # A person opens the report later and runs it again where it is: its simulation cell reuses the run
    # the export's re-run made (resume=True, same parameters) instead of stopping at RunExistsError.
    from nbclient import NotebookClient

    again = nbformat.read(paths.ipynb, as_version=4)
    NotebookClient(
        again, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(paths.ipynb.parent)}}
    ).execute()
    assert results_by_tool(again.cells) == rerun
