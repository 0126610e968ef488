"""A %%ask turn is kept with the notebook: saved, the kernel restarted and the page reloaded, the chat still shows it
(newcomer r12 trip 11), in real JupyterLab and Chromium.

The newcomer's %%ask questions were gone from the chat after a restart: only the sidebar's own requests were saved in
the notebook's metadata. Here a %%ask cell runs with the chat open, the notebook is saved (its metadata must hold the
cell's record, marked as a cell's), the kernel is restarted (a new kernel knows no conversation) and the page reloaded:
the chat shows the question and the reply again, read from the saved notebook. Only the LLM is scripted (replay).
"""

from __future__ import annotations

import json

import pytest
from jupyterlab_browser import ask_cell_lab, chromium, notebook_page, rebuild_stale_extension, run_cell
from jupyterlab_browser import notebook_cell as cell
from jupyterlab_browser import wait_executed, wait_for_saved_records
from playwright import sync_api as playwright_api

pytestmark = pytest.mark.slow

QUESTION = "which residues of villin are charged?"
REPLY = "Villin's headpiece carries its charges on its lysines and glutamates."


@pytest.fixture(scope="module", autouse=True)
def current_extension():
    rebuild_stale_extension()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with ask_cell_lab(tmp_path_factory, "afternoon.ipynb", QUESTION, REPLY) as server:
        yield server


def _open_chat(page):
    page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
    if not page.locator("#kenkyu-chat:not(.lm-mod-hidden)").count():
        page.keyboard.press("Alt+Shift+K")
    page.wait_for_selector("#kenkyu-chat .kenkyu-conn-ready", timeout=90_000)
    return page.locator("#kenkyu-chat")


def test_an_ask_cells_turn_is_saved_and_shown_after_a_restart_and_reload(lab):
    with chromium() as browser:
        page = notebook_page(browser, lab, "afternoon.ipynb", viewport={"width": 1400, "height": 900})
        chat = _open_chat(page)
        run_cell(page, 0)
        wait_executed(page, 0, timeout_s=120)
        run_cell(page, 1)
        wait_executed(page, 1, timeout_s=120)
        playwright_api.expect(cell(page, 1).locator(".jp-OutputArea")).to_contain_text(REPLY, timeout=30_000)
        playwright_api.expect(chat.locator(".kenkyu-assistant", has_text=REPLY)).to_have_count(1, timeout=30_000)

        page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
        page.keyboard.press("Control+s")
        saved = wait_for_saved_records(lab["root"] / "afternoon.ipynb", count=1)
        record = saved.metadata["kenkyu"]["records"][0]
        assert record["prompt"] == QUESTION and REPLY in json.dumps(record)

        # A new kernel knows no conversation: what the chat shows next comes from the saved notebook.
        page.evaluate("() => { window.jupyterapp.shell.currentWidget.sessionContext.restartKernel(); }")
        page.wait_for_selector("#kenkyu-chat .kenkyu-conn-ready", timeout=90_000)
        page.reload()
        chat = _open_chat(page)
        playwright_api.expect(chat.locator(".kenkyu-user", has_text=QUESTION)).to_have_count(1, timeout=30_000)
        playwright_api.expect(chat.locator(".kenkyu-assistant", has_text=REPLY)).to_have_count(1, timeout=30_000)
        page.close()
