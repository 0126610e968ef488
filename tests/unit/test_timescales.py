"""Which protein process a request asks about, and whether a run was long enough to show it."""

from __future__ import annotations

import math

import pytest
from kenkyu.core.timescales import (
    PROCESSES,
    Process,
    format_ps,
    partly_covered,
    process_asked,
    shortfall,
    time_caveat,
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Does the loop move?", "loop motions"),
        ("do the loops between the helices open up", "loop motions"),
        ("Does it stay folded at 300 K?", "unfolding"),
        ("is villin still folded after the run", "unfolding"),
        ("does the protein unfold", "unfolding"),
        ("Is the protein stable?", "unfolding"),
        ("Does it fold?", "folding"),
        ("how fast does the helix form", "helix formation"),
        ("does the ligand leave the pocket", "ligand unbinding"),
        ("does the inhibitor stay bound?", "ligand unbinding"),
        ("does the drug bind to the protein", "ligand binding"),
        ("watch ligand binding", "ligand binding"),
        ("do the two domains move relative to each other", "domain motions"),
        ("which side chains change rotamer", "side-chain rotamers"),
        ("which residues are most mobile", "backbone fluctuations"),
        ("compute the RMSF", "backbone fluctuations"),
    ],
)
def test_the_process_a_request_asks_about_is_read_from_its_words(text, name):
    assert process_asked(text).name == name


@pytest.mark.parametrize(
    "text",
    ["plot the RMSD of the run", "simulate villin for 2 ps", "which residues line the binding site?", "", "loophole"],
)
def test_a_request_naming_no_process_gets_none(text):
    assert process_asked(text) is None


def test_a_4_ps_run_cannot_show_loop_motions_and_says_their_timescale():
    line = shortfall(4.0, process_asked("does the loop move?"))
    assert line.startswith("only 4 ps simulated")
    assert "loop motions take ns–µs" in line
    assert "cannot show" in line and "1 ns" in line  # how long to simulate instead


def test_a_4_ps_run_cannot_show_unfolding():
    line = shortfall(4.0, process_asked("does it stay folded?"))
    assert "unfolding takes µs–s" in line and "cannot show it" in line


def test_a_run_long_enough_for_the_process_gets_no_shortfall():
    loop = process_asked("does the loop move?")
    assert shortfall(2000.0, loop) is None  # 2 ns: past the fastest loop motions
    assert shortfall(1000.0, loop) is None
    assert shortfall(999.0, loop) is not None


def test_a_fast_process_on_a_short_run_gets_no_shortfall():
    assert shortfall(4.0, process_asked("which side chains change rotamer")) is None
    assert shortfall(0.5, process_asked("bond vibrations")) is None


def test_the_same_run_is_weighed_differently_for_different_questions():
    loop, folded = process_asked("does the loop move?"), process_asked("does it stay folded?")
    assert shortfall(5000.0, loop) is None  # 5 ns shows some loop motion
    assert "unfolding takes µs–s" in shortfall(5000.0, folded)  # but not unfolding
    assert "5 ns simulated" in shortfall(5000.0, folded)


def test_every_process_has_an_ordered_timescale_and_words():
    for process in PROCESSES:
        assert 0 < process.low_ps < process.high_ps, process
        assert process.words, process
        assert process_asked(process.name) is process  # its own name is recognised as itself


def test_a_bad_simulated_time_is_refused_with_what_was_wrong():
    with pytest.raises(ValueError, match="picoseconds >= 0"):
        shortfall(math.nan, PROCESSES[0])
    with pytest.raises(ValueError, match="-1"):
        shortfall(-1.0, PROCESSES[0])


def test_times_print_in_the_unit_that_suits_them():
    assert [format_ps(x) for x in (0.004, 4.0, 4000.0, 2e6, 0.0)] == ["4 fs", "4 ps", "4 ns", "2 µs", "0 ps"]
    assert Process("x", 1e5, 1e6, ("x",)).span == "100 ns–1 µs"


def test_the_caveat_line_weighs_the_run_against_the_process_asked_about():
    assert time_caveat(4.0, "does the loop move?").startswith("caveat: only 4 ps simulated; loop motions take ns–µs")
    assert "unfolding takes µs–s" in time_caveat(4.0, "does it stay folded?")
    # 4 ps reaches the fastest rotamer flips (ps) but not the slow ones (ns): a milder caveat, no shortfall.
    assert time_caveat(4.0, "which side chains change rotamer?") == (
        "caveat: only 4 ps simulated; side-chain rotamers take ps–ns, so this run shows only the fastest of them"
    )
    assert time_caveat(4.0, "do the bonds vibrate?") is None  # fs: fully covered
    # No process named: the generic caveat under 1 ns, none above.
    assert "slower processes" in time_caveat(4.0, "plot the RMSD") and "not sampled" in time_caveat(4.0)
    assert time_caveat(2000.0, "plot the RMSD") is None
    assert "unfolding takes µs–s" in time_caveat(2000.0, "is it still folded?")


def test_a_run_between_the_low_and_high_end_shows_only_the_fastest():
    loop = process_asked("does the loop move?")
    assert partly_covered(999.0, loop) is None  # below the low end: that is a shortfall
    assert (
        partly_covered(5000.0, loop)
        == "only 5 ns simulated; loop motions take ns–µs, so this run shows only the fastest of them"
    )
    assert partly_covered(2e6, loop) is None  # 2 µs: past the slow end
