"""A request's word that nothing explains names what is missing (kenkyu/core/unknown_words.py).

The scientist names a colleague's work, another program's output or a method kenkyu lacks; no kernel variable, file or
run here goes by it and no tool says it: the step is asked about, with nothing called, and the reply names the word.
Everyday words, their inflections and their typos, words the notebook holds, the tools' own words (options
included), and what the request sets aside ("we don't have GROMACS here") are never taken for one. Wordings our own.
"""

import pytest

from kenkyu.core.providers.local_llama import _tool_words
from kenkyu.core.routing import Candidate, missing_message, unheard_of
from kenkyu.core.unknown_words import is_common, unknown_word

import test_routing_bindings_r9
import test_routing_round14
from test_routing_bindings_r9 import TOOLS, VILLIN_PDB
from test_routing_round12 import NEWER

KNOWN = _tool_words(TOOLS, options=True)
provider = test_routing_bindings_r9.provider  # the fixtures, here by their names
villin_here = test_routing_round14.villin_here


@pytest.mark.parametrize(
    "text, word",
    [
        ("redo the analysis Okonkwo ran last spring, but on my newest run", "Okonkwo"),
        ("use the partial charges from my APBS calculation and relax villin", "APBS"),
        ("score the designs Nakashima sent over with ESM-2", "Nakashima"),
        ("compute the rmsd after superposing on the pharmacophore of the ligand", "pharmacophore"),
    ],
)
def test_a_word_nothing_explains_is_named(text, word):
    assert unknown_word(text, KNOWN, ["villin.pdb", "villin", "md_runs/hp_long"]) == word


@pytest.mark.parametrize(
    "text",
    [
        # inflections and prefixes of everyday words
        "make this notebook rerunnable and export it",
        "the rmsd plateaued early, is the helix unravelling?",
        # typos of everyday words and of the tools' words, one slip (two in a long word)
        "what's the radius of gyration of the strucuter in the file?",
        "which hydorgen bonds hold up in my run?",
        "ugh, the last cell just failed. why?",
        # residues by name, units, proteins kenkyu knows
        "how far apart are the two lysines and the glutamate? in angstrom",
        "relax lysozyme in vacuo",
        # the tools' own words, options included
        "what does the reproducible option of a run actually change?",
    ],
)
def test_everyday_words_typos_and_the_tools_words_are_known(text):
    assert unknown_word(text, KNOWN, []) is None


@pytest.mark.parametrize(
    "text",
    [
        "we don't have GROMACS on this cluster, so run villin with kenkyu",
        "Rosetta isn't installed here; score K65A with ESM-2 instead",
        "I also ran AMBER on it but ignore that - what's the rg of my run?",
        "can you do metadynamics?",
    ],
)
def test_a_word_the_request_sets_aside_or_asks_kenkyu_about_is_none(text):
    assert unknown_word(text, KNOWN, []) is None


def test_a_word_the_notebook_holds_is_known():
    named = Candidate(
        "run_folder", "md_runs/okonkwo", "md_runs/okonkwo", names=("md_runs/okonkwo", "okonkwo"), aliases=()
    )
    assert unheard_of("rg of the okonkwo run please", [named, VILLIN_PDB], KNOWN) is None
    assert unknown_word("redo what Okonkwo ran", KNOWN, ["md_runs/okonkwo", "okonkwo"]) is None


def test_the_step_is_asked_about_and_the_reply_names_the_word():
    step = "redo the analysis Okonkwo ran last spring, but on my newest run"
    missing = unheard_of(step, [NEWER, VILLIN_PDB], KNOWN)
    assert missing is not None and missing.phrase == "`Okonkwo`"
    reply = missing_message(step, missing)
    assert "Okonkwo" in reply and "called nothing" in reply
    assert "path or name" in missing.fix  # how to give it, if it is a file or variable after all


@pytest.mark.parametrize(
    "step",
    [
        "what do my notes say about Okonkwo's folding model?",  # a question to the notes: its topic's words
        "contact map of GEWTWDDATKTWTWTE (a trpzip variant we're designing)",  # an aside in brackets
        "how many hydrogen bonds are intramolecular in my newest run?",  # a lower-case adjective describes
    ],
)
def test_topics_asides_and_descriptions_are_read_as_no_missing_thing(step):
    assert unheard_of(step, [NEWER, VILLIN_PDB], KNOWN) is None


def test_no_tool_is_called_for_it(villin_here):
    step = "take the protonation states from my PROPKA output and relax villin with them"
    assert villin_here.choose_call(step, TOOLS) is None
    assert "`PROPKA`" in villin_here.last_problem and "called nothing" in villin_here.last_problem
    assert "would call `md_minimize`" in villin_here.last_problem  # the tool meant, named


def test_rare_words_are_rare_and_everyday_ones_are_not():
    assert not is_common("propka") and not is_common("centroid")
    assert is_common("wobble") and is_common("floppy") and is_common("yelling")
