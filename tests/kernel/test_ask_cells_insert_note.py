"""`%kenkyu cells` says what it inserted and that it has not run (newcomer r11).

It inserted the last request's action cell below and printed nothing. A newcomer's last request was a simulation
they had stopped; the inserted cell stayed unrun, and the export they asked for next ran it: a 20 ps simulation in
the middle of "write me a report". The magic now says the cell below has not run, and that a report runs every code
cell it holds. A real kernel (nbclient), the replayed model calls the test toolbox's square.
"""

from __future__ import annotations

from notebooks import run_cells, text_of

TURNS = [
    {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3.0}}]},
    {"text": "The square of 3 is 9."},
]


def test_kenkyu_cells_says_the_inserted_cell_has_not_run(tmp_path, write_replay):
    replay = write_replay(TURNS)
    nb, _ = run_cells(
        [
            f"%load_ext kenkyu\n%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "%%ask\nsquare 3 for me",
            "%kenkyu cells",
        ],
        tmp_path,
    )
    said = text_of(nb.cells[2])
    assert "Inserted below, not run: 1 step(s) of your last request ('square 3 for me')" in said, said
    assert "delete it before `%kenkyu export`: a report runs every code cell it holds" in said, said
