"""`kenkyu demo`: the whole path offline, on the embedded model.

It writes a notebook that asks questions about the villin headpiece in ``%%ask`` cells, runs it in a
real kernel (the embedded model routes each request to kenkyu's tools; OpenMM and mdtraj do the
work), then exports the record as a report that re-runs from a fresh kernel with no LLM.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

DEMO_INTRO = """\
# kenkyu demo: the villin headpiece

Written and run by `kenkyu demo`. Each `%%ask` cell is answered by **{provider}**, which calls
kenkyu's tools in this kernel; every call is shown with its code and outputs. The report exported
beside this notebook holds the same steps as plain Python cells and re-runs without any LLM.

The demo runs unattended, so it sets `%kenkyu approval auto`; in your own work keep the default
(`ask`), and simulations wait for your OK.
"""


def demo_cells(provider: str = "local", replay: str | None = None) -> list[tuple[str, str]]:
    """The demo notebook as (cell_type, source) pairs."""
    chosen = f"replay {os.path.abspath(replay)}" if provider == "replay" else provider
    description = "the embedded offline model (SmolLM2-135M on llama.cpp)" if provider == "local" else provider
    return [
        ("markdown", DEMO_INTRO.format(provider=description)),
        ("code", f"%load_ext kenkyu\n%kenkyu provider {chosen}\n%kenkyu approval auto"),
        ("code", "import os\n\nimport kenkyu.tools.md\n\n"
                 "# A small protein shipped with kenkyu (PDB 1VII, 36 residues).\n"
                 "structure = str(kenkyu.tools.md.example_structure('villin'))"),
        ("markdown", "## Do: simulate\nA short run in implicit solvent. *Reproducible* (one CPU thread) with a fixed "
                     "seed, so the exported report re-runs to the same numbers."),
        ("code", "%%ask\nRun a reproducible 10 ps simulation of {structure} in implicit solvent with seed 2026 "
                 "after a 2 ps NVT equilibration"),
        ("markdown", "## Check: analyse the trajectory"),
        ("code", "# The run directory, relative, so the report analyses its own re-run.\n"
                 "run_dir = os.path.relpath(run.directory)\nrun_dir"),
        ("code", "%%ask\nCompute the RMSD of {run_dir}, then the radius of gyration of {run_dir}, "
                 "then the RMSF of {run_dir}"),
        ("code", "%kenkyu history"),
    ]


def build_demo_notebook(provider: str = "local", replay: str | None = None):
    import nbformat.v4 as v4

    cells = [v4.new_markdown_cell(src) if kind == "markdown" else v4.new_code_cell(src)
             for kind, src in demo_cells(provider, replay)]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


DEMO_MARK = ".kenkyu-demo"


def _fresh_demo_folder(out: Path) -> None:
    """Each demo starts clean (its simulations would otherwise meet their own earlier run folders);
    only a folder an earlier demo made is ever cleared."""
    if out.exists() and any(out.iterdir()):
        if not (out / DEMO_MARK).exists():
            raise FileExistsError(f"{out} exists and is not a kenkyu demo folder; choose another with --out")
        import shutil

        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARK).write_text("made by `kenkyu demo`; the next demo run replaces this folder\n")


def run_demo(out: str | os.PathLike = "demo_out", provider: str = "local", replay: str | None = None,
             timeout: int = 1800):
    """Build, run and export the demo; print where everything is. Returns the report paths."""
    import nbformat
    from nbclient import NotebookClient

    from kenkyu.assistant.export import _write_atomically, export_report

    out = Path(out).resolve()
    _fresh_demo_folder(out)
    notebook_path = out / "demo.ipynb"
    nb = build_demo_notebook(provider, replay)
    total = len(nb.cells)
    started = time.perf_counter()

    def on_cell_start(cell, cell_index, **kwargs):
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        print(f"[{cell_index + 1}/{total}] {first[:90]}", flush=True)

    print(f"kenkyu demo: running {notebook_path} (provider: {provider})", flush=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(out)}},
                            on_cell_start=on_cell_start)
    try:
        client.execute()
    finally:
        # Whatever happened, keep what was computed.
        _write_atomically(notebook_path, nbformat.writes(nb))
    print(f"demo notebook ran in {time.perf_counter() - started:.0f} s", flush=True)

    print("exporting the report and re-running it from a fresh kernel (no LLM)...", flush=True)
    report = export_report(notebook_path, out / "report" / "demo.report.ipynb", timeout=timeout)
    print()
    print(f"demo notebook  : {notebook_path}")
    print(report)
    return report


if __name__ == "__main__":
    run_demo(*(sys.argv[1:2] or ["demo_out"]))
