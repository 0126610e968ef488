import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test helpers: toolbox, fake servers

# The MD fixtures (villin_pdb, dhfr_pdb, venv_python) for every test module; the agent benchmark's
# score table in the terminal summary (printed whether or not pytest captures output).
pytest_plugins = ["md_fixtures", "agent_benchmark_summary"]


@pytest.fixture
def write_replay(tmp_path):
    """Write a replay file from a list of turns and return its path."""

    def write(turns, name="turns.json"):
        path = tmp_path / name
        path.write_text(json.dumps({"turns": turns}))
        return path

    return write


@pytest.fixture(autouse=True)
def _no_llm_from_environment(monkeypatch):
    # Tests choose their provider explicitly; a developer's own settings must not leak in.
    for name in ("KENKYU_PROVIDER", "KENKYU_MODEL", "KENKYU_BASE_URL", "KENKYU_REPLAY", "KENKYU_APPROVAL"):
        monkeypatch.delenv(name, raising=False)
