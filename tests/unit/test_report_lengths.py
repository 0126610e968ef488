"""Which analysis calls of a report get end_ps= (the run's length when the session ran them), from the lines the
session's md.extend cells printed."""

from __future__ import annotations

import nbformat.v4 as v4

from kenkyu.assistant.report_lengths import analyses_at_their_length

RUN = "md_runs/villin_1vii_implicit"


def _extend_cell(source: str, start: float, total: float):
    line = f"md.extend: {RUN} extended from {start:g} to {total:g} ps of production (to_ps={total!r})\n"
    return v4.new_code_cell(source, outputs=[v4.new_output("stream", name="stdout", text=line)])


def test_analyses_before_between_and_after_extensions():
    body = [
        v4.new_code_cell("run = kenkyu.tools.md.run(structure='villin.pdb', ps=1.0, resume=True)"),
        v4.new_code_cell(f"a = kenkyu.tools.analysis.rmsd(trajectory='{RUN}/')"),  # before the first extension
        _extend_cell("extended_run = kenkyu.tools.md.extend(run=run, to_ps=2.0)", 1, 2),
        v4.new_code_cell("b = kenkyu.tools.analysis.rmsf(run, selection='name CA')"),  # between: by variable
        v4.new_code_cell("c = kenkyu.tools.analysis.rmsd(trajectory=run, frames='last 50%')"),  # its own window
        v4.new_code_cell("d = kenkyu.tools.analysis.rmsd(trajectory='md_runs/other')"),  # another run
        _extend_cell("extended_run_2 = kenkyu.tools.md.extend(run=run, to_ps=3.0)", 2, 3),
        v4.new_code_cell("e = kenkyu.tools.analysis.rmsd(trajectory=run)"),  # after the last: the whole run
    ]
    body.insert(4, v4.new_code_cell("f = kenkyu.tools.analysis.radius_of_gyration(extended_run)"))  # its result
    analyses_at_their_length(body)
    sources = [c.source for c in body]
    assert sources.pop(4).endswith("f = kenkyu.tools.analysis.radius_of_gyration(extended_run, end_ps=2.0)")
    assert sources[1].endswith(f"a = kenkyu.tools.analysis.rmsd(trajectory='{RUN}/', end_ps=1.0)")
    assert sources[1].startswith("# end_ps=: the run's length when the session ran this analysis")
    assert sources[3].endswith("b = kenkyu.tools.analysis.rmsf(run, selection='name CA', end_ps=2.0)")
    assert "end_ps" not in sources[4].splitlines()[-1] and "the session's run was 2 ps long here" in sources[4]
    assert sources[5] == "d = kenkyu.tools.analysis.rmsd(trajectory='md_runs/other')"
    assert sources[7] == "e = kenkyu.tools.analysis.rmsd(trajectory=run)"


def test_a_report_without_extensions_is_left_as_it_is():
    body = [v4.new_code_cell("a = kenkyu.tools.analysis.rmsd(trajectory='md_runs/x')")]
    analyses_at_their_length(body)
    assert body[0].source == "a = kenkyu.tools.analysis.rmsd(trajectory='md_runs/x')"
