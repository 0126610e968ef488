"""A %%ask approval prompt carries the approval's warnings where the answer is typed. A newcomer asked for a
second coarse-grained replica, whose default folder already held the first: the warning "will be refused as it
stands" was printed above the plain "[y/N]" prompt, they answered y and got RunExistsError. A real ipykernel
driven through jupyter_client, the prompt answered on stdin as a person would."""

from __future__ import annotations

import json
import shutil

from comm_client import running_kernel

import kenkyu.tools.md


def test_the_prompt_repeats_that_the_call_would_be_refused(tmp_path):
    shutil.copy(kenkyu.tools.md.example_structure("villin"), tmp_path / "villin.pdb")
    first = tmp_path / "md_runs" / "first"
    first.mkdir(parents=True)
    (first / "cg.json").write_text("{}")
    call = {"name": "md_coarse_grained", "arguments": {"structure": "villin.pdb", "out": "md_runs/first", "ps": 1.0}}
    replay = tmp_path / "turns.json"
    replay.write_text(json.dumps({"turns": [{"text": "", "tool_calls": [call]}, {"text": "Not run."}]}))
    prompts, shown = [], []
    with running_kernel(tmp_path) as client:

        def run(code, answer=None):
            def on_input(message):
                prompts.append(message["content"]["prompt"])
                client.input(answer)

            def on_output(message):
                content = message["content"]
                shown.append(content.get("text") or content.get("data", {}).get("text/plain", ""))

            client.execute_interactive(code, timeout=120, allow_stdin=True, stdin_hook=on_input, output_hook=on_output)

        run(f"%load_ext kenkyu\n%kenkyu provider replay {replay}")
        run("%%ask\nanother coarse-grained run of villin.pdb", answer="n")

    assert len(prompts) == 1, prompts
    prompt = prompts[0]
    assert prompt.startswith("Run md_coarse_grained?") and prompt.endswith("[y/N] "), prompt
    assert "⚠ md_runs/first already exists: the call will be refused as it stands" in prompt, prompt
    assert "declined by the user" in "".join(shown)
    assert sorted(p.name for p in first.iterdir()) == ["cg.json"]  # declined: nothing ran into the folder
