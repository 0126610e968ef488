"""Two things a newcomer met with %%ask cells in a real JupyterLab and Chromium (newcomer r11), as a person meets them.

An approval box left unanswered: after the wait the request is cancelled, but JupyterLab kept its guard against a
second prompt and refused to run any other cell of the notebook ("Cell not executed due to pending input"), while
kenkyu's message said only that the box no longer asks. The message now says how to go on where that happens (the
stop button once; kenkyu's own extension lifts the guard), and the next cell runs.

A failed tool's one-line error is shown as Markdown: a message naming ``$KENKYU_MODELS`` twice (ESM-2's missing-model
error) came out as TeX math, a line of run-together italic letters, and ``<NULL>`` would be an HTML tag that shows
nothing. It now reads as the tool wrote it.

Only the LLM is scripted (replay); the kernel, the tools, JupyterLab and the browser are real. The cells are run with
Shift+Enter, as a person runs them, never by an awaited run-all.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from jupyterlab_browser import KERNELSPEC, chromium, notebook_page, run_cell, running_lab
from jupyterlab_browser import notebook_cell as cell
from jupyterlab_browser import wait_executed as browser_wait_executed

from kenkyu.tools import md

pytestmark = pytest.mark.slow

# The unanswered prompt's wait: short, so the test waits seconds for the cancellation.
WAIT_S = 5
# What the failing notebook tool raises: two $ (TeX math to JupyterLab) and an angle-bracketed word (an HTML tag).
MESSAGE = "Looked in: $KENKYU_MODELS (not set); copy the file into $KENKYU_MODELS; OpenMM said <NULL>"
FAILING_TOOL = f'''import kenkyu

@kenkyu.tool()
def locate_models() -> str:
    """Find the model files on this machine."""
    raise FileNotFoundError({MESSAGE!r})'''
SETUP, ERROR_PROVIDER, ERROR_ASK, BOX_PROVIDER, BOX_ASK, NEXT = range(6)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root, private = tmp_path_factory.mktemp("stuck_root"), tmp_path_factory.mktemp("stuck_private")
    shutil.copy(md.example_structure("villin"), root / "villin.pdb")
    error_replay, box_replay = root / "error.json", root / "box.json"
    error_replay.write_text(
        json.dumps({"turns": [{"tool_calls": [{"name": "locate_models", "arguments": {}}]}, {"text": "Done."}]})
    )
    prepare = {"name": "structure_prepare_for_md", "arguments": {"prediction": "villin.pdb", "out": "villin_box.pdb"}}
    box_replay.write_text(json.dumps({"turns": [{"tool_calls": [prepare]}, {"text": "Reply after the box."}]}))
    sources = [
        f"%load_ext kenkyu\n%kenkyu approval ask --wait {WAIT_S}\n{FAILING_TOOL}",
        f"%kenkyu provider replay {error_replay}",
        "%%ask\nwhere are my models?",
        f"%kenkyu provider replay {box_replay}",
        "%%ask\nmake villin.pdb ready for a simulation",
        "print('the next cell ran')",
    ]
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, root / "newcomer.ipynb")
    with running_lab(root, private, {}) as server:  # no sidebar settings: the cells choose the provider
        yield server


@pytest.fixture(scope="module")
def page(lab):
    with chromium() as browser:
        page = notebook_page(browser, lab, "newcomer.ipynb")
        run_cell(page, SETUP)
        wait_executed(page, SETUP)
        yield page


def wait_executed(page, index: int) -> None:
    browser_wait_executed(page, index, timeout_s=180)


def test_a_tools_error_reads_as_written_not_as_math(lab, page):
    run_cell(page, ERROR_PROVIDER)
    wait_executed(page, ERROR_PROVIDER)
    run_cell(page, ERROR_ASK)
    wait_executed(page, ERROR_ASK)
    error_line = cell(page, ERROR_ASK).locator(".jp-OutputArea-output", has_text="full traceback")
    shown = error_line.inner_text()
    assert f"FileNotFoundError: {MESSAGE}" in shown, shown
    # JupyterLab typesets $...$ with MathJax: none of it in the error's output.
    assert error_line.locator("mjx-container, .MathJax").count() == 0, error_line.inner_html()


def test_after_an_unanswered_box_the_message_says_how_to_run_the_next_cell_and_that_works(lab, page):
    run_cell(page, BOX_PROVIDER)
    wait_executed(page, BOX_PROVIDER)
    run_cell(page, BOX_ASK)
    cell(page, BOX_ASK).locator(".jp-Stdin-input").wait_for(timeout=120_000)  # it asks; nobody answers
    wait_executed(page, BOX_ASK)
    shown = cell(page, BOX_ASK).locator(".jp-OutputArea").inner_text()
    assert f"No answer to the approval prompt for structure_prepare_for_md within {WAIT_S} s" in shown, shown
    assert 'If the notebook then refuses to run another cell ("pending input"), press its stop button' in shown, shown

    # The next cell runs: at once where kenkyu's extension lifts JupyterLab's pending-input guard; where the guard
    # is still there, JupyterLab refuses it, and what the message says (the stop button once) lets it run.
    run_cell(page, NEXT)
    refused = page.locator(".jp-Dialog", has_text="Cell not executed due to pending input")
    ran = cell(page, NEXT).locator(".jp-OutputArea", has_text="the next cell ran")
    refused.or_(ran).first.wait_for(timeout=60_000)
    if refused.count():
        refused.locator("button", has_text="Ok").click()
        page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').click()
        run_cell(page, NEXT)
    wait_executed(page, NEXT)
    assert "the next cell ran" in cell(page, NEXT).locator(".jp-OutputArea").inner_text()
    assert not (lab["root"] / "villin_box.pdb").exists()
