"""The re-run command an export prints runs where a scientist pastes it: in a notebook cell (`!...`) of a
JupyterLab started as `.venv/bin/jupyter lab`, whose kernels' PATH does not hold the venv (newcomer r12: the
printed `papermill ...` said "command not found")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from kenkyu.assistant.export import ReportPaths


def _report(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "session_report" / "session.report.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    return path


def test_the_printed_command_re_runs_the_report_without_the_venv_on_path(tmp_path, monkeypatch):
    report = _report(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # a kernel's PATH when the venv was never activated
    command = ReportPaths(ipynb=report, html=None, executed=False).rerun_command()
    assert command.startswith(f"{sys.executable} -m papermill "), command

    shell = subprocess.run(command, shell=True, cwd=tmp_path, env={**os.environ}, capture_output=True, text=True)
    assert shell.returncode == 0, shell.stderr[-2000:]
    rerun = nbformat.read(tmp_path / "session_report" / "rerun.ipynb", as_version=4)
    assert "42" in rerun.cells[0].outputs[0]["text"]


def test_with_the_venv_on_path_the_command_is_plain_papermill(tmp_path, monkeypatch):
    report = _report(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin")
    command = ReportPaths(ipynb=report, html=None, executed=False).rerun_command()
    assert command.split()[0] == "papermill", command
