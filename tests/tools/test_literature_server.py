"""The same literature tools against a real Chroma server (``chroma run`` from the chromadb package) on
loopback: ingest, incremental re-ingest, hybrid search with filters, and a cited answer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.tools import literature
from kenkyu.tools.literature._store import forget_clients
from literature_corpus import answer_file, write_corpus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = shutil.which("chroma", path=os.path.dirname(sys.executable)) or shutil.which("chroma")
    assert chroma, "the chroma CLI comes with the chromadb package (pip install 'kenkyu[rag]')"
    folder = tmp_path_factory.mktemp("chroma_server")
    port = _free_port()
    log = open(folder / "server.log", "wb")
    server = subprocess.Popen(
        [chroma, "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start: {(folder / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        forget_clients()


def test_ingest_search_and_answer_through_a_chroma_server(chroma_server, tmp_path):
    host, port = chroma_server
    papers = write_corpus(tmp_path / "papers")
    where = {"chroma_host": host, "chroma_port": port}
    with pytest.raises(literature.IndexNotFoundError, match="build it first"):
        literature.search("lipase", "lab_papers", **where)

    report = literature.ingest([papers], "lab_papers", progress=False, **where)
    assert report.index == f"chroma://{host}:{port}/lab_papers" and report.embedded == report.chunks > 0
    (papers / "reading_list.txt").unlink()
    again = literature.ingest([papers], "lab_papers", progress=False, **where)
    assert again.embedded == 0 and [Path(k).name for k in again.removed] == ["reading_list.txt"]
    assert again.chunks == report.chunks - 1

    # Nothing of the index lives on this machine's disk: a second client sees the same collection.
    import chromadb

    collection = chromadb.HttpClient(host=host, port=port).get_collection("lab_papers")
    assert collection.count() == again.chunks

    passages = literature.search("Which GFP mutation red-shifts the emission?", "lab_papers", k=3, **where)
    assert answer_file(passages[0]) == "gfp_scanning.pdf" and passages[0].page == 1
    tagged = literature.search("results", "lab_papers", k=10, filters={"tag": "ecology"}, **where)
    assert {answer_file(p) for p in tagged} == {"coral_bleaching.pdf"}

    llm = ReplayProvider(
        ProviderConfig(provider="replay"),
        turns=[{"text": 'The mutation T203Y "red-shifted the emission maximum to 527 nanometres" [1].'}],
    )
    result = literature.ask(
        "Which GFP mutation red-shifts the emission to 527 nm?", "lab_papers", k=3, llm=llm, **where
    )
    assert not result.warnings and result.citations[0].page == 1
    assert answer_file(result.citations[0]) == "gfp_scanning.pdf"
