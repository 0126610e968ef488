"""What a newcomer read under their %%ask cells (round 12), rendered as Markdown the way a notebook renders it.

- The approval: "Expected time: about 57 s here (…) Steps that will run:" ran on as one sentence over the list.
- A failed tool's one-line error (ESM-2 weights missing): its download URLs came out as
  ``…/esm2\\_t33\\_650M\\_UR50D.pt``, backslashes in the link text and in the link itself, and its two
  ``curl -LO`` commands ran into one line ("run curl -LO URL curl -LO URL and copy both files").
"""

from __future__ import annotations

import re
import sys
import urllib.parse

import mistune
import pytest
from IPython.core.interactiveshell import InteractiveShell
from kenkyu.assistant import events as ev
from kenkyu.assistant.render import approval_text
from kenkyu.assistant.runner import InPlaceRunner

URL_MODEL = "https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t33_650M_UR50D.pt"
URL_REGRESSION = "https://dl.fbaipublicfiles.com/fair-esm/regression/esm2_t33_650M_UR50D-contact-regression.pt"
# The message kenkyu.tools.structure raises without the weights (as printed by the newcomer's kernel).
ESM_MESSAGE = (
    "ESM-2 model 'esm2_t33_650M_UR50D' is not on this machine (nothing is downloaded automatically). Looked in: "
    "esm2_t33_650M_UR50D (as a path); $KENKYU_MODELS (not set); /root/.cache/torch/hub/checkpoints/"
    "esm2_t33_650M_UR50D.pt.\nOn a machine with internet access run\n"
    f"    curl -LO {URL_MODEL}\n    curl -LO {URL_REGRESSION}\n"
    "and copy both files here into $KENKYU_MODELS (e.g. export KENKYU_MODELS=~/models), or see "
    "https://github.com/facebookresearch/esm_x."
)


# JupyterLab renders Markdown with marked, GitHub-flavoured: a bare URL becomes a link, as mistune's url plugin does.
render = mistune.create_markdown(plugins=["url"])


def paragraphs(markdown: str) -> list[str]:
    """The text of each rendered <p>, tags stripped."""
    html = render(markdown)
    return [re.sub(r"<[^>]+>", "", p).strip() for p in re.findall(r"<p>(.*?)</p>", html, re.S)]


def test_the_approval_says_its_time_and_its_steps_apart():
    event = ev.ApprovalNeeded(
        "c1",
        "md_run",
        {"structure": "villin_1vii.pdb", "ps": 2.0},
        "run = kenkyu.tools.md.run(...)",
        True,
        estimate="about 57 s here (2,500 steps at 12.9 ns/day; the machine is busy now: expect up to ~2x longer)",
        estimate_s=57.0,
        steps=["write the run into md_runs/villin_1vii_implicit", "2 ps production, implicit solvent"],
        warnings=["md_runs/villin_1vii_implicit already holds a run"],
    )
    shown = paragraphs(approval_text(event))
    expected = next(p for p in shown if p.startswith("Expected time:"))
    assert expected.endswith("expect up to ~2x longer)"), shown  # not "... longer) Steps that will run:"
    assert any(p.startswith("Steps that will run:") for p in shown), shown
    html = render(approval_text(event))
    assert html.count("<li>") == 2 and "write the run into md_runs/villin_1vii_implicit</li>" in html
    assert any(p.startswith("⚠ Warning:") for p in shown), shown


@pytest.fixture
def shell(monkeypatch):
    for name in ("last_value", "last_exc", "last_type", "last_traceback"):
        monkeypatch.setattr(sys, name, None, raising=False)
    shell = InteractiveShell.instance()
    published = []
    monkeypatch.setattr(shell.display_pub, "publish", lambda data, metadata=None, **kw: published.append(data))
    shell.published = published
    yield shell
    InteractiveShell.clear_instance()


def failed_cell_markdown(shell, message: str) -> str:
    runner = InPlaceRunner(shell=shell, namespace={"message": message})
    execution = runner.run("class ModelNotFoundError(FileNotFoundError): pass\nraise ModelNotFoundError(message)")
    assert not execution.ok
    (shown,) = [data["text/markdown"] for data in shell.published if "full traceback" in data.get("text/markdown", "")]
    return shown


def test_a_failed_tools_urls_are_links_to_themselves_and_its_commands_are_lines_to_copy(shell):
    markdown = failed_cell_markdown(shell, ESM_MESSAGE)
    html = render(markdown)
    hrefs = [urllib.parse.unquote(h) for h in re.findall(r'href="([^"]+)"', html)]
    links = re.findall(r"<a [^>]*>(.*?)</a>", html)
    # The URL in prose is a link to itself, with no backslash in it or in its text.
    assert "https://github.com/facebookresearch/esm_x" in hrefs, html
    assert all("\\" not in h for h in hrefs) and all("\\" not in t for t in links), html
    # The commands are a code block, one per line, exactly as the message gives them.
    (block,) = re.findall(r"<pre><code>(.*?)</code></pre>", html, re.S)
    assert block.strip().splitlines() == [f"curl -LO {URL_MODEL}", f"curl -LO {URL_REGRESSION}"], block
    # The prose keeps its words (escaped characters read as themselves) and its own lines.
    text = " ".join(paragraphs(markdown))
    assert "Looked in: esm2_t33_650M_UR50D (as a path);" in text, text
    assert "internet access run curl" not in text  # the commands are not run into the sentence
    assert text.startswith("ModelNotFoundError: ESM-2 model 'esm2_t33_650M_UR50D' is not on this machine"), text
