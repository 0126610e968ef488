"""A %%ask approval answered in a real JupyterLab and Debian's Chromium, as a person answers it (issue 13).

With ``%kenkyu approval ask`` a %%ask request that wants to run a tool asks ``[y/N]`` in the notebook's input box
(the kernel's stdin). In round 9 an answer typed there never reached the kernel: the request was cancelled after the
wait. The cause was the driving, not kenkyu or JupyterLab: the browser script started the cell with
``page.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")``, whose promise resolves only when the
cell has finished, so the answer was typed after the wait had run out, into the box JupyterLab leaves under the
cell, still editable, which echoes the answer though nothing reads it. Here the cell is run with Shift+Enter and the
answer typed into the box while it asks: y runs the tool (its file is written, its step shown under the cell), n
declines it (nothing written, "declined by the user" shown). The notebook's stop button pressed while the box asks
runs nothing; a box nobody answers within the wait cancels the request, and the message says the box no longer
asks. Only the LLM is scripted (replay); the kernel, the tool, JupyterLab's stdin channel and the browser are real.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from jupyterlab_browser import KERNELSPEC, chromium, notebook_page, run_cell, running_lab
from jupyterlab_browser import notebook_cell as cell
from jupyterlab_browser import wait_executed as browser_wait_executed
from playwright import sync_api as playwright_api

from kenkyu.tools import md

pytestmark = pytest.mark.slow

# Long enough for a loaded 2-core machine to show the box and type into it; a broken answer path ends here.
APPROVAL_WAIT_S = 120
# The unanswered prompt's wait, set by the cell before it.
UNANSWERED_WAIT_S = 5
REQUEST = "%%ask\nmake villin.pdb ready for a simulation"
# Each request has its own replay, chosen by the cell before it, so each test runs alone as well as in order.
REQUESTS = ("approved", "declined", "stopped", "unanswered")


def request_cell(name: str) -> int:
    return 2 + 2 * REQUESTS.index(name)


def replay_of(name: str) -> list[dict]:
    """The request's replay: a call that needs approval (it writes villin_NAME.pdb; seconds), then the reply."""
    call = {"name": "structure_prepare_for_md", "arguments": {"prediction": "villin.pdb", "out": f"villin_{name}.pdb"}}
    return [{"text": "", "tool_calls": [call]}, {"text": f"Reply after {name}."}]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root, private = tmp_path_factory.mktemp("approval_root"), tmp_path_factory.mktemp("approval_private")
    shutil.copy(md.example_structure("villin"), root / "villin.pdb")
    sources = [f"%load_ext kenkyu\n%kenkyu approval ask --wait {APPROVAL_WAIT_S}"]
    for name in REQUESTS:
        replay = root / f"{name}.json"
        replay.write_text(json.dumps({"turns": replay_of(name)}))
        wait = f"\n%kenkyu approval ask --wait {UNANSWERED_WAIT_S}" if name == "unanswered" else ""
        sources += [f"%kenkyu provider replay {replay}{wait}", REQUEST]
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, root / "approve.ipynb")
    with running_lab(root, private, {}) as server:  # no sidebar settings: the cells choose the provider
        yield server


@pytest.fixture(scope="module")
def page(lab):
    """The notebook open in Chromium, its kenkyu set up by running the first cell."""
    with chromium() as browser:
        page = notebook_page(browser, lab, "approve.ipynb")
        run_cell(page, 0)
        wait_executed(page, 0)
        yield page


def wait_executed(page, index: int) -> None:
    browser_wait_executed(page, index, timeout_s=APPROVAL_WAIT_S + 60)


def approval_box(page, index: int):
    """The cell's [y/N] box, once it asks."""
    box = cell(page, index).locator(".jp-Stdin-input")
    box.wait_for(timeout=60_000)
    prompt = cell(page, index).locator(".jp-Stdin-prompt").inner_text()
    assert prompt.startswith("Run structure_prepare_for_md? It writes files.") and "[y/N]" in prompt, prompt
    return box


def answer(page, index: int, text: str) -> None:
    """Type the answer into the cell's box and press Enter, as a person does."""
    approval_box(page, index).click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def ask(page, name: str) -> int:
    """Run the cell that chooses the request's replay, then start the request's %%ask cell; its index."""
    run_cell(page, request_cell(name) - 1)
    wait_executed(page, request_cell(name) - 1)
    run_cell(page, request_cell(name))
    return request_cell(name)


def output_of(page, index: int) -> str:
    return cell(page, index).locator(".jp-OutputArea").inner_text()


def test_y_in_the_approval_box_runs_the_tool_and_n_declines_it(lab, page):
    index = ask(page, "approved")
    answer(page, index, "y")
    wait_executed(page, index)
    approved = output_of(page, index)
    assert "No answer to the approval prompt" not in approved, "the kernel never got the y typed in the box"
    assert (lab["root"] / "villin_approved.pdb").exists(), approved
    assert "✓ structure_prepare_for_md" in approved and "Reply after approved." in approved, approved

    index = ask(page, "declined")
    answer(page, index, "n")
    wait_executed(page, index)
    declined = output_of(page, index)
    assert "No answer to the approval prompt" not in declined, "the kernel never got the n typed in the box"
    assert "declined by the user" in declined and "Reply after declined." in declined, declined
    assert not (lab["root"] / "villin_declined.pdb").exists()
    # An answered box is folded away (JupyterLab hides it with a short transition): none is left asking.
    playwright_api.expect(page.locator(".jp-Notebook .jp-Stdin-input")).to_have_count(0, timeout=10_000)


def test_the_stop_button_while_the_box_asks_runs_nothing(lab, page):
    index = ask(page, "stopped")
    approval_box(page, index)
    page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').click()
    wait_executed(page, index)
    shown = output_of(page, index)
    assert "interrupted" in shown and "Traceback" not in shown, shown
    assert not (lab["root"] / "villin_stopped.pdb").exists()


def test_an_unanswered_box_cancels_the_request_and_says_the_box_no_longer_asks(lab, page):
    index = ask(page, "unanswered")
    approval_box(page, index)  # shown, and left alone
    wait_executed(page, index)
    shown = output_of(page, index)
    assert f"No answer to the approval prompt for structure_prepare_for_md within {UNANSWERED_WAIT_S} s" in shown
    assert "The [y/N] box no longer asks: an answer typed there now is not read" in shown, shown
    assert "%kenkyu approval ask --wait 900" in shown, shown
    assert not (lab["root"] / "villin_unanswered.pdb").exists()
