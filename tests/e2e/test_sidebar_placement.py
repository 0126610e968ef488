"""Where the sidebar's answers go after a reload, in a real JupyterLab and Debian's Chromium (newcomer r8).

After a browser reload, the newcomer clicked a cell near the top to read it, asked, and the reply's cells landed
there, in the middle of earlier work. Here, one user session: ask; reload; click a cell near the top and ask
again (the cells go below the conversation); add an empty cell with B where an answer should go and ask (the cells
go below it); ask a question that runs nothing (no cell, so no Undo for it). Only the LLM is scripted (replay);
the kernel, its tools and the notebook's execution are real.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from jupyterlab_browser import KERNELSPEC, chromium, rebuild_stale_extension, running_lab, wait_for_saved_records
from kenkyu.tools import md
from playwright import sync_api as playwright_api

pytestmark = pytest.mark.slow

USER_CELLS = ["# Villin, read before asking", "import kenkyu", "structure = 'villin_1vii.pdb'", "notes = 'mine'"]


def measuring(label: str, structure: str) -> list[dict]:
    """Two replay turns of one request: a call whose cell runs in seconds, then the answer."""
    return [
        {
            "text": f"Measuring {label}.",
            "tool_calls": [{"name": "analysis_radius_of_gyration", "arguments": {"trajectory": structure}}],
        },
        {"text": f"Answer {label}: compact."},
    ]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("placement_root")
    private = tmp_path_factory.mktemp("placement_private")
    structure = str(md.example_structure("villin"))
    turns = [*measuring("one", structure), *measuring("two", structure), *measuring("three", structure)]
    turns.append({"text": "Glad it helped; nothing to run."})
    (root / "turns.json").write_text(json.dumps({"turns": turns}))
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    notebook.cells = [nbformat.v4.new_markdown_cell(USER_CELLS[0])] + [
        nbformat.v4.new_code_cell(source) for source in USER_CELLS[1:]
    ]
    nbformat.write(notebook, root / "placement.ipynb")
    settings = {"provider": "replay", "replay_file": str(root / "turns.json"), "approval": "ask"}
    with running_lab(root, private, settings) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def current_extension():
    rebuild_stale_extension()


def notebook_cells(page) -> list[dict]:
    """The open notebook's cells, from its model: source and the request that wrote it ('' for the user's)."""
    return page.evaluate(
        """() => {
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
            const out = [];
            for (let i = 0; i < cells.length; i++) {
                const kenkyu = cells.get(i).getMetadata('kenkyu') || {};
                out.push({source: cells.get(i).sharedModel.getSource(), request: kenkyu.request_id || ''});
            }
            return out;
        }"""
    )


def wait_ready(page):
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle'",
        timeout=90_000,
    )
    if not page.locator("#kenkyu-chat:not(.lm-mod-hidden)").count():
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
        page.keyboard.press("Alt+Shift+K")
    page.wait_for_selector("#kenkyu-chat .kenkyu-conn-ready", timeout=60_000)


def ask(page, question: str, answer: str) -> None:
    """Type the question in the sidebar and wait until the reply's last words are there and the request ended."""
    prompt = page.locator("#kenkyu-chat textarea.kenkyu-prompt")
    prompt.fill(question)
    prompt.press("Enter")
    chat = page.locator("#kenkyu-chat")
    playwright_api.expect(chat.locator(".kenkyu-assistant", has_text=answer)).to_have_count(1, timeout=120_000)
    playwright_api.expect(prompt).to_be_enabled(timeout=60_000)
    playwright_api.expect(chat.locator(".kenkyu-working")).to_have_count(0, timeout=60_000)


def sources(cells) -> list[str]:
    return [c["source"] for c in cells]


def test_after_a_reload_a_reading_click_does_not_place_the_answer_an_empty_cell_does(lab, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{lab['url']}/lab/tree/placement.ipynb?token={lab['token']}")
    wait_ready(page)
    ask(page, "How compact is villin?", "Answer one")
    first = notebook_cells(page)
    assert sources(first)[:4] == USER_CELLS and sources(first)[4] == "Measuring one."
    wait_for_saved_records(lab["root"] / "placement.ipynb", 1)  # the sidebar saved it: the reload asks nothing

    # The reload; then a click on a cell near the top to read it (the click that focuses the notebook).
    page.reload()
    wait_ready(page)
    page.locator(".jp-Notebook .jp-Cell").nth(1).click()
    ask(page, "And again, how compact?", "Answer two")
    second = notebook_cells(page)
    assert sources(second)[: len(first)] == sources(first)  # nothing went in between earlier cells
    added = second[len(first) :]
    assert [c["source"] for c in added][0] == "Measuring two." and len({c["request"] for c in added}) == 1

    # A deliberate place: an empty cell added with B below the second cell, left selected while asking.
    page.locator(".jp-Notebook .jp-Cell").nth(1).click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.wait_for_function(
        f"() => window.jupyterapp.shell.currentWidget.content.model.cells.length === {len(second) + 1}",
        timeout=10_000,
    )
    ask(page, "Once more, here", "Answer three")
    third = notebook_cells(page)
    assert sources(third)[:3] == USER_CELLS[:2] + [""]  # the user's empty cell, then the answer below it
    assert third[3]["source"] == "Measuring three." and third[3]["request"]
    assert sources(third)[-len(second) + 2 :] == sources(second)[2:]  # the rest as it was, after the new cells

    # A question that runs nothing: the answer is in the chat, no cell in the notebook, no Undo for it.
    undo_before = page.locator("#kenkyu-chat button.kenkyu-undo").count()
    ask(page, "Thanks, that helps", "Glad it helped")
    assert notebook_cells(page) == third
    assert page.locator("#kenkyu-chat button.kenkyu-undo").count() == undo_before
    page.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched
