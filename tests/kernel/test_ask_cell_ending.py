"""How a %%ask cell's output ends, read in a real kernel: a failed step is named, and a request that ran
nothing does not point at cells to insert (both misread by a newcomer during a day with kenkyu)."""

from notebooks import run_cells, text_of

from kenkyu.assistant.session import RECORD_MIME

TURNS = [
    {"text": "Hello: nothing to run for that."},
    {"text": "Trying it.", "tool_calls": [{"name": "toolbox_explode", "arguments": {"reason": "no docking tool"}}]},
    {"text": "That did not work."},
    {"text": "Squaring.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
    {"text": "9."},
]


def test_the_closing_lines_say_what_failed_and_what_there_is_to_keep(tmp_path, write_replay):
    replay = write_replay(TURNS)
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "%%ask\nhello",
            "%%ask\ndock a ligand",
            "%%ask\nsquare 3",
        ],
        tmp_path,
    )
    nothing, failed, fine = (text_of(cell) + last_line(cell) for cell in nb.cells[2:5])
    assert "ran no step for this request" in nothing and "%kenkyu cells" not in nothing
    assert "finished, 1 step failed (`toolbox_explode`)" in failed, failed
    assert "RuntimeError: no docking tool" in failed
    assert "recorded 1 action cell(s)" in failed  # the failed step's cell is still in the record
    assert "finished ·" in fine and "failed" not in fine and "recorded 1 action cell(s)" in fine


def last_line(cell) -> str:
    """The Markdown a notebook shows beside the request's record (the last output of the cell)."""
    return next(o["data"]["text/markdown"] for o in cell.outputs if RECORD_MIME in o.get("data", {}))


def test_a_tool_call_with_no_words_before_it_leaves_no_blank_output(tmp_path, write_replay):
    # The embedded model streams an empty text before its tool call; shown as it came, every such %%ask cell
    # opened with an empty output block (a newcomer's export, ingest and "why did that fail?" cells).
    replay = write_replay(
        [{"text": " \n", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 4}}]}, {"text": "16."}]
    )
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "%%ask\nsquare 4",
        ],
        tmp_path,
    )
    shown = [o["data"]["text/markdown"] for o in nb.cells[2].outputs if "text/markdown" in o.get("data", {})]
    assert shown and all(text.strip() for text in shown), shown
    assert "toolbox_square" in shown[1] and "16." in text_of(nb.cells[2])
