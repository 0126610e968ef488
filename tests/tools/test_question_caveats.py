"""Issue 18 item 6: a result's caveat weighs the simulated time against the process the request asked about.

A 4 ps trajectory (villin's real coordinates, 10 frames 0.4 ps apart) is analysed by the real mdtraj tools
through the agent loop: "does the loop move?" must hear that loops take ns–µs, "does it stay folded?" that
unfolding takes µs–s, a question about side-chain rotamers (ps–ns) no shortfall at all, and a request that
names no process the generic caveat. What the user reads is checked where they read it: the tool result on
the sidebar's card and in %%ask, the text the model is given, and the embedded model's reply.
"""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest
from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry

md = pytest.importorskip("kenkyu.tools.md")
pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

ANALYSIS = ToolRegistry.from_modules(["kenkyu.tools.analysis"])


@pytest.fixture(scope="module")
def four_ps():
    """A kernel variable holding 4 ps of villin: what a user would analyse after a short run."""
    start = mdtraj.load(str(md.example_structure("villin")))
    rng = np.random.default_rng(7)
    xyz = start.xyz[0] + rng.normal(0.0, 0.01, (10, start.n_atoms, 3)).astype(np.float32)
    return mdtraj.Trajectory(xyz, start.topology, time=0.4 * np.arange(1, 11))


def ask(request, tool, trajectory, provider=None):
    namespace = {"traj": trajectory}
    turns = [{"tool_calls": [{"name": tool, "arguments": {"trajectory": "traj"}}]}, {"text": "Done."}]
    provider = provider or ReplayProvider(ProviderConfig(provider="replay"), turns=turns)
    agent = Agent(provider, ANALYSIS, InPlaceRunner(namespace=namespace), approval_mode="auto")
    events = list(agent.run(request))
    (result,) = [e for e in events if isinstance(e, ev.ToolResult)]
    assert result.ok, result.summary
    told = [m.content for m in agent.history if m.role == "tool"]
    assert told == [result.summary]  # the model reads what the card shows
    return result.summary, events


def caveats(summary: str) -> list[str]:
    return [line for line in summary.splitlines() if line.startswith("caveat:")]


def test_does_the_loop_move_on_4_ps_says_loops_take_ns_to_us(four_ps):
    summary, _ = ask("Does the loop move?", "analysis_rmsf", four_ps)
    assert "data: 10 frames spanning 4 ps of simulation" in summary
    assert caveats(summary) == [
        "caveat: only 4 ps simulated; loop motions take ns–µs, so this run cannot show them "
        "(simulate at least 1 ns to see the fastest)"
    ]


def test_the_ask_cell_shows_the_caveat_under_the_tools_line(four_ps, capsys):
    from kenkyu.assistant.render import NotebookRenderer

    _, events = ask("Does the loop move?", "analysis_rmsf", four_ps)
    capsys.readouterr()  # the cell's own output (the table), printed as the tool ran
    renderer = NotebookRenderer(rich=False)  # what %%ask prints, whatever the model's reply says
    for event in events:
        if isinstance(event, ev.ToolResult):
            renderer(event)
    shown = capsys.readouterr().out
    assert shown.startswith("✓ `analysis_rmsf`")
    assert "\n- ⚠ caveat: only 4 ps simulated; loop motions take ns–µs" in shown


def test_does_it_stay_folded_on_4_ps_says_unfolding_takes_us_to_s(four_ps):
    summary, _ = ask("Does it stay folded?", "analysis_rmsd", four_ps)
    (line,) = caveats(summary)
    assert "unfolding takes µs–s" in line and "cannot show it" in line
    assert "loop motions take" not in summary


