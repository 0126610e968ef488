"""How long protein processes take, so that a result can say whether its run was long enough to show one.

A 10 ps simulation can say something about side-chain rotamers and nothing about folding. Which of the two
a request is about is read from its words (:func:`process_asked`), and the simulated time is weighed
against that process's typical timescale (:func:`shortfall`), not against one fixed threshold.

The numbers are orders of magnitude at room temperature, as the literature gives them, not predictions for
a given protein (heating, as in the 400-500 K of simulated unfolding, speeds these up by orders of magnitude):

- bond vibrations fs, side-chain rotamers ps–ns, loop motions ns–µs, collective (domain) motions µs–ms,
  folding and unfolding µs–s and slower: Henzler-Wildman & Kern, "Dynamic personalities of proteins",
  Nature 450, 964–972 (2007), Fig. 2 (the timescale of protein dynamics).
- backbone fluctuations around the folded structure ps–ns (the same figure's fastest tier; an RMSF
  converges over ns).
- helix formation ~0.1–1 µs: Kubelka, Hofrichter & Eaton, "The protein folding 'speed limit'",
  Curr. Opin. Struct. Biol. 14, 76–88 (2004).
- the fastest folders fold in µs (Lindorff-Larsen, Piana, Dror & Shaw, "How fast-folding proteins fold",
  Science 334, 517–520 (2011)); most proteins in ms–s.
- ligand unbinding: residence times of ms–s and longer (Copeland, Pompliano & Meek, "Drug–target residence
  time and its implications for lead optimization", Nat. Rev. Drug Discov. 5, 730–739 (2006)); binding
  from solution at the mM concentrations of a simulation box takes µs (Shan et al., "How does a drug
  molecule find its target binding site?", J. Am. Chem. Soc. 133, 9181–9183 (2011)), ms at µM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FS, PS, NS, US, MS, S = 1e-3, 1.0, 1e3, 1e6, 1e9, 1e12  # in picoseconds


@dataclass(frozen=True)
class Process:
    """A protein process, its typical timescale in picoseconds and the words a request names it by.

    ``words`` are regular expressions matched case-insensitively as whole words ("loops?" matches "loop"
    and "loops", not "loophole").
    """

    name: str
    low_ps: float
    high_ps: float
    words: tuple[str, ...]

    @property
    def span(self) -> str:
        """The timescale in units a reader knows at a glance: "ns–µs", "0.1–1 µs"."""
        low, high = format_ps(self.low_ps), format_ps(self.high_ps)
        if low.split()[1] == high.split()[1]:
            return f"{low.split()[0]}–{high}"
        if low.startswith("1 ") and high.startswith("1 "):  # whole decades: the units say it all
            return f"{low.split()[1]}–{high.split()[1]}"
        return f"{low}–{high}"


# Most specific first: the first process whose words a text contains is the one it asks about, so
# "does it stay folded" is unfolding before "folded" can make it folding, and "does the helix fold" is
# helix formation.
PROCESSES: tuple[Process, ...] = (
    Process("bond vibrations", 1 * FS, 100 * FS, (r"bond (?:vibration|stretch)\w*", r"vibrat\w*")),
    Process(
        "ligand unbinding",
        1 * MS,
        1 * S,
        (
            r"unbind\w*",
            r"dissociat\w*",
            r"residence time",
            r"(?:leave|leaves|leaving|escape\w*|exit\w*) the (?:pocket|site|binding site)",
            r"(?:ligand|drug|inhibitor)s? (?:\w+ )?(?:stays?|remains?) bound",
        ),
    ),
    # Not "binding site" or "bound": those name a place or a state, not the event of binding.
    Process(
        "ligand binding",
        1 * US,
        1 * MS,
        (
            r"binds?",
            r"(?:ligand|drug|inhibitor)s? binding",
            r"binding (?:event|kinetics|pathway|process)\w*",
            r"dock(?:s|ing)? (?:into|to|in)",
        ),
    ),
    Process("helix formation", 100 * NS, 1 * US, (r"helix (?:formation|forms?|folds?|folding)", r"helices form")),
    Process(
        "unfolding",
        1 * US,
        1 * S,
        (
            r"unfold\w*",
            r"(?:stay|stays|remain|remains|keep|keeps|still|stay\w*) (?:\w+ )?folded",
            r"denatur\w*",
            r"melt\w*",
            r"(?:fall|falls|falling|come|comes) apart",
            r"stable|stability",
        ),
    ),
    Process("folding", 1 * US, 1 * S, (r"fold(?:s|ed|ing)?", r"misfold\w*")),
    Process(
        "domain motions",
        1 * US,
        1 * MS,
        (
            r"domains?",
            r"hinge\w*",
            r"allosteric\w*",
            r"conformational (?:change|transition|switch)\w*",
            r"collective motions?",
        ),
    ),
    Process("loop motions", 1 * NS, 1 * US, (r"loops?", r"flaps?")),
    Process("side-chain rotamers", 1 * PS, 1 * NS, (r"side[- ]?chains?", r"rotamers?", r"chi angles?")),
    Process(
        "backbone fluctuations",
        1 * PS,
        1 * NS,
        (r"fluctuat\w*", r"rmsf", r"flexib\w*", r"mobile", r"mobility", r"wiggl\w*", r"jiggl\w*"),
    ),
)

_PATTERNS = tuple(
    (process, re.compile(r"\b(?:" + "|".join(process.words) + r")\b", re.IGNORECASE)) for process in PROCESSES
)


def process_asked(text: str) -> Process | None:
    """The process a question or request is about, from its words; None when it names none."""
    if not text:
        return None
    for process, pattern in _PATTERNS:
        if pattern.search(text):
            return process
    return None


def shortfall(simulated_ps: float, process: Process) -> str | None:
    """A caveat when the simulated time is below the shortest time the process takes; None when it is not.

    Below the low end the run cannot show the process at all: its absence in the result is no evidence.
    """
    if simulated_ps != simulated_ps or simulated_ps < 0:  # NaN or negative: no time to weigh
        raise ValueError(f"simulated time must be a number of picoseconds >= 0, got {simulated_ps!r}")
    if simulated_ps >= process.low_ps:
        return None
    return (
        f"only {format_ps(simulated_ps)} simulated; {process.name} take{'s' if _singular(process) else ''} "
        f"{process.span}, so this run cannot show {'it' if _singular(process) else 'them'} "
        f"(simulate at least {format_ps(process.low_ps)} to see the fastest)"
    )


def partly_covered(simulated_ps: float, process: Process) -> str | None:
    """A milder caveat when the run reaches the process's low end but not its high end: it can show the
    fastest events only, so their absence says little. None below the low end (that is a shortfall) and
    past the high end."""
    if not process.low_ps <= simulated_ps < process.high_ps:
        return None
    return (
        f"only {format_ps(simulated_ps)} simulated; {process.name} take{'s' if _singular(process) else ''} "
        f"{process.span}, so this run shows only the fastest of {'it' if _singular(process) else 'them'}"
    )


# With no process named, a run under 1 ns is flagged for everything slower than local motions.
GENERIC_SHORT_PS = 1 * NS


def time_caveat(simulated_ps: float, text: str = "") -> str | None:
    """The caveat line a result on ``simulated_ps`` of simulation carries, for the request ``text``.

    When the request names a process, the run is weighed against that process: a 4 ps run cannot show
    loop motions (:func:`shortfall`), shows only the fastest side-chain rotamer flips (:func:`partly_covered`)
    and covers bond vibrations. When it names none, a run under 1 ns gets the generic caveat that slower
    processes were not sampled.
    """
    process = process_asked(text)
    if process is not None:
        line = shortfall(simulated_ps, process) or partly_covered(simulated_ps, process)
    elif simulated_ps < GENERIC_SHORT_PS:
        line = (
            f"only {simulated_ps:.3g} ps simulated: slower processes (loop and domain motions take ns, folding, "
            "unfolding and binding microseconds or more) are not sampled, so this says nothing about them"
        )
    else:
        line = None
    return f"caveat: {line}" if line else None


def _singular(process: Process) -> bool:
    return not process.name.endswith("s")


_UNITS = ((S, "s"), (MS, "ms"), (US, "µs"), (NS, "ns"), (PS, "ps"), (FS, "fs"))


def format_ps(ps: float) -> str:
    """A time in picoseconds in the unit that suits it: 0.004 ps -> "4 fs", 4000 ps -> "4 ns"."""
    if ps == 0:
        return "0 ps"
    size = next((size for size, _ in _UNITS if ps >= size * 0.999), FS)
    return f"{ps / size:.3g} {dict(_UNITS)[size]}"
