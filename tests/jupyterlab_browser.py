"""A real `jupyter lab` on loopback and Debian's Chromium through Playwright, for the browser tests."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
