"""A tool that writes files asks before it runs under `approval ask`, and its approval shows what it will write.

A newcomer asked "score G121V on the sequence of 5dfr_minimized.pdb with ESM-2"; build_mutants ran instead and wrote
mutants/5dfr_minimized_G121V.pdb without asking (newcomer r9). Real agent loop, real pdbfixer; the model's turns are
replayed.
"""

from __future__ import annotations

import shutil

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.render import approval_text
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.assistant.session import AssistantSession
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools.md import example_structure

# Tools that write only inside the folder they are given to analyse (a ladder's own melting.json), never a new
# file beside the user's: they need no approval, as an analysis that saves its figure needs none.
WRITE_INTO_THEIR_INPUT = {"unfolding_melting_curve"}


def test_every_tool_that_writes_new_files_asks_first():
    registry = ToolRegistry.from_modules(AssistantSession(namespace={}).tool_modules)
    silent = sorted(t.name for t in registry if t.writes_files and t.approval != "ask")
    assert set(silent) <= WRITE_INTO_THEIR_INPUT, f"these write files without asking: {silent}"
    for name in ("mutants_build_mutants", "structure_fold", "structure_prepare_for_md"):
        assert registry[name].approval == "ask" and registry[name].writes_files


def _agent(mutations, approver):
    turns = [
        {
            "tool_calls": [
                {
                    "name": "mutants_build_mutants",
                    "arguments": {"structure": "5dfr_minimized.pdb", "mutations": mutations},
                }
            ]
        },
        {"text": "done"},
    ]
    provider = ReplayProvider(ProviderConfig(provider="replay"), turns=turns)
    registry = ToolRegistry.from_modules(["kenkyu.tools.mutants"])
    return Agent(provider, registry, InPlaceRunner(namespace={}), approver=approver)


def test_build_mutants_asks_and_its_card_names_the_file_and_the_swap(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(example_structure("dhfr"), tmp_path / "5dfr_minimized.pdb")
    asked_for = []
    events = list(_agent(["G121V"], lambda call, tool, code: asked_for.append(tool.name) or False).run("build G121V"))
    (asked,) = [e for e in events if isinstance(e, ev.ApprovalNeeded)]
    assert asked_for == ["mutants_build_mutants"] and asked.writes_files
    card = approval_text(asked)
    assert "write mutants/5dfr_minimized_G121V.pdb: GLY 121 -> VAL, side chain rebuilt by pdbfixer" in card
    assert not (tmp_path / "mutants").exists()  # declined: nothing written

    events = list(_agent(["G121V"], lambda *a: True).run("build G121V"))
    assert sum(isinstance(e, ev.ApprovalNeeded) for e in events) == 1
    assert (tmp_path / "mutants" / "5dfr_minimized_G121V.pdb").is_file()  # approved: written
    # Asked again for a file that exists now: the card says it is reused, not rebuilt.
    events = list(_agent(["G121V"], lambda *a: False).run("build G121V again"))
    (again,) = [e for e in events if isinstance(e, ev.ApprovalNeeded)]
    assert "reuse mutants/5dfr_minimized_G121V.pdb" in approval_text(again)


def test_a_mutation_the_structure_lacks_is_named_on_the_card_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(example_structure("dhfr"), tmp_path / "5dfr_minimized.pdb")
    events = list(_agent(["K25A"], lambda *a: False).run("build K25A"))
    (asked,) = [e for e in events if isinstance(e, ev.ApprovalNeeded)]
    assert "nothing is written" in approval_text(asked) and "PRO 25" in approval_text(asked)
