"""What a %%ask cell prints for events a newcomer met during a day with kenkyu (the terminal form)."""

from kenkyu.assistant import events as ev
from kenkyu.assistant.render import NotebookRenderer

# The embedded model's reply to "what is in villin_1vii.pdb? how many residues and atoms does it have?"
UNPARSED = (
    "the embedded model's tool call did not parse (Unterminated string starting at: line 1 column 478 (char 477)): "
    '\'{ "tool": "mutants_build_mutants", "arguments": { "structure": "villin_1vii.pdb", "mutations": [ "villin_\''
)


def shown(events, capsys) -> str:
    renderer = NotebookRenderer(rich=False)
    for event in events:
        renderer(event)
    return capsys.readouterr().out


def test_a_model_reply_that_did_not_parse_says_what_to_do(capsys):
    out = shown([ev.Error(UNPARSED, where="provider"), ev.Done("error", 0, 0, 20.8)], capsys)
    assert "**Error** (provider): the embedded model's tool call did not parse" in out
    assert "*What to do:* ask again in other words, naming the file" in out
    assert "`%kenkyu provider openai --model ...`" in out


def test_a_tools_own_fix_is_kept_and_other_errors_get_none_made_up(capsys):
    out = shown([ev.Error("budget reached", where="budget", fix="`%kenkyu budget --steps 20`")], capsys)
    assert out.strip().endswith("*What to do:* `%kenkyu budget --steps 20`")
    out = shown([ev.Error("kernel busy", where="kernel")], capsys)
    assert "What to do" not in out


def test_the_closing_line_counts_failed_steps_but_not_a_decline(capsys):
    failed = ev.ToolResult("1", "mutants_build_mutants", False, "ERROR: MutationError: not K25A", 0.1)
    declined = ev.ToolResult("2", "md_extend", False, "declined by the user", 0.0)
    out = shown([failed, declined, ev.Done("finished", 2, 132, 5.3)], capsys)
    assert "✗ `mutants_build_mutants`" in out
    assert "finished, 1 step failed (`mutants_build_mutants`) · 2 model turn(s)" in out
    out = shown([declined, ev.Done("finished", 1, 50, 1.0)], capsys)
    assert "<sub>finished · 1 model turn(s)" in out
