"""A %%ask approval answered on the kernel's stdin: y runs the tool, n declines it, no answer cancels it, and the
stop button pressed while it asks runs nothing.

The notebook's `[y/N]` box is the kernel's stdin channel; here a real ipykernel is driven through jupyter_client,
the prompt answered as JupyterLab's box sends it (an ``input_reply``), or left unanswered past a short wait. The
same request in a real JupyterLab and Chromium is tests/e2e/test_ask_approval_in_lab.py; this one separates the
kernel (kenkyu's ``answer_within``: input() under a timer that interrupts it) from the server and the browser.
"""

from __future__ import annotations

import json
import shutil
import threading

from comm_client import answering, running_kernel

import kenkyu.tools.md


REQUEST = "%%ask\nmake villin.pdb ready for a simulation"


def prepare(out: str) -> dict:
    """A call that needs approval (it writes a structure file) and runs in seconds."""
    return {"name": "structure_prepare_for_md", "arguments": {"prediction": "villin.pdb", "out": out}}


def ask_and_answer(tmp_path, answers: list[str | None], wait_s: int = 120) -> tuple[list[str], str]:
    """One %%ask per answer (None: leave the prompt unanswered); the prompts shown and everything printed."""
    shutil.copy(kenkyu.tools.md.example_structure("villin"), tmp_path / "villin.pdb")
    turns = []
    for n in range(len(answers)):
        turns += [{"text": "", "tool_calls": [prepare(f"villin_fixed_{n}.pdb")]}, {"text": f"Reply {n}."}]
    replay = tmp_path / "turns.json"
    replay.write_text(json.dumps({"turns": turns}))
    prompts, shown = [], []
    with running_kernel(tmp_path) as client:
        setup = f"%load_ext kenkyu\n%kenkyu provider replay {replay}\n%kenkyu approval ask --wait {wait_s}"
        client.execute_interactive(setup, timeout=120)
        for answer in answers:
            _, asked, text = answering(client, REQUEST, answer, timeout=wait_s + 120)
            prompts += asked
            shown.append(text)
    return prompts, "".join(shown)


def test_y_runs_the_tool_and_n_declines_it(tmp_path):
    prompts, shown = ask_and_answer(tmp_path, ["y", "n"])

    assert len(prompts) == 2 and all(p.startswith("Run structure_prepare_for_md?") for p in prompts), prompts
    assert (tmp_path / "villin_fixed_0.pdb").exists(), shown  # y: the tool ran and wrote its file
    assert not (tmp_path / "villin_fixed_1.pdb").exists(), shown  # n: nothing written
    assert "declined by the user" in shown
    assert "Reply 0." in shown and "Reply 1." in shown


def test_no_answer_cancels_the_request_and_says_how_to_run_it(tmp_path):
    prompts, shown = ask_and_answer(tmp_path, [None], wait_s=3)

    assert len(prompts) == 1, prompts
    assert not (tmp_path / "villin_fixed_0.pdb").exists(), shown
    assert "No answer to the approval prompt for structure_prepare_for_md within 3 s" in shown, shown
    assert "The [y/N] box no longer asks" in shown and "%kenkyu approval ask --wait 900" in shown


def test_stop_while_the_box_asks_runs_nothing_and_the_kernel_goes_on(tmp_path):
    """The notebook's stop button (a kernel interrupt) pressed while the [y/N] box waits."""
    shutil.copy(kenkyu.tools.md.example_structure("villin"), tmp_path / "villin.pdb")
    replay = tmp_path / "turns.json"
    replay.write_text(json.dumps({"turns": [{"text": "", "tool_calls": [prepare("villin_fixed.pdb")]}]}))
    with running_kernel(tmp_path) as client:
        client.execute_interactive(f"%load_ext kenkyu\n%kenkyu provider replay {replay}", timeout=120)
        stop = lambda message: threading.Timer(0.5, client.kernel_manager.interrupt_kernel).start()  # noqa: E731
        reply, _, shown = answering(client, REQUEST, on_prompt=stop)
        after, _, printed = answering(client, "print('still here')")

    assert reply["content"]["status"] == "ok"  # the request ends itself: no traceback out of kenkyu
    assert "interrupted" in shown
    assert not (tmp_path / "villin_fixed.pdb").exists()
    assert after["content"]["status"] == "ok" and "still here" in printed