def test_a_question_about_a_fast_process_gets_no_shortfall(four_ps):
    summary, _ = ask("Which side chains change rotamer?", "analysis_rmsf", four_ps)
    assert "data: 10 frames spanning 4 ps" in summary  # what it rests on is still said
    # Rotamers flip in ps–ns: 4 ps can show the fastest, so no "cannot show", only a milder word.
    assert caveats(summary) == [
        "caveat: only 4 ps simulated; side-chain rotamers take ps–ns, so this run shows only the fastest of them"
    ]
    summary, _ = ask("Do the bond vibrations change?", "analysis_rmsf", four_ps)  # fs: fully sampled
    assert caveats(summary) == []


def test_a_request_naming_no_process_keeps_the_generic_caveat(four_ps):
    summary, _ = ask("Compute the radius of gyration", "analysis_radius_of_gyration", four_ps)
    (line,) = caveats(summary)
    assert line.startswith("caveat: only 4 ps simulated: slower processes") and "not sampled" in line


def test_a_long_enough_run_for_the_generic_test_still_hears_about_slow_processes_asked_about(four_ps):
    long = mdtraj.Trajectory(four_ps.xyz, four_ps.topology, time=500.0 * np.arange(1, 11))  # 5 ns
    summary, _ = ask("Compute the RMSD", "analysis_rmsd", long)
    assert caveats(summary) == []
    summary, _ = ask("Is it still folded?", "analysis_rmsd", long)
    lines = summary.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("data: "))
    assert lines[at + 1].startswith("caveat: only 5 ns simulated; unfolding takes µs–s")


def test_the_embedded_models_report_keeps_a_caveat_past_the_lines_it_quotes():
    from kenkyu.core.messages import Message
    from kenkyu.core.providers.local_llama import _report_results

    summary = "\n".join(
        [
            "RMSD of 144 atoms (backbone), aligned to frame 0",
            "5 frames; mean 0.02 nm",
            "window: frames 5-9 (5 of 10; last 5; 2.4-4 ps)",
            "data: 5 frames spanning 2 ps of simulation (one every 0.4 ps)",
            "caveat: only 2 ps simulated; unfolding takes µs–s, so this run cannot show it",
            "caveat: only 5 frames: too few for reliable averages or fluctuations",
        ]
    )
    (text,) = [c.text for c in _report_results([Message("tool", summary, tool_call_id="c0", name="analysis_rmsd")])]
    assert "unfolding takes µs–s, so this run cannot show it" in text and "only 5 frames" in text


@pytest.mark.embedded_llm
def test_the_embedded_models_reply_carries_the_question_aware_caveat(four_ps):
    from kenkyu.core.providers import make_provider

    provider = make_provider(ProviderConfig(provider="local"))
    summary, events = ask("RMSF of traj: does it stay folded?", None, four_ps, provider=provider)
    reply = "".join(e.text for e in events if isinstance(e, ev.Token))
    assert "unfolding takes µs–s, so this run cannot show it" in reply
    assert "slower processes" not in reply


def test_a_dcd_loaded_with_mdtraj_is_not_read_as_one_ps_per_frame(four_ps, tmp_path):
    """A newcomer loaded a 2 ps run's DCD with mdtraj.load themselves: mdtraj numbers the frames 0, 1, 2, ...
    (a DCD stores no times), and the Rg reply said "10 frames spanning 10 ps". The time must be called
    uncertain, with where the real times are, and no time-scale caveat may be drawn from it."""
    dcd, pdb = tmp_path / "trajectory.dcd", tmp_path / "top.pdb"
    four_ps.save_dcd(str(dcd))
    four_ps[0].save_pdb(str(pdb))
    loaded = mdtraj.load(str(dcd), top=str(pdb))  # as a person does in a plain cell
    summary, _ = ask("what is the radius of gyration of t?", "analysis_radius_of_gyration", loaded)
    assert "spanning 10 ps" not in summary
    assert "data: 10 frames; simulated time uncertain (its time stamps are 0, 1, 2, ...:" in summary
    assert "analyse the run folder or its MDRun for the run's real times" in summary
    assert not [c for c in caveats(summary) if "simulated" in c]
