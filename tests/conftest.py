import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # test helpers: toolbox, fake servers


@pytest.fixture
def write_replay(tmp_path):
    """Write a replay file from a list of turns and return its path."""

    def write(turns, name="turns.json"):
        path = tmp_path / name
        path.write_text(json.dumps({"turns": turns}))
        return path

    return write


@pytest.fixture(scope="session")
def shared_data() -> Path:
    for candidate in (os.environ.get("KENKYU_SHARED_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "5dfr_minimized.pdb").exists():
            return Path(candidate)
    pytest.skip("DHFR structures not found: set KENKYU_SHARED_DATA to the folder with 5dfr_minimized.pdb")


@pytest.fixture(autouse=True)
def _no_llm_from_environment(monkeypatch):
    # Tests choose their provider explicitly; a developer's own settings must not leak in.
    for name in ("KENKYU_PROVIDER", "KENKYU_MODEL", "KENKYU_BASE_URL", "KENKYU_REPLAY", "KENKYU_APPROVAL"):
        monkeypatch.delenv(name, raising=False)
