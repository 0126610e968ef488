"""The 3D viewer in a real JupyterLab: a structure shown with kenkyu.tools.viz appears as a WebGL canvas.

nglview 4.0.x asks the browser for a JavaScript module version its own JupyterLab extension does not
register (upstream nglview#1172); without kenkyu's fix the output cell stays empty, with the error only in
the browser console. This test opens the notebook a scientist would write and looks for the view.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from jupyterlab_browser import KERNELSPEC, chromium, running_lab
from kenkyu.tools import md

pytestmark = pytest.mark.slow


def test_a_structure_view_renders_in_jupyterlab(tmp_path):
    root, private = tmp_path / "root", tmp_path / "private"
    root.mkdir()
    private.mkdir()
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    villin = md.example_structure("villin")
    notebook.cells = [
        nbformat.v4.new_code_cell(f"from kenkyu.tools import viz\nview = viz.show_structure({str(villin)!r})\nview")
    ]
    nbformat.write(notebook, root / "view.ipynb")
    with running_lab(root, private, {"provider": "replay"}) as lab, chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{lab['url']}/lab/tree/view.ipynb?token={lab['token']}", timeout=120_000)
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        # Run once the kernel is up (the status bar says Idle), as a person presses Shift+Enter.
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=120_000,
        )
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        canvas = page.locator(".jp-OutputArea-output canvas")
        deadline = time.monotonic() + 120
        while canvas.count() == 0 and time.monotonic() < deadline:
            time.sleep(1)
        refused = [line.splitlines()[0] for line in console if "nglview-js-widgets" in line]
        assert canvas.count() == 1, f"no 3D view in the output; browser console: {refused or console[-5:]}"
        assert not refused, refused
