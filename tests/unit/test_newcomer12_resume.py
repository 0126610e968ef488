"""A stopped extension resumes with the call its cell made (newcomer r12).

The newcomer asked the sidebar to "extend md_runs/villin_1vii_implicit by 2 ps" (a finished 2 ps run), pressed Stop
and then Resume. The stopped cell read ``md.extend(run=..., to_ps=4.0)`` (a re-run reaches 4 ps once); the Resume
cell read ``md.extend(run=..., ps=2.0)``, though the card said "continue it with the same md.extend call": run
again from the top, that cell extends the finished run by another 2 ps. Here kenkyu's real md_extend tool and
agent loop, with a runner that stops the cell the way the Stop button does (no simulation is run).
"""

from __future__ import annotations

import json

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.runner import Execution, InPlaceRunner
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry

RUN = "md_runs/villin_1vii_implicit"


class StoppedRunner(InPlaceRunner):
    """Runs nothing: the cell is stopped mid-extension, leaving what md.extend leaves (an unfinished extension)."""

    def __init__(self, run_json):
        super().__init__(namespace={})
        self.run_json = run_json
        self.codes = []

    def run(self, code, metadata=None):
        self.codes.append(code)
        info = json.loads(self.run_json.read_text())
        info["status"] = "interrupted"
        info["parameters"]["ps"] = 4.0
        info["extensions"] = [{"added_ps": 2.0, "to_ps": 4.0, "finished": False}]
        self.run_json.write_text(json.dumps(info))
        return Execution(code, error=KeyboardInterrupt("interrupted by the user"), interrupted=True)


def test_the_resume_of_a_stopped_extension_is_the_stopped_call(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / RUN).mkdir(parents=True)
    run_json = tmp_path / RUN / "run.json"
    run_json.write_text(
        json.dumps({"status": "finished", "parameters": {"ps": 2.0, "report_interval_ps": 0.2, "solvent": "implicit"}})
    )
    turns = [{"tool_calls": [{"name": "md_extend", "arguments": {"run": RUN, "ps": 2.0}}]}, {"text": "unused"}]
    provider = ReplayProvider(ProviderConfig(provider="replay"), turns=turns)
    runner = StoppedRunner(run_json)
    agent = Agent(provider, ToolRegistry.from_modules(["kenkyu.tools.md"]), runner, approval_mode="auto")
    events = list(agent.run(f"extend {RUN} by 2 ps"))

    (stopped,) = runner.codes
    assert "to_ps=4.0" in stopped and "ps=2.0" not in stopped.replace("to_ps", ""), stopped
    (result,) = [e for e in events if isinstance(e, ev.ToolResult)]
    assert result.status == "interrupted"
    # What Resume runs: the stopped call itself, so a re-run of both cells reaches 4 ps, never 6.
    assert result.resume == stopped, result.resume
    assert "kenkyu.tools.md.extend(" in result.resume and "ps=2.0" not in result.resume.replace("to_ps", "")
