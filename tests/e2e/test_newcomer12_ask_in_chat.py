"""A %%ask cell run while the chat is open shows up in the chat, in real JupyterLab and Chromium (newcomer r12).

The newcomer's chat held the %%ask questions they asked before opening it and none of those asked after ("why did
that fail?", "Now minimise the DHFR structure…"), though the model reads them all. Here the chat is opened first,
then a %%ask cell is run with Shift+Enter: its question and reply appear in the chat. Only the LLM is scripted
(replay, chosen by a cell); the kernel, the comm, JupyterLab and the browser are real.
"""

from __future__ import annotations


import pytest
from jupyterlab_browser import ask_cell_lab, chromium, notebook_page, rebuild_stale_extension, run_cell
from jupyterlab_browser import notebook_cell as cell
from jupyterlab_browser import wait_executed
from playwright import sync_api as playwright_api

pytestmark = pytest.mark.slow

QUESTION = "how many residues does villin have?"
REPLY = "Villin's headpiece has 36 residues."


@pytest.fixture(scope="module", autouse=True)
def current_extension():
    rebuild_stale_extension()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with ask_cell_lab(tmp_path_factory, "morning.ipynb", QUESTION, REPLY) as server:
        yield server


def test_a_question_asked_in_a_cell_appears_in_the_open_chat(lab):
    with chromium() as browser:
        page = notebook_page(browser, lab, "morning.ipynb", viewport={"width": 1400, "height": 900})
        # The chat first, as the newcomer had it open (its shortcut, with the notebook focused).
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
        page.keyboard.press("Alt+Shift+K")
        chat = page.locator("#kenkyu-chat")
        page.wait_for_selector("#kenkyu-chat .kenkyu-conn-ready", timeout=90_000)
        run_cell(page, 0)
        wait_executed(page, 0, timeout_s=120)
        run_cell(page, 1)
        wait_executed(page, 1, timeout_s=120)
        # The prompt's number comes with the kernel's reply, the outputs on another channel: they may land after it.
        playwright_api.expect(cell(page, 1).locator(".jp-OutputArea")).to_contain_text(REPLY, timeout=30_000)
        playwright_api.expect(chat.locator(".kenkyu-user", has_text=QUESTION)).to_have_count(1, timeout=30_000)
        playwright_api.expect(chat.locator(".kenkyu-assistant", has_text=REPLY)).to_have_count(1, timeout=30_000)
