"""A %%ask approval box whose wait has ended is disabled and labelled "no longer asked", and the next cell runs.

A %%ask approval is ``input()`` under a time limit (``answer_within``); in JupyterLab it is the input box under the
cell. When the wait ends with no answer the kernel no longer reads the box, but JupyterLab leaves it there, still
editable: a newcomer typed y into it afterwards and believed the kernel had it (newcomer r10). kenkyu's JupyterLab
extension (labext/src/staleStdin.ts) disables a box still open under a cell whose execution has ended, and lifts
JupyterLab's pending-input guard, which refused every other cell until the stop button was pressed. Real
`jupyter lab`, Debian's Chromium; the prompt is kenkyu's own ``answer_within``, given 20 s.
"""

from __future__ import annotations

import nbformat
import pytest
from jupyterlab_browser import KERNELSPEC, chromium, notebook_page, rebuild_stale_extension, running_lab

pytestmark = pytest.mark.slow


def test_an_unanswered_approval_box_is_disabled_once_its_cell_has_finished(tmp_path):
    rebuild_stale_extension()
    root, private = tmp_path / "root", tmp_path / "private"
    root.mkdir()
    private.mkdir()
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext kenkyu"),
        nbformat.v4.new_code_cell(
            "from kenkyu.assistant.magics import answer_within\n"
            "answer = answer_within('Run md_run? It writes files. [y/N] ', 20)\n"
            "print('ANSWER=' + repr(answer))"
        ),
    ]
    nbformat.write(notebook, root / "stale.ipynb")
    with running_lab(root, private, {"provider": "replay"}) as lab, chromium() as browser:
        page = notebook_page(browser, lab, "stale.ipynb", viewport={"width": 1200, "height": 800})
        # Not awaited: the command's promise settles only when the cells have finished, after the wait.
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        box = page.locator(".jp-Stdin-input")
        box.wait_for(timeout=120_000)
        # While it asks, the box is the prompt's: editable, as JupyterLab made it.
        assert box.is_enabled(), page.locator(".jp-Cell").last.inner_text()
        assert box.get_attribute("placeholder") != "no longer asked"
        page.locator(".jp-OutputArea-output", has_text="ANSWER=None").wait_for(timeout=120_000)
        page.wait_for_function("() => document.querySelector('.jp-Stdin-input')?.disabled === true", timeout=30_000)
        assert box.get_attribute("placeholder") == "no longer asked"
        assert "Run the cell again" in box.get_attribute("title")
        # Seen without focus (JupyterLab hides an unfocused stdin placeholder).
        assert box.evaluate("e => getComputedStyle(e, '::placeholder').opacity") == "1"
        page.screenshot(path=str(private / "stale-stdin.png"))
        # JupyterLab's guard against a second prompt is lifted with it: another cell runs, with no "Cell not
        # executed due to pending input" dialog and no stop button pressed (newcomer r11).
        page.evaluate(
            "() => { const app = window.jupyterapp; const nb = app.shell.currentWidget.content;"
            " nb.activeCellIndex = nb.widgets.length - 1; app.commands.execute('notebook:insert-cell-below');"
            " nb.activeCell.model.sharedModel.setSource(\"print('NEXT CELL RAN')\");"
            " app.commands.execute('notebook:run-cell'); }"
        )
        page.locator(".jp-OutputArea-output", has_text="NEXT CELL RAN").wait_for(timeout=60_000)
        assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()
