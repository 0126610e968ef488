"""A real `jupyter lab` on loopback and Debian's Chromium through Playwright, for the browser tests."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def chromium():
    """Debian's headless Chromium, or a failure that says how to install it."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def running_lab(root: Path, private: Path, sidebar_settings: dict):
    """A `jupyter lab` server on loopback serving `root`, the sidebar's settings in its registry."""
    user_settings = private / "settings"
    (user_settings / "kenkyu-sidebar").mkdir(parents=True)
    (user_settings / "kenkyu-sidebar" / "plugin.jupyterlab-settings").write_text(json.dumps(sidebar_settings))
    # No "get notified about Jupyter news?" toast over the sidebar (and no network call for it).
    news = user_settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))

    port, token = free_port(), secrets.token_hex(16)
    # No KENKYU_* in the environment: without a provider in the settings the kernel uses the embedded model.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENKYU_")}
    env["JUPYTER_RUNTIME_DIR"] = str(private / "runtime")
    # The kernel traces the sidebar comm's traffic (ids and types only); kept when the test fails.
    env["KENKYU_COMM_LOG"] = str(private / "comm.log")
    log = (private / "lab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
            f"--LabApp.user_settings_dir={user_settings}",
            f"--LabApp.workspaces_dir={private / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: open a document, restart a kernel
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],  # CI containers run as root
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("jupyter lab did not start:\n" + (private / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield {"url": url, "token": token, "root": root, "log": private / "lab.log", "comm_log": private / "comm.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextlib.contextmanager
def ask_cell_lab(tmp_path_factory, notebook: str, question: str, reply: str):
    """A running JupyterLab whose folder holds ``notebook``: a cell that picks the replay provider (one scripted turn,
    ``reply``) and a ``%%ask`` cell asking ``question``. Only the LLM is scripted."""
    import nbformat

    stem = Path(notebook).stem
    root, private = tmp_path_factory.mktemp(f"{stem}_root"), tmp_path_factory.mktemp(f"{stem}_private")
    (root / "turns.json").write_text(json.dumps({"turns": [{"text": reply}]}))
    document = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    document.cells = [
        nbformat.v4.new_code_cell(f"%load_ext kenkyu\n%kenkyu provider replay {root / 'turns.json'}"),
        nbformat.v4.new_code_cell(f"%%ask\n{question}"),
    ]
    nbformat.write(document, root / notebook)
    with running_lab(root, private, {}) as server:
        yield server


def rebuild_stale_extension() -> None:
    """Rebuild the sidebar extension when its TypeScript is newer than the build, so the browser runs this code."""
    spec = importlib.util.spec_from_file_location("kenkyu_setup", REPO / "setup.py")
    setup_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_py)  # its setup() call only runs under the build backend
    if setup_py.labextension_is_stale():
        bin_dir = str(Path(sys.executable).parent)  # jlpm and jupyter-builder, called by the build scripts
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        built = subprocess.run(
            [str(Path(bin_dir) / "jlpm"), "build:prod"],
            cwd=REPO / "labext",
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]


def notebook_cell(page, index: int):
    """The notebook's cell at ``index`` (0-based), in the page's open notebook."""
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def run_cell(page, index: int) -> None:
    """Click into the cell and press Shift+Enter, as a person runs it (nothing here waits for it to finish:
    an awaited run-all would resolve only after the cell, too late to answer its input box)."""
    notebook_cell(page, index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def wait_executed(page, index: int, timeout_s: float) -> None:
    """Wait until the cell has an execution count and the kernel is idle again."""
    page.wait_for_function(
        """(index) => {
            const panel = window.jupyterapp.shell.currentWidget;
            return panel.content.model.cells.get(index).executionCount !== null
                && panel.sessionContext.session.kernel.status === 'idle';
        }""",
        arg=index,
        timeout=timeout_s * 1000,
    )


def notebook_page(browser, lab: dict, notebook: str, viewport: dict | None = None):
    """A new page with ``notebook`` (a path under the lab's root) open and its kernel idle."""
    page = browser.new_page(viewport=viewport or {"width": 1200, "height": 900})
    page.goto(f"{lab['url']}/lab/tree/{notebook}?token={lab['token']}", timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
        timeout=120_000,
    )
    return page


def wait_for_saved_records(path: Path, count: int, timeout_s: float = 30.0):
    """The notebook as saved once its metadata holds ``count`` kenkyu records.

    Jupyter Server writes a save in place (its "atomic" writing keeps a backup copy, not a rename), so a read during
    a save can see an empty or half-written file: that is "not saved yet", not a failure.
    """
    import nbformat

    deadline = time.monotonic() + timeout_s
    notebook = None
    while True:
        try:
            notebook = nbformat.read(path, as_version=4)
        except (nbformat.reader.NotJSONError, json.JSONDecodeError, FileNotFoundError):
            notebook = None
        if notebook is not None and len(notebook.metadata.get("kenkyu", {}).get("records", [])) >= count:
            return notebook
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved with {count} record(s): {notebook and notebook.metadata}")
        time.sleep(0.3)
