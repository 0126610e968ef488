"""The chat sidebar's TypeScript unit tests (jest, through `jlpm test`), run as part of `make test`.

They cover the front end's logic in plain modules: protocol parsing and building, the chat state
reducer (streaming, tool cards, stop, undo), the notebook record storage, and a whole request
driven through ChatSession against a fake kernel and notebook (Stop interrupting a running cell,
Resume, cell order over requests, the cards restored from the records after a reload), and the
fixes phrased for the sidebar.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

LABEXT = Path(__file__).resolve().parents[2] / "labext"
JLPM = Path(sys.executable).with_name("jlpm")


def jlpm(*args, timeout):
    return subprocess.run([str(JLPM), *args], check=False, cwd=LABEXT, capture_output=True, text=True, timeout=timeout)


def test_jest_suite_passes(tmp_path):
    assert shutil.which("node"), "the sidebar's tests need Node.js 20 on PATH"
    if not (LABEXT / "node_modules" / ".bin" / "jest").exists():
        # A fresh clone installed without the extension build: fetch the JavaScript dependencies.
        installed = jlpm("install", timeout=900)
        assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    report = tmp_path / "jest.json"
    result = jlpm("test", "--ci", "--json", f"--outputFile={report}", timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads(report.read_text())
    # Every spec file ran and every test in it passed (none skipped into a green run).
    suites = {Path(s["name"]).name for s in summary["testResults"]}
    specs = ("protocol", "chatState", "records", "chatSession", "fixes")
    assert {f"{name}.spec.ts" for name in specs} <= suites
    assert summary["numFailedTests"] == 0 and summary["numPendingTests"] == 0
    assert summary["numPassedTests"] >= 58
