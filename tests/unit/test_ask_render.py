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


def test_the_users_own_stop_is_not_shown_as_an_error_under_the_stopped_step(capsys):
    # A newcomer stopped a 2000 ps coarse-grained run: under the ⏸ line saying nothing was kept came
    # "**Error** (user): interrupted ... the tool's result says how to resume it".
    stopped = ev.ToolResult(
        "1",
        "md_coarse_grained",
        False,
        "interrupted — nothing kept (interrupted by the user). Coarse-grained run md_runs/x interrupted at 99 of "
        "2000 ps; nothing was kept",
        7.6,
        status="interrupted",
    )
    error = ev.Error("interrupted", where="user", fix="the tool's result says how to resume it", recoverable=True)
    out = shown([stopped, error, ev.Done("interrupted", 1, 153, 21.5)], capsys)
    assert "⏸ `md_coarse_grained` (7.6 s) — interrupted — nothing kept" in out
    assert "**Error**" not in out and "how to resume" not in out
    assert "<sub>interrupted · 1 model turn(s)" in out
    # A stop that came while no step ran (the model was choosing) is still said, with what to do.
    out = shown(
        [ev.Error("interrupted", where="user", fix="ask again to continue"), ev.Done("interrupted", 1, 9, 1)], capsys
    )
    assert "**Error** (user): interrupted" in out and "ask again to continue" in out


def test_a_failed_steps_error_reads_as_written(capsys):
    """ESM-2's missing-model error names $KENKYU_MODELS twice: in JupyterLab the line between became TeX math;
    OpenMM's '<NULL>' would be an HTML tag and vanish (newcomer r11)."""
    missing = ev.ToolResult(
        "1",
        "structure_embed",
        False,
        "ERROR: ModelNotFoundError: esm2_t33 not in $KENKYU_MODELS; copy it into $KENKYU_MODELS",
        0.2,
    )
    crashed = ev.ToolResult("2", "md_run", False, "ERROR: OpenMMException: <NULL>", 0.1)
    out = shown([missing, crashed], capsys)
    assert r"not in \\$KENKYU\_MODELS; copy it into \\$KENKYU\_MODELS" in out
    assert r"OpenMMException: \<NULL\>" in out
    assert "✗ `structure_embed` (0.2 s)" in out  # the tool's name is still code
