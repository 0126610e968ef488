"""The report writes each md.extend as the total the session reached (to_ps=), read from the call's output."""

from __future__ import annotations

import nbformat.v4 as v4

from kenkyu.assistant.export import _extensions_to_totals


def _cell(source: str, *printed: str):
    cell = v4.new_code_cell(source)
    cell.outputs = [v4.new_output("stream", name="stdout", text=line + "\n") for line in printed]
    return cell


def _line(total: str) -> str:
    return f"md.extend: md_runs/v extended from 1 to {total} ps of production (to_ps={total})"


def test_each_call_gets_the_total_its_output_printed_in_order():
    cell = _cell(
        "a = md.extend(run, ps=1.0)\nb = kenkyu.tools.md.extend(run, 0.5, progress=False)\nc = md.extend('r')",
        _line("2.0"),
        "some other output",
        _line("2.5"),
        _line("12.5"),
    )
    _extensions_to_totals([cell])
    body = cell.source.splitlines()
    assert body[0].startswith("# to_ps=: the length this extension reached")
    assert body[1:] == [
        "a = md.extend(run, to_ps=2.0)",
        "b = kenkyu.tools.md.extend(run, to_ps=2.5, progress=False)",
        "c = md.extend('r', to_ps=12.5)",
    ]


def test_calls_that_cannot_be_matched_are_kept_with_a_comment_and_others_are_untouched():
    loop = _cell("for _ in range(2):\n    md.extend(run, ps=1.0)", _line("2.0"), _line("3.0"))
    unsaved = _cell("md.extend(run, ps=1.0)")
    given = _cell("md.extend(run, to_ps=3.0)", _line("3.0"))
    other = _cell("values.extend([1, 2])")
    _extensions_to_totals([loop, unsaved, given, other])
    for cell in (loop, unsaved):
        assert cell.source.startswith("# md.extend below extends the run again on every re-run of this report")
        assert cell.source.endswith("md.extend(run, ps=1.0)")
    assert given.source == "md.extend(run, to_ps=3.0)" and other.source == "values.extend([1, 2])"
