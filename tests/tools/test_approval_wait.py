"""An approval prompt that nobody answers (a front end that shows no input box) no longer holds the kernel:
after ``%kenkyu approval ask --wait S`` seconds the request is cancelled, nothing is run or written, and the
cell says how to approve. A real ipykernel driven through jupyter_client, whose stdin prompt is never
answered, as the newcomer's first driver did (it sat for 10 minutes before)."""

from __future__ import annotations

import json
import time

from comm_client import running_kernel

TOOL = '''
import kenkyu

@kenkyu.tool(approval="ask", writes_files=True)
def write_note(name: str) -> str:
    """Write a note file.

    Parameters
    ----------
    name
        File name.
    """
    open(name, "w").write("written")
    return name
'''


def _run(client, code: str, answer=None):
    shown, prompts = [], []

    def on_input(message):
        prompts.append(message["content"]["prompt"])
        if answer is not None:
            client.input(answer)

    def on_output(message):
        content = message["content"]
        shown.append(content.get("text") or content.get("data", {}).get("text/plain", ""))

    started = time.monotonic()
    reply = client.execute_interactive(code, timeout=120, allow_stdin=True, stdin_hook=on_input, output_hook=on_output)
    assert reply["content"]["status"] == "ok", "".join(shown)
    return "".join(shown), prompts, time.monotonic() - started


def test_an_unanswered_approval_cancels_the_request_after_the_wait(tmp_path):
    replay = tmp_path / "turns.json"
    calls = [{"name": "write_note", "arguments": {"name": n}} for n in ("a.txt", "b.txt")]
    replay.write_text(json.dumps({"turns": [{"text": "", "tool_calls": calls}, {"text": "Done."}]}))
    with running_kernel(tmp_path) as client:
        _run(client, f"%load_ext kenkyu\n{TOOL}")
        out, _, _ = _run(client, f"%kenkyu provider replay {replay}\n%kenkyu approval ask --wait 3")
        assert "approval: ask (a prompt waits 3 s for an answer)" in out

        out, prompts, took = _run(client, "%%ask\nwrite two notes")

        assert len(prompts) == 1 and prompts[0].startswith("Run write_note?")  # the second call is not asked
        assert "No answer to the approval prompt for write_note within 3 s: the request is cancelled" in out
        assert "%kenkyu approval ask --wait 900" in out and "%kenkyu approval auto" in out
        # The record says the prompt went unanswered, not that the scientist declined it.
        assert "no answer to the approval within 3 s; not run" in out and "declined" not in out, out
        assert 3 <= took < 60, took
        assert not (tmp_path / "a.txt").exists() and not (tmp_path / "b.txt").exists()

        # The kernel is free, and an answered prompt works as before (the stale one is gone).
        replay.write_text(json.dumps({"turns": [{"text": "", "tool_calls": calls[:1]}, {"text": "Done."}]}))
        _run(client, f"%kenkyu provider replay {replay}")
        out, prompts, _ = _run(client, "%%ask\nwrite a note", answer="y")
        assert len(prompts) == 1 and (tmp_path / "a.txt").read_text() == "written", out

        out, _, _ = _run(client, "%kenkyu approval ask --wait 0")
        assert "--wait must be a positive number of seconds" in out
