"""No key in any file kenkyu writes: keys planted in the environment, returned and printed by a tool,
echoed and invented by the model, in a real kernel, through the notebook, the record and the report."""

import json
from pathlib import Path

import nbformat
from notebooks import run_cells, text_of

from kenkyu.assistant.export import export_report
from kenkyu.assistant.session import RECORD_MIME
from kenkyu.core.secrets import REDACTED

ENV_KEY = "sk-proj-Pl4ntedOpenAIKey9x8y7z6w5v4u3t"  # OPENAI_API_KEY: the model echoes it
TOOL_KEY = "kk7-Pl4ntedToolKey3c2b1a0f9e8d"  # KENKYU_LAB_KEY: a user tool prints and returns it
REPLY_KEY = "sk-ant-api03-Pl4ntedReplyKey1q2w3e4r5t6y"  # in no variable: only the model's reply holds it
KEYS = (ENV_KEY, TOOL_KEY, REPLY_KEY)

LAB_TOOLS = '''import os

import kenkyu


@kenkyu.tool()
def lab_lookup(query: str) -> dict:
    """Look a text up in the lab's service.

    Parameters
    ----------
    query
        The text to look up.
    """
    key = os.environ["KENKYU_LAB_KEY"]
    print(f"connecting with {key}")
    return {"query": query, "hits": 3, "token": key}


@kenkyu.tool()
def lab_submit(query: str) -> dict:
    """Submit a text to the lab's service.

    Parameters
    ----------
    query
        The text to submit.
    """
    raise PermissionError(f"the service refused key {os.environ['KENKYU_LAB_KEY']} for {query!r}")'''

TURNS = [
    {
        "text": f"Your OpenAI key is {ENV_KEY}; looking the text up.",
        "tool_calls": [{"name": "lab_lookup", "arguments": {"query": "not-needed solvent steps"}}],
    },
    {"tool_calls": [{"name": "lab_submit", "arguments": {"query": "not-needed solvent steps"}}]},
    {"text": f"Three hits. For the other service use {REPLY_KEY} instead."},
]


def test_a_session_with_planted_keys_writes_none_of_them_anywhere(tmp_path, write_replay, monkeypatch):
    replay = write_replay(TURNS)  # the test's own input, outside the folders kenkyu writes to
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    for name, value in {
        "OPENAI_API_KEY": ENV_KEY,
        "KENKYU_LAB_KEY": TOOL_KEY,
        "HF_TOKEN": "not-needed",  # a placeholder, not a key: text that contains it stays as it is
        "HOME": str(home),
    }.items():
        monkeypatch.setenv(name, value)

    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            LAB_TOOLS,
            "%%ask\nLook up not-needed solvent steps in the lab service, then submit them",
            # What the sidebar runs is an ordinary cell of this kernel: a user's own print is covered too.
            "print('the key is', os.environ['KENKYU_LAB_KEY'])\nos.environ['KENKYU_LAB_KEY']",
            "%kenkyu history",
        ],
        work,
    )
    ask = text_of(nb.cells[3]) + json.dumps(nb.cells[3].outputs)
    assert "Three hits" in ask and "'hits': 3" in ask and "PermissionError" in ask  # the session really ran
    assert REDACTED in ask and REDACTED in text_of(nb.cells[4])
    record = next(o["data"][RECORD_MIME] for o in nb.cells[3].outputs if RECORD_MIME in o.get("data", {}))
    code = [c["source"] for c in record["cells"] if c["cell_type"] == "code"]
    # Only secrets are blanked: the searched text is intact, so the recorded step re-runs as it ran.
    assert code[0] == "lab_lookup_result = lab_lookup(query='not-needed solvent steps')\nlab_lookup_result"

    report = export_report(path)
    assert report.executed and report.html.exists()
    rerun = nbformat.read(report.ipynb, as_version=4)
    step = next(c for c in rerun.cells if c.source == code[0])
    assert "'hits': 3" in text_of(step) and REDACTED in text_of(step)  # re-ran, printed the key, redacted

    written = [p for folder in (work, home) for p in folder.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"notebook.ipynb", "notebook.report.ipynb", "notebook.report.html"} - names == set()
    leaks = [(str(p), key[:12]) for p in written for key in KEYS if key.encode() in p.read_bytes()]
    assert leaks == []


def test_the_sidebars_cells_and_messages_hold_no_key(tmp_path):
    """Through the sidebar: the kernel sends the action cells over the comm and the notebook runs them;
    neither the comm messages nor the outputs the notebook saves hold the keys (nor the comm's log)."""
    from comm_client import FakeSidebar, running_kernel

    (tmp_path / "turns.json").write_text(json.dumps({"turns": TURNS}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "turns.json"), "model": "", "base_url": ""}
    settings |= {"api_key_env": "", "approval": "auto"}
    work = tmp_path / "work"
    work.mkdir()
    env = {"OPENAI_API_KEY": ENV_KEY, "KENKYU_LAB_KEY": TOOL_KEY, "KENKYU_COMM_LOG": str(work / "comm.log")}
    with running_kernel(work, env) as client:
        sidebar = FakeSidebar(client)
        sidebar.execute_quietly(LAB_TOOLS)
        sidebar.open(settings=settings)
        messages = sidebar.ask("Look up not-needed solvent steps in the lab service, then submit them")
        record = messages[-1]["record"]
    cells = json.dumps(sidebar.executed)
    assert "'hits': 3" in cells and "PermissionError" in cells and REDACTED in cells  # the cells really ran
    assert "not-needed solvent steps" in json.dumps(record["cells"])
    sent = json.dumps(sidebar.received)
    assert "Three hits" in sent and REDACTED in sent
    assert [key[:12] for key in KEYS if key in cells or key in sent] == []
    log = (work / "comm.log").read_text()
    assert "type=ask" in log and not [key for key in KEYS if key in log]


def test_the_kernel_redacts_only_while_kenkyu_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("KENKYU_LAB_KEY", TOOL_KEY)
    nb, _ = run_cells(
        [
            "import os\nprint(os.environ['KENKYU_LAB_KEY'])",
            "%load_ext kenkyu",
            "print(os.environ['KENKYU_LAB_KEY'], 'not-needed')\nraise ValueError(os.environ['KENKYU_LAB_KEY'])",
            "%unload_ext kenkyu",
            "print(os.environ['KENKYU_LAB_KEY'])",
        ],
        tmp_path,
        allow_errors=True,
    )
    assert text_of(nb.cells[0]).strip() == TOOL_KEY  # before: kenkyu changes nothing it was not asked to
    loaded = text_of(nb.cells[2])
    assert TOOL_KEY not in json.dumps(nb.cells[2].outputs) and f"{REDACTED} not-needed" in loaded
    assert f"ValueError: {REDACTED}" in loaded
    assert text_of(nb.cells[4]).strip() == TOOL_KEY
    assert Path(tmp_path / "notebook.ipynb").exists()
