"""Which files a report's cells name are copied into its folder, and which never are."""

from __future__ import annotations

import pytest

from kenkyu.assistant.report_inputs import (
    Inputs,
    ReportInputConflict,
    built_path,
    copy_inputs,
    named_paths,
    rewrite_paths,
)


def test_named_paths_reads_literals_and_local_imports_not_magics():
    source = "%matplotlib inline\nimport helpers.sub\nfrom units import nm\nt = load('data/x.pdb', sel='protein')"
    assert named_paths(source) == ["data/x.pdb", "protein", "helpers.py", "units.py"]
    assert named_paths("this is not python (") == []
    assert named_paths("open('/abs/path.pdb')") == ["/abs/path.pdb"]  # copied like one from outside the folder


def test_copy_inputs_copies_named_files_only(tmp_path):
    notebook, report = tmp_path / "F", tmp_path / "F" / "F_report"
    (notebook / "data").mkdir(parents=True)
    report.mkdir()
    (notebook / "data" / "x.pdb").write_text("ATOM\n")
    (notebook / "md_runs" / "run").mkdir(parents=True)  # a folder: made by a step the report re-runs
    (notebook / ".env").write_text("OPENAI_API_KEY=sk-abc\n")
    (notebook / "api_key.txt").write_text("sk-abc\n")
    (tmp_path / "outside.pdb").write_text("ATOM\n")
    cells = [
        "load('data/x.pdb')",
        "load('md_runs/run')",
        "dotenv('.env'); read('api_key.txt')",
        "load('../outside.pdb')",
    ]

    # A file outside the notebook's folder goes to the report's inputs/ (never to ../ of the report).
    assert copy_inputs(cells, notebook, report) == Inputs(("data/x.pdb",), {"../outside.pdb": "inputs/outside.pdb"})
    assert (report / "data" / "x.pdb").read_text() == "ATOM\n"
    assert (report / "inputs" / "outside.pdb").read_text() == "ATOM\n" and not (notebook / "outside.pdb").exists()
    assert not (report / ".env").exists() and not (report / "api_key.txt").exists()
    assert not (report / "md_runs").exists()
    again = copy_inputs(cells, notebook, report)  # already there, the same files
    assert again == Inputs((), {"../outside.pdb": "inputs/outside.pdb"})
    assert copy_inputs(cells, notebook, notebook) == Inputs()  # a report beside the notebook reads the originals

    (report / "data" / "x.pdb").write_text("something else\n")
    with pytest.raises(ReportInputConflict, match=r"'data/x.pdb'.*differs"):
        copy_inputs(cells, notebook, report)


def test_outside_files_of_one_name_get_names_of_their_own_and_the_cells_read_the_copies(tmp_path):
    notebook, report = tmp_path / "work" / "F", tmp_path / "work" / "F" / "F_report"
    notebook.mkdir(parents=True)
    for folder, text in (("a", "ATOM a\n"), ("b", "ATOM b\n")):
        (tmp_path / "work" / folder).mkdir()
        (tmp_path / "work" / folder / "x.pdb").write_text(text)
    (tmp_path / "work" / ".secrets").mkdir()
    (tmp_path / "work" / ".secrets" / "x.pdb").write_text("hidden\n")
    source = "t = load('../a/x.pdb')\n!head '../a/x.pdb'\nu = load(\"../b/x.pdb\", '../.secrets/x.pdb')  # '../a/x.pdb'"
    inputs = copy_inputs([source], notebook, report)
    assert inputs.outside == {"../a/x.pdb": "inputs/x.pdb", "../b/x.pdb": "inputs/x_2.pdb"}
    assert (report / "inputs" / "x_2.pdb").read_text() == "ATOM b\n" and not (report / "inputs" / "x_3.pdb").exists()
    assert rewrite_paths(source, inputs.outside) == (
        "t = load('inputs/x.pdb')\n"
        "!head '../a/x.pdb'\n"  # a shell line is not Python: left as it is
        "u = load('inputs/x_2.pdb', '../.secrets/x.pdb')  # '../a/x.pdb'"  # comments untouched
    )


