"""%%ask in a real ipykernel, spending what it may: the approval shows md.run's measured estimate, every
step and the collision with an existing folder; the cost cap holds under approval auto; the request's
time budget interrupts a running md.run that ``resume=True`` then finishes; the notebook's interrupt
(the stop button) leaves a tool interrupted and resumable, with the kernel alive (issues 13, 18)."""

import json
import queue
import re
import time

import pytest
from comm_client import running_kernel

import kenkyu

VILLIN = str(kenkyu.tools.md.example_structure("villin"))
# Short but real: implicit solvent on the CPU, a brief NVT, frequent checkpoints so a resume loses little.
RUN = dict(
    structure=VILLIN,
    ps=2.0,
    solvent="implicit",
    nvt_ps=0.2,
    minimize_max_iterations=100,
    report_interval_ps=0.1,
    checkpoint_interval_ps=0.1,
    platform="CPU",
    seed=7,
)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("budgets_kernel")
    # The speed measured once (the first estimate calibrates) serves every test here.
    with running_kernel(cwd, {"KENKYU_CACHE": str(cwd / "cache")}) as client:
        execute(client, "%load_ext kenkyu")
        yield client, cwd


def execute(client, code: str, timeout: float = 600) -> str:
    """Run a cell as the notebook does; returns everything it showed, as text."""
    shown: list[str] = []
    reply = client.execute_interactive(
        code, timeout=timeout, allow_stdin=False, output_hook=lambda m: shown.append(_text(m))
    )
    assert reply["content"]["status"] == "ok", "".join(shown)
    return "".join(shown)


def _text(message: dict) -> str:
    content = message["content"]
    if message["header"]["msg_type"] == "stream":
        return content["text"]
    if message["header"]["msg_type"] == "error":
        return f"{content['ename']}: {content['evalue']}\n"
    return content.get("data", {}).get("text/plain", "") + "\n" if "data" in content else ""


def replay(client, cwd, name: str, turns: list) -> None:
    (cwd / name).write_text(json.dumps({"turns": turns}))
    execute(client, f"%kenkyu reset\n%kenkyu provider replay {cwd / name}")


def call(name: str, **arguments) -> dict:
    return {"text": "", "tool_calls": [{"name": name, "arguments": arguments}]}


def test_approval_shows_the_estimate_steps_and_collision_and_the_cap_holds_under_auto(kernel):
    client, cwd = kernel
    folder = kenkyu.tools.md.run_directory(VILLIN, "implicit")  # where md.run writes by default
    (cwd / folder).mkdir(parents=True)
    (cwd / folder / "notes.txt").write_text("an earlier attempt")
    asked = {"structure": VILLIN, "ps": 2, "solvent": "implicit"}
    replay(client, cwd, "approval.json", [call("md_run", **asked), {"text": "Declined."}])
    execute(client, "%kenkyu approval ask\n%kenkyu budget --cost-seconds 100000")
    out = execute(client, "%%ask\nsimulate villin for 2 ps in implicit solvent")
    # This front end cannot ask on stdin, so it declines, but only after showing what it would run.
    assert "Approval needed" in out and "needs approval, and this front end cannot ask" in out
    estimate = re.search(r"Expected time: about (\d+ s|\d+ min) here \(([^)]*calibrated on this machine[^)]*)", out)
    assert estimate, out
    # A 2 ps run gets the default NVT's floor (3 ps), with the rule and how to turn it off.
    assert "3 ps NVT equilibration (added by default: half the production within 3-10 ps; nvt_ps=0 skips it)" in out
    assert re.search(r"2 ps production, implicit solvent, \d{3} atoms", out), out
    assert "Warning:" in out and f"{folder} already exists" in out and "resume=True" in out
    assert sorted(p.name for p in (cwd / folder).iterdir()) == ["notes.txt"]

    # Under approval auto a cap below the estimate still holds: the run is not started and the reply
    # gives the estimate, the cap and how to raise it.
    replay(client, cwd, "cap.json", [call("md_run", **asked), {"text": "It was over the cap."}])
    execute(client, "%kenkyu approval auto\n%kenkyu budget --cost-seconds 5")
    out = execute(client, "%%ask\nsimulate villin for 2 ps in implicit solvent")
    assert "md_run was not started: its estimate, ~" in out and "cost cap of 5 s" in out, out
    assert "%kenkyu budget --cost-seconds" in out and "shorter run" in out
    assert sorted(p.name for p in (cwd / folder).iterdir()) == ["notes.txt"]


