"""``kenkyu lit ...`` as a scientist runs it: a real subprocess of the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from literature_corpus import write_corpus

KENKYU = [sys.executable, "-m", "kenkyu"]


def kenkyu(*args, cwd, env=None):
    environment = {**os.environ, **(env or {})}
    environment.pop("KENKYU_PROVIDER", None)
    return subprocess.run([*KENKYU, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=environment)


@pytest.mark.slow  # four `kenkyu lit` processes, each loading LlamaIndex and MiniLM (~75 s)
def test_lit_ingest_search_ask_and_status(tmp_path):
    write_corpus(tmp_path / "papers")
    missing = kenkyu("lit", "ask", "anything?", cwd=tmp_path)
    assert missing.returncode == 2 and "no literature index" in missing.stderr and "kenkyu lit ingest" in missing.stderr

    first = kenkyu("lit", "ingest", "papers", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "added 12, updated 0, unchanged 0, removed 0" in first.stdout and (tmp_path / "literature_index").is_dir()
    again = kenkyu("lit", "ingest", "papers", cwd=tmp_path)
    assert "added 0, updated 0, unchanged 12, removed 0; embedded 0 passages" in again.stdout

    found = kenkyu(
        "lit", "search", "protein engineering", "--author", "Tanaka", "--year", "2023", "-k", "3", cwd=tmp_path
    )
    assert found.returncode == 0 and "[1] Ivanova & Tanaka (2023)" in found.stdout and "Sato" not in found.stdout

    # No provider: the ranked passages with their citations.
    plain = kenkyu("lit", "ask", "How much capacity did silicon anodes keep after 500 cycles?", cwd=tmp_path)
    assert plain.returncode == 0 and "no LLM configured" in plain.stdout
    assert (
        '[1] Adeyemi & Chen (2022), "Silicon anodes with a self-healing binder", battery_anodes.pdf p.' in plain.stdout
    )
    assert "Cells kept 80 percent of their capacity after 500 cycles" in plain.stdout

    replay = tmp_path / "turns.json"
    replay.write_text(
        json.dumps({"turns": [{"text": 'Cells "kept 80 percent of their capacity after 500 cycles" [1][2].'}]})
    )
    answered = kenkyu(
        "lit",
        "ask",
        "How much capacity did silicon anodes keep after 500 cycles?",
        "--provider",
        "replay",
        "--replay",
        str(replay),
        cwd=tmp_path,
    )
    assert answered.returncode == 0, answered.stderr
    assert "kept 80 percent of their capacity after 500 cycles" in answered.stdout
    assert "Sources:\n[1] Adeyemi & Chen (2022)" in answered.stdout and "[2] Adeyemi & Chen (2022)" in answered.stdout
    assert "warning" not in answered.stdout

    status = kenkyu("lit", "status", cwd=tmp_path)
    assert "12 documents" in status.stdout and "refs.bib#haddad2017amine" in status.stdout

    bad = kenkyu("lit", "ingest", str(Path(tmp_path / "papers" / "refs.bib").with_suffix(".docx")), cwd=tmp_path)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