def test_built_path_names_expressions_that_make_a_path_at_run_time():
    assert built_path("p = os.path.join(DATA, name + '.pdb')") == "os.path.join(DATA, name + '.pdb')"
    assert built_path("t = load(Path(folder) / 'x.pdb')") == "Path(folder) / 'x.pdb'"
    assert built_path("t = load(f'{DATA}/{name}.pdb')") == "f'{DATA}/{name}.pdb'"
    assert built_path("t = load(name + '.pdb')") == "name + '.pdb'"
    # Literals, sentences and number formats are not paths built at run time.
    for source in ("t = load('data/x.pdb')", "print(f'{n} frames in total, {x:.3f} nm')", "y = a / 2", "z = a + b"):
        assert built_path(source) is None, source


def test_absolute_paths_are_copied_like_paths_from_outside_and_the_cells_read_the_copies(tmp_path):
    notebook, report, data = tmp_path / "F", tmp_path / "F" / "F_report", tmp_path / "data"
    notebook.mkdir()
    data.mkdir()
    (data / "x.pdb").write_text("ATOM outside\n")
    (notebook / "y.pdb").write_text("ATOM inside\n")
    outside, inside = str(data / "x.pdb"), str(notebook / "y.pdb")
    source = f"t = load({outside!r})\nu = load({inside!r})\nv = load('/no/such/file.pdb')"
    inputs = copy_inputs([source], notebook, report)
    assert inputs.outside == {outside: "inputs/x.pdb"} and (report / "inputs" / "x.pdb").read_text() == "ATOM outside\n"
    assert inputs.copied == ("y.pdb",) and inputs.absolute_inside == {inside: "y.pdb"}
    assert rewrite_paths(source, inputs.renamed) == (
        "t = load('inputs/x.pdb')\nu = load('y.pdb')\nv = load('/no/such/file.pdb')"  # a missing one is left
    )


def test_files_in_a_run_folder_a_step_of_the_report_makes_are_not_copied(tmp_path):
    notebook, report = tmp_path / "F", tmp_path / "F" / "F_report"
    for run, marker in (("md_runs/cg", "cg.json"), ("md_runs/old", "run.json")):
        (notebook / run).mkdir(parents=True)
        (notebook / run / marker).write_text("{}")
        (notebook / run / "native.pdb").write_text("ATOM\n")
    cells = ["t1 = md.load('md_runs/cg/native.pdb')", "t0 = md.load('md_runs/old/native.pdb')"]
    inputs = copy_inputs(cells, notebook, report, made_by_steps=lambda folder: folder == "md_runs/cg")
    # md_runs/cg is made again by the report's own step: a copy there would stop it at "already exists".
    assert inputs.remade == ("md_runs/cg/native.pdb",) and not (report / "md_runs" / "cg").exists()
    # A run no step of the report makes (an earlier session's) is an input like any other file.
    assert inputs.copied == ("md_runs/old/native.pdb",) and (report / "md_runs" / "old" / "native.pdb").exists()


def test_a_folder_the_cells_read_is_copied_with_its_files_but_not_a_run_folder_or_the_notebooks(tmp_path):
    notebook, report = tmp_path / "F", tmp_path / "F" / "F_report"
    (notebook / "notes").mkdir(parents=True)
    (notebook / "notes" / "villin.md").write_text("# Villin\n")
    (notebook / "notes" / ".secret_key").write_text("sk-abc\n")
    (notebook / "md_runs" / "a").mkdir(parents=True)
    (notebook / "md_runs" / "a" / "run.json").write_text("{}")
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "villin.bib").write_text("@article{x}\n")
    cells = ["literature.ingest('notes/')", "rmsd('md_runs'); ls('.'); ls('..'); ingest('../refs')"]
    inputs = copy_inputs(cells, notebook, report)
    # newcomer R7 O7: the report's literature.ingest('notes/') failed with "notes/ does not exist".
    assert inputs.copied == ("notes",) and (report / "notes" / "villin.md").read_text() == "# Villin\n"
    assert not (report / "notes" / ".secret_key").exists() and not (report / "md_runs").exists()
    assert inputs.outside == {"../refs": "inputs/refs"} and (report / "inputs" / "refs" / "villin.bib").exists()
    assert rewrite_paths(cells[1], inputs.renamed).endswith("ingest('inputs/refs')")
