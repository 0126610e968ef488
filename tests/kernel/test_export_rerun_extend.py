"""A report whose session extended a run re-runs to the same result, however often it is re-run.

The session: %%ask in a real kernel, the replay provider calling the real md.run (villin, implicit, 1 ps),
md.extend by 1 ps and an RMSD. The report used to say ``md.extend(run, ps=1.0)``: each re-run in place reused
the run (resume=True) and extended it by another picosecond, so its RMSD table grew with every re-run. It
now says ``to_ps=2.0``, the length the session reached. Real nbformat, nbclient, ipykernel and OpenMM.
"""

from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient
from notebooks import run_cells, text_of

import kenkyu.tools.md as md
from kenkyu.assistant.export import export_report

RUN_DIR = "md_runs/villin_1vii_implicit"


def _turns(structure: str) -> list[dict]:
    run = {
        "structure": structure,
        "ps": 1.0,
        "solvent": "implicit",
        "nvt_ps": 0.2,
        "report_interval_ps": 0.1,
        "seed": 5,
        "reproducible": True,
    }
    return [
        {"text": "A 1 ps run first.", "tool_calls": [{"name": "md_run", "arguments": run}]},
        {
            "text": "One more picosecond.",
            "tool_calls": [{"name": "md_extend", "arguments": {"run": RUN_DIR, "ps": 1.0}}],
        },
        {
            "text": "How far did it move?",
            "tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": RUN_DIR}}],
        },
        {"text": "It stays close to the start over 2 ps."},
    ]


def _cell(report, tool: str):
    return next(c for c in report.cells if c.cell_type == "code" and c.metadata.get("kenkyu", {}).get("tool") == tool)


def _run_length(folder) -> tuple[float, int, int]:
    info = json.loads((folder / RUN_DIR / "run.json").read_text())
    return info["parameters"]["ps"], len(info.get("extensions", [])), md.MDRun(folder / RUN_DIR).n_frames


def test_a_report_with_an_extension_reruns_to_the_same_numbers(tmp_path, write_replay):
    replay = write_replay(_turns(str(md.example_structure("villin"))))
    _, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%ask\nSimulate villin for 1 ps, extend it by 1 ps, then the RMSD",
        ],
        tmp_path,
        name="villin.ipynb",
    )
    assert _run_length(tmp_path) == (2.0, 1, 20)

    paths = export_report(path)  # re-executed once, in its own folder: the run is made and extended there
    assert paths.executed
    folder = paths.ipynb.parent
    report = nbformat.read(paths.ipynb, as_version=4)
    extend = _cell(report, "md_extend")
    assert "kenkyu.tools.md.extend(run=run, to_ps=2.0)" in extend.source and "ps=1.0" not in extend.source
    assert f"md.extend: {RUN_DIR} extended from 1 to 2 ps of production (to_ps=2.0)" in text_of(extend)
    first = text_of(_cell(report, "analysis_rmsd"))
    assert _run_length(folder) == (2.0, 1, 20)

    # Run All again where it is, twice (a colleague opens it; then again tomorrow): same run, same numbers.
    for _ in range(2):
        again = nbformat.read(paths.ipynb, as_version=4)
        NotebookClient(
            again, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        ).execute()
        assert "already has 2 ps of production; left as it is, nothing simulated" in text_of(_cell(again, "md_extend"))
        assert text_of(_cell(again, "analysis_rmsd")) == first
        assert _run_length(folder) == (2.0, 1, 20)
