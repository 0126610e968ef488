"""`kenkyu demo`: the whole path offline, on the embedded model.

It writes a notebook that puts a research question about the villin headpiece to ``%%research``, runs it in a
real kernel (the embedded model routes each request to kenkyu's tools; OpenMM and mdtraj do the
work), then exports the record as a report that re-runs from a fresh kernel with no LLM.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

DEMO_INTRO = """\
# kenkyu demo: a research loop on the villin headpiece

Written and run by `kenkyu demo`. The `%%research` cell below is handled by **{provider}** and kenkyu:
it writes a **Plan** (hypothesis, steps with their tools, expected cost, what would support or refute
the hypothesis), asks for approval before the simulation, runs the steps (**Do**) as action cells in
this kernel, **Check**s the results against the plan's expectations, and **Act**s: the verdict, the
tools' own summaries, the literature with citations, revised hypotheses and the next plan.

The report exported beside this notebook keeps the four sections as plain Python and re-runs
without any LLM.

The demo runs unattended, so it sets `%kenkyu approval auto` and the simulation is **approved
automatically**; in your own work keep the default (`ask`): the plan shows the expected cost and
waits for your OK.
"""

DEMO_QUESTION = (
    "Does the villin headpiece keep its fold in a short implicit-solvent simulation? "
    "Run a reproducible 10 ps simulation of {structure} in implicit solvent with seed 2026 after a 2 ps NVT "
    "equilibration, then compute the RMSD of the trajectory, then its radius of gyration, then the RMSF per "
    "residue, then ask the literature how the villin headpiece folds and what holds its core together"
)


def corpus_folder() -> Path:
    """The demo's small literature corpus: reading notes on the villin headpiece and a .bib."""
    from importlib import resources

    return Path(str(resources.files("kenkyu") / "data" / "literature"))


def demo_cells(provider: str = "local", replay: str | None = None) -> list[tuple[str, str]]:
    """The demo notebook as (cell_type, source) pairs."""
    chosen = f"replay {os.path.abspath(replay)}" if provider == "replay" else provider
    description = "the embedded offline model (SmolLM2-135M on llama.cpp)" if provider == "local" else provider
    return [
        ("markdown", DEMO_INTRO.format(provider=description)),
        ("code", f"%load_ext kenkyu\n%kenkyu provider {chosen}\n%kenkyu approval auto"),
        (
            "code",
            "import kenkyu.demo\nimport kenkyu.tools.literature\nimport kenkyu.tools.md\n\n"
            "# A small protein shipped with kenkyu (PDB 1VII, 36 residues).\n"
            "structure = str(kenkyu.tools.md.example_structure('villin'))\n"
            "# The scientist's reading notes on villin (Markdown and a .bib), indexed for the literature tool.\n"
            "library = kenkyu.tools.literature.ingest([str(kenkyu.demo.corpus_folder())], index='literature_index',\n"
            "                                         progress=False)\n"
            "library",
        ),
        ("code", "%%research\n" + DEMO_QUESTION),
    ]


def build_demo_notebook(provider: str = "local", replay: str | None = None):
    import nbformat.v4 as v4

    cells = [
        v4.new_markdown_cell(src) if kind == "markdown" else v4.new_code_cell(src)
        for kind, src in demo_cells(provider, replay)
    ]
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


def run_demo(
    out: str | os.PathLike = "demo_out", provider: str = "local", replay: str | None = None, timeout: int = 1800
):
    """Build, run and export the demo; print where everything is. Returns the report paths."""
    import nbformat
    from nbclient import NotebookClient

    from kenkyu.assistant.export import export_report
    from kenkyu.core.files import write_text_atomically

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
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(out)}},
        on_cell_start=on_cell_start,
    )
    try:
        client.execute()
    finally:
        # Whatever happened, keep what was computed.
        write_text_atomically(notebook_path, nbformat.writes(nb))
    print(f"demo notebook ran in {time.perf_counter() - started:.0f} s", flush=True)
    for line in research_summary(nb):
        print(line, flush=True)

    print("exporting the report and re-running it from a fresh kernel (no LLM)...", flush=True)
    report = export_report(notebook_path, out / "report" / "demo.report.ipynb", timeout=timeout)
    print()
    print(f"demo notebook  : {notebook_path}")
    print(report)
    return report


def research_summary(nb) -> list[str]:
    """What the research loop did, from the record in the notebook's outputs: for the terminal."""
    from kenkyu.assistant.session import RECORD_MIME

    records = [
        o["data"][RECORD_MIME]
        for c in nb.cells
        for o in c.get("outputs", [])
        if RECORD_MIME in o.get("data", {}) and o["data"][RECORD_MIME].get("kind") == "research"
    ]
    if not records:
        return ["research loop: no record (see the notebook for the error)"]
    record = records[-1]
    plan = record.get("plan") or {}
    steps = [s["tool"] or "unmatched" for s in plan.get("steps", [])]
    lines = [
        f"Plan  : {len(steps)} steps ({', '.join(steps)}), planned by {record.get('model')}; "
        f"hypothesis: {plan.get('hypothesis', '?')[:240]}"
    ]
    do = next((c["source"] for c in record["cells"] if c["metadata"].get("kenkyu", {}).get("section") == "do"), "")
    approvals = [
        line.strip("- ").replace("`", "") for line in do.splitlines() if "approved" in line or "declined" in line
    ]
    ran = sum(1 for c in record["cells"] if c["cell_type"] == "code" and c["metadata"].get("kenkyu", {}).get("tool"))
    lines.append(f"Do    : {ran} action cells" + (f"; {'; '.join(approvals)}" if approvals else ""))
    checks = record.get("check") or []
    counts = {}
    for c in checks:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    lines.append("Check : " + (", ".join(f"{n} {s}" for s, n in counts.items()) or "no checks"))
    lines += [f"        [{c['status']}] {c['step']}: {c['detail'][:110]}" for c in checks if c["status"] != "pass"]
    lines.append(
        f"Act   : the hypothesis is {record.get('verdict', '?')}"
        + ("; a next plan is proposed (%research --next)" if record.get("next_plan") else "")
    )
    return lines


if __name__ == "__main__":
    run_demo(*(sys.argv[1:2] or ["demo_out"]))
