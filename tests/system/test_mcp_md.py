"""`kenkyu mcp` with real simulations: a 2 ps villin run and its RMSD through the SDK's client, the run
folder read as a resource, progress while it runs, a cancelled run resumed, and the session notebook
exported as a report that re-runs with no LLM and gives the same numbers."""

from __future__ import annotations

import json

import anyio
import nbformat
import pytest

pytest.importorskip("mcp")
pytest.importorskip("openmm")
from mcp import Client

from test_mcp_server import SHORT_RUN, code_cells, stdio, text, villin

pytestmark = pytest.mark.slow


def run_status(folder) -> str:
    return json.loads((folder / "md_runs/villin_1vii_implicit/run.json").read_text())["status"]


def rmsd_values(cell) -> str:
    """The RMSD table as the cell's result shows it."""
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result.data["text/plain"]


def test_simulation_analysis_resource_and_report(tmp_path):
    notebook = tmp_path / "session.ipynb"
    progress = []

    async def on_progress(done, total, message):
        progress.append((done, total, message))

    async def session():
        async with Client(stdio(notebook)) as client:
            run = await client.call_tool("md_run", {"structure": villin(), **SHORT_RUN}, progress_callback=on_progress)
            rmsd = await client.call_tool("analysis_rmsd", {"trajectory": "md_runs/villin_1vii_implicit"})
            listed = [str(r.uri) for r in (await client.list_resources()).resources]
            summary = await client.read_resource("kenkyu://run/md_runs/villin_1vii_implicit/summary")
            state = await client.read_resource("kenkyu://run/md_runs/villin_1vii_implicit/state.csv")
            with pytest.raises(Exception, match="outside the session folder"):
                await client.read_resource("kenkyu://run/../../etc/summary")
            return run, rmsd, listed, summary.contents[0].text, state.contents[0].text

    run, rmsd, listed, summary, state = anyio.run(session)
    assert not run.is_error, text(run)
    assert not rmsd.is_error and "RMSD" in text(rmsd)
    assert "kenkyu://run/md_runs/villin_1vii_implicit/final.pdb" in listed
    assert "finished" in summary and "villin" in summary
    assert state.startswith("#") and "Speed (ns/day)" in state and len(state.splitlines()) == 11  # 2 ps / 0.2 ps
    # Progress came while it ran: production steps with the speed and the time left.
    assert progress and progress[-1][0] <= progress[-1][1] == 1000
    assert any("ns/day" in m and "ETA" in m for _, _, m in progress)

    # The notebook is the record: the two calls as cells with their outputs, re-run as a report with no LLM.
    from kenkyu.assistant.export import export_report

    cells = code_cells(notebook)
    assert [c.metadata["kenkyu"]["tool"] for c in cells] == ["md_run", "analysis_rmsd"]
    paths = export_report(notebook, html=False, timeout=600)
    assert paths.executed
    report = nbformat.read(paths.ipynb, as_version=4)
    rerun = [c for c in report.cells if c.cell_type == "code" and c.metadata.get("kenkyu", {}).get("tool")]
    assert rmsd_values(rerun[-1]) == rmsd_values(cells[-1])


def test_cancelled_simulation_interrupts_the_kernel_and_resumes(tmp_path):
    notebook = tmp_path / "session.ipynb"
    arguments = {"structure": villin(), **SHORT_RUN}

    async def session():
        async with Client(stdio(notebook)) as client:
            producing = anyio.Event()

            async def on_progress(done, total, message):
                if done >= 300:  # past the first checkpoint (0.4 ps = 200 steps)
                    producing.set()

            async with anyio.create_task_group() as tg:

                async def call():
                    await client.call_tool("md_run", arguments, progress_callback=on_progress)

                tg.start_soon(call)
                with anyio.fail_after(300):
                    await producing.wait()
                tg.cancel_scope.cancel()
            # The server answers the cancellation with Ctrl-C in the kernel; the run records it ...
            with anyio.fail_after(60):
                while (status := run_status(tmp_path)) == "running":
                    await anyio.sleep(0.2)
            # ... and the kernel is alive: the same call with resume=True continues from the checkpoint.
            resumed = await client.call_tool("md_run", {**arguments, "resume": True})
            return status, resumed

    status, resumed = anyio.run(session)
    assert status == "interrupted"
    assert not resumed.is_error, text(resumed)
    assert run_status(tmp_path) == "finished"
    cells = nbformat.read(notebook, as_version=4).cells
    cancelled = [c for c in cells if c.metadata.get("kenkyu", {}).get("status") == "cancelled"]
    assert len(cancelled) == 1 and "RunInterrupted" in cancelled[0].source and "resume=True" in cancelled[0].source
    (ran,) = code_cells(notebook)
    assert "resume=True" in ran.source
