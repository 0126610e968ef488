"""`kenkyu demo` (what `make demo` runs): offline, on the embedded model, end to end."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kenkyu.assistant.session import RECORD_MIME

pytestmark = [pytest.mark.slow, pytest.mark.embedded_llm]


def action_results(cells) -> dict[str, str]:
    out = {}
    for cell in cells:
        tool = cell["metadata"].get("kenkyu", {}).get("tool")
        if cell["cell_type"] == "code" and tool:
            out[tool] = next(o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result")
    return out


def sections(cells) -> list[str]:
    return [
        c["metadata"]["kenkyu"]["section"]
        for c in cells
        if c["cell_type"] == "markdown" and c.get("metadata", {}).get("kenkyu", {}).get("section")
    ]


def test_demo_runs_the_research_loop_offline_and_its_report_reproduces_the_numbers(tmp_path):
    kenkyu = Path(sys.executable).with_name("kenkyu")
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    result = subprocess.run(
        [str(kenkyu), "demo", "--out", str(tmp_path / "demo")], capture_output=True, text=True, timeout=1500, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "report notebook:" in out and "re-executed from a fresh kernel: yes" in out
    assert "md_run (~" in out and "approved automatically" in out
    assert "Check :" in out and "Act   : the hypothesis is" in out

    demo = nbformat.read(tmp_path / "demo" / "demo.ipynb", as_version=4)
    records = [
        o["data"][RECORD_MIME] for c in demo.cells for o in c.get("outputs", []) if RECORD_MIME in o.get("data", {})
    ]
    assert [(r["kind"], r["model"]) for r in records] == [("research", "SmolLM2-135M-Instruct.Q4_1")]
    record = records[0]
    # The embedded model, helped by kenkyu's routing, turned every sentence into the right tool call.
    assert [s["tool"] for s in record["plan"]["steps"]] == [
        "md_run",
        "analysis_rmsd",
        "analysis_radius_of_gyration",
        "analysis_rmsf",
        "literature_ask",
    ]
    assert sections(record["cells"]) == ["plan", "do", "check", "act"]
    recorded = action_results(record["cells"])
    assert list(recorded) == [
        "md_run",
        "analysis_rmsd",
        "analysis_radius_of_gyration",
        "analysis_rmsf",
        "literature_ask",
    ]
    checks = {(c["step"], c["expectation"]): c["status"] for c in record["check"]}
    assert checks[("md_run", "the run finishes all its production frames (no blow-up)")] == "pass"
    assert checks[("literature_ask", "the literature returns cited evidence for the question")] == "pass"
    act = record["cells"][-1]["source"]
    assert "**Verdict: the hypothesis is" in act and "[1]" in act and "villin" in act and "Next plan" in act
    md_cell = next(c for c in record["cells"] if c["metadata"].get("kenkyu", {}).get("tool") == "md_run")
    md_markdown = next(o["data"]["text/markdown"] for o in md_cell["outputs"] if o["output_type"] == "execute_result")
    assert "production: 10 frames = 10 ps" in md_markdown

    report_path = tmp_path / "demo" / "report" / "demo.report.ipynb"
    report = nbformat.read(report_path, as_version=4)
    nbformat.validate(report)
    assert report_path.with_suffix(".html").exists()
    assert sections(report.cells) == ["plan", "do", "check", "act"]
    rerun = action_results(report.cells)
    for tool in ("analysis_rmsd", "analysis_radius_of_gyration", "analysis_rmsf"):
        assert rerun[tool] == recorded[tool], tool

    def check_text(cells):
        cell = next(
            c for c in cells if c["cell_type"] == "code" and c["metadata"].get("kenkyu", {}).get("section") == "check"
        )
        return next(o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result")

    assert check_text(report.cells) == check_text(record["cells"])  # the same verdicts from the re-run
    # The steps follow their own results, not the original run's folder written as a string.
    steps = {
        c["metadata"]["kenkyu"]["tool"]: c.source for c in report.cells if c["metadata"].get("kenkyu", {}).get("tool")
    }
    assert "structure=structure" in steps["md_run"]
    for tool in ("analysis_rmsd", "analysis_radius_of_gyration", "analysis_rmsf"):
        assert "trajectory=run" in steps[tool] and "md_runs/" not in steps[tool], steps[tool]

    rerun_with_another_protein(report_path, env, tmp_path, recorded)


def rerun_with_another_protein(report_path, env, tmp_path, recorded):
    """`papermill report.ipynb out.ipynb -p structure OTHER.pdb`: every cell runs, on the new protein.

    The other protein is the first 30 residues of DHFR (PDB 5DFR, shipped with kenkyu): a different
    chain, small enough that its 10 ps re-run takes about a minute on a CPU (the whole enzyme would take
    tens). The original run's folder lies beside the report, so reading it by name would pass silently
    with villin's numbers; the counts below tell the proteins apart."""
    import mdtraj

    from kenkyu.tools.md import example_structure

    dhfr = mdtraj.load(str(example_structure("dhfr")))
    fragment = dhfr.atom_slice(dhfr.topology.select("resid 0 to 29"))
    other = tmp_path / "dhfr_1_30.pdb"
    fragment.save_pdb(str(other))
    out = tmp_path / "dhfr_report.ipynb"
    papermill = Path(sys.executable).with_name("papermill")
    result = subprocess.run(
        [str(papermill), str(report_path), str(out), "-p", "structure", str(other), "--cwd", str(report_path.parent)],
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rerun = nbformat.read(out, as_version=4)
    errors = [o for c in rerun.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    results = action_results(rerun.cells)
    md_markdown = next(
        o["data"]["text/markdown"]
        for c in rerun.cells
        if c["metadata"].get("kenkyu", {}).get("tool") == "md_run"
        for o in c.outputs
        if o.output_type == "execute_result"
    )
    assert "MD run md_runs/dhfr_1_30_implicit (finished)" in md_markdown and "596 atoms" not in md_markdown
    assert "production: 10 frames = 10 ps" in md_markdown

    def residues(table_text):  # the RMSF table has one row per residue (pandas prints all of them)
        return len(table_text.strip().splitlines()) - 1

    assert residues(recorded["analysis_rmsf"]) == 36 and residues(results["analysis_rmsf"]) == 30
    assert "MET41" in recorded["analysis_rmsf"] and "MET41" not in results["analysis_rmsf"]
    assert results["analysis_rmsd"] != recorded["analysis_rmsd"]


def test_a_second_demo_starts_clean_but_never_clears_a_foreign_folder(tmp_path):
    from kenkyu.demo import DEMO_MARK, _fresh_demo_folder

    earlier = tmp_path / "demo"
    _fresh_demo_folder(earlier)
    (earlier / "md_runs").mkdir()
    _fresh_demo_folder(earlier)
    assert sorted(p.name for p in earlier.iterdir()) == [DEMO_MARK]
    foreign = tmp_path / "my_results"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="not a kenkyu demo folder"):
        _fresh_demo_folder(foreign)
    assert (foreign / "thesis.tex").read_text() == "precious"