@pytest.mark.slow  # a real run of about a minute; the fast lane interrupts the small counting tool below
def test_the_time_budget_interrupts_a_running_md_run_and_resume_finishes_it(kernel):
    client, cwd = kernel
    # The measured estimate for this run (calibrating if needed, outside the request's budget) sets a
    # budget that ends about halfway through it, whatever the machine's speed.
    estimate = execute(client, f"from kenkyu.tools.md.cost import estimate_run\nprint(estimate_run({RUN!r}).seconds)")
    budget = max(6.0, round(float(estimate.split()[-1]) / 2, 1))
    out_dir = str(cwd / "md_runs" / "budgeted")
    replay(client, cwd, "budget.json", [call("md_run", **RUN, out=out_dir), {"text": "never played"}])
    execute(client, f"%kenkyu approval auto\n%kenkyu budget --seconds {budget} --cost-seconds 100000")
    out = execute(client, "%%ask\nsimulate villin briefly")
    assert "interrupted — resumable (the request's time budget ran out)" in out, out
    done = re.search(r"budget:time · \d+ model turn\(s\) · [\d,]+ tokens · ([\d.]+) s", out)
    assert done, out
    print(f"md.run estimate {float(estimate.split()[-1]):.0f} s, budget {budget} s, request ended at {done.group(1)} s")
    assert float(done.group(1)) < budget + 5, f"interrupted {float(done.group(1)) - budget:.1f} s after the budget"
    assert json.loads((cwd / "md_runs" / "budgeted" / "run.json").read_text())["status"] != "finished"
    assert execute(client, "print(1 + 1)").strip() == "2"  # the kernel lives on

    # The reply shows the exact call that resumes it; running that call finishes the run.
    resume = re.search(r"```python\n(.*?)\n```", out.split("interrupted — resumable")[-1], re.S).group(1)
    assert "resume=True" in resume and "overwrite" not in resume
    execute(client, resume)
    info = json.loads((cwd / "md_runs" / "budgeted" / "run.json").read_text())
    assert info["status"] == "finished", info.get("error")
    execute(client, "%kenkyu budget --seconds 1800")


def test_the_stop_button_leaves_a_tool_interrupted_and_resumable(kernel):
    client, cwd = kernel
    out_dir = cwd / "counted"
    replay(client, cwd, "stop.json", [call("resumable_tool_count", to=400, out=str(out_dir)), {"text": "no"}])
    execute(
        client,
        "%kenkyu tools add resumable_tool\n%kenkyu approval auto\n%kenkyu budget --seconds 1800 --cost-seconds 900",
    )
    msg_id = client.execute("%%ask\ncount to 400")
    deadline = time.monotonic() + 60
    while not (out_dir / "count.txt").exists():  # the tool is running
        assert time.monotonic() < deadline, "the tool never started"
        time.sleep(0.1)
    time.sleep(0.5)
    client.kernel_manager.interrupt_kernel()  # what the notebook's stop button sends
    shown = []
    while True:
        try:
            message = client.get_iopub_msg(timeout=30)
        except queue.Empty:
            raise AssertionError("the interrupted %%ask never finished: " + "".join(shown)) from None
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["header"]["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
        shown.append(_text(message))
    out = "".join(shown)
    assert "interrupted — resumable (interrupted by the user)" in out and "counted to" in out, out
    assert "<sub>interrupted ·" in out and "Traceback" not in out
    kept = int((out_dir / "count.txt").read_text())
    assert 0 < kept < 400
    resume = re.search(r"```python\n(.*?)\n```", out.split("interrupted — resumable")[-1], re.S).group(1)
    assert "resume=True" in resume
    execute(client, resume)
    assert (out_dir / "count.txt").read_text() == "400"


def test_in_the_sidebar_the_time_budget_interrupts_the_notebooks_own_cell(kernel):
    from comm_client import FakeSidebar, events

    client, cwd = kernel
    out_dir = cwd / "counted_in_sidebar"
    turns = [call("resumable_tool_count", to=400, out=str(out_dir)), {"text": "never played"}]
    (cwd / "sidebar.json").write_text(json.dumps({"turns": turns}))
    execute(client, "%kenkyu reset\n%kenkyu tools add resumable_tool\n%kenkyu budget --seconds 3 --cost-seconds 900")
    sidebar = FakeSidebar(client)
    sidebar.open(settings={"provider": "replay", "replay_file": str(cwd / "sidebar.json"), "approval": "auto"})
    try:
        messages = sidebar.ask("count to 400", timeout=60)
    finally:
        execute(client, "%kenkyu budget --seconds 1800")
    (result,) = events(messages, "tool_result")
    assert result["status"] == "interrupted" and "resume=True" in result["resume"], result
    assert result["summary"].startswith("interrupted — resumable (the request's time budget ran out)")
    (done,) = events(messages, "done")
    assert done["reason"] == "budget:time" and done["elapsed_s"] < 3 + 5, done
    assert 0 < int((out_dir / "count.txt").read_text()) < 400
    assert sidebar.evaluate("1 + 1") == "2"


def test_a_huge_interpolated_variable_is_cut_and_the_cell_says_so(kernel):
    client, cwd = kernel
    replay(client, cwd, "cut.json", [{"text": "I read the start of it."}])
    execute(client, "log = 'x' * 2_000_000")
    out = execute(client, "%%ask\nSummarise {log}")
    note = "[... 2.0 MB cut; the first 4,000 characters shown]"
    assert f"kenkyu: a {{value}} in the request was too long for the model: {note}" in out, out[:2000]
    sent = execute(client, "print(get_ipython()._kenkyu_session.records[-1]['prompt'][-60:])")
    assert sent.strip().endswith(note)
