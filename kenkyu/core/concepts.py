"""Matching a request's words to the concepts a tool declares, across inflection and spelling.

A scientist says "how helical is it", "compactness", "minimise", "my notes"; a tool declares "helicity",
"radius of gyration", "energy minimization", "literature" (``@computes`` in :mod:`kenkyu.core.science`,
and ``keywords``). Exact words miss these, and a sentence embedder barely tells "helical" from
"structures" (cosine 0.43 against 0.39 to "helix"). So the words are compared as stems (Snowball's English
stemmer, after British spellings are made American: "minimise" and "minimization" share "minim"), and a
concept said after a negation ("no md", "without dynamics") counts against the tool instead of for it.
"""

from __future__ import annotations

import re
from functools import lru_cache

# British -> American before stemming ("minimisation" -> "minimization", "colour" -> "color"); the stems of
# the two spellings then agree.
_BRITISH = (
    (re.compile(r"(\w{3,})is(e|ed|es|ing|ation|ations|er|ers)\b"), r"\1iz\2"),
    (re.compile(r"(\w{2,})yse(d|s)?\b"), r"\1yze\2"),
    (re.compile(r"(\w{2,})our\b"), r"\1or"),
    (re.compile(r"(\w{3,})tre(s)?\b"), r"\1ter\2"),
)
# Words that stop the British rule where "-ise" is no verb ending ("exercise", "precise", "noise").
_NOT_BRITISH = {
    *("precise", "noise", "raise", "raised", "wise", "otherwise", "likewise", "promise", "premise", "expertise"),
}
# The one way of asking whether kenkyu can do something ("can you", "does kenkyu", "is it able to", "will you be able
# to"): this question and assistant/overview.py's "does kenkyu do metadynamics?" are both read with it.
CAN_YOU = (
    r"(?:(?:can|could|do|does|will)\s+(?:you|kenkyu|it)\s+(?:also\s+|even\s+|actually\s+|really\s+)*"
    r"(?:be\s+able\s+to\s+)?|(?:are\s+you|is\s+kenkyu|is\s+it)\s+(?:also\s+|even\s+|actually\s+)*able\s+to\s+)"
)
_WORD = re.compile(r"[^\W_]+")
# A negation governs the next few words: "no md", "without the dynamics", "don't simulate".
_NEGATION = re.compile(r"\b(?:no|not|without|never|don'?t|do\s+not|skip|instead\s+of|rather\s+than)\b")
NEGATION_REACH = 3  # words after the negation that it governs


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def americanize(text: str) -> str:
    out = []
    for word in re.split(r"(\W+)", text.lower()):
        if word and word not in _NOT_BRITISH and word.isalpha():
            for pattern, replacement in _BRITISH:
                word = pattern.sub(replacement, word)
        out.append(word)
    return "".join(out)


# Words scientists use for a tool's word (the stems differ: "replicates" -> "replic", "replicas" -> "replica")
_SAME_AS = {"replicate": "replica", "replicates": "replicas"}


@lru_cache(maxsize=4096)
def words_of(text: str) -> tuple[str, ...]:
    """The text's words, lower case, American spelling, hyphens and underscores as spaces ("replicates" said as
    the tools' "replicas")."""
    words = _WORD.findall(americanize(text.replace("-", " ").replace("_", " ")))
    return tuple(_SAME_AS.get(w, w) for w in words)


def other_spellings(words) -> set[str]:
    """The words :func:`words_of` reads as one of ``words`` ("replicates" for "replicas"): a typo of either is
    corrected ("replciates" is one swap from "replicates", two letters from "replicas")."""
    words = set(words)
    return {said for said, meant in _SAME_AS.items() if meant in words}


@lru_cache(maxsize=4096)
def stems(text: str) -> tuple[str, ...]:
    """The text's words as stems: "How helical are the helices?" -> ("how", "helic", "are", "the", "helic")."""
    return tuple(_stemmer().stemWords(list(words_of(text))))


def _find(phrase: tuple[str, ...], words: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(words) - n + 1) if words[i : i + n] == phrase] if n else []


def _negated_positions(text: str) -> set[int]:
    """Word positions (in :func:`stems` order) that a negation governs."""
    lowered = americanize(text.replace("-", " ").replace("_", " "))
    governed: set[int] = set()
    for match in _NEGATION.finditer(lowered):
        start = len(_WORD.findall(lowered[: match.end()]))
        # A clause ends a negation's reach: in "no md, just minimise" the minimising is wanted.
        clause = re.split(r"[,.;:!?]", lowered[match.end() :], maxsplit=1)[0]
        governed.update(range(start, start + min(NEGATION_REACH, len(_WORD.findall(clause)))))
    return governed


def concept_hits(text: str, phrases, stemmed: bool = True, covered: set[int] | None = None) -> tuple[int, int]:
    """How many of ``phrases`` the text says (by stems, or word for word with ``stemmed=False``), and how
    many of those only under a negation: ("no md, just minimise", ["md"]) -> (1, 1). A phrase whose words
    all lie in ``covered`` (word positions another match took) does not count again; the positions this
    call matched are added to ``covered``."""
    split = stems if stemmed else words_of
    # Determiners between a phrase's words do not hide it: "across my replicas" says "across replicas".
    kept = [(i, w) for i, w in enumerate(split(text)) if w not in _DETERMINERS]
    positions, words = [i for i, _ in kept], tuple(w for _, w in kept)
    negated = _negated_positions(text)
    covered = set() if covered is None else covered
    said = denied = 0
    for phrase in dict.fromkeys(phrases):
        wanted = tuple(w for w in split(phrase) if w not in _DETERMINERS) or split(phrase)
        spans = [set(range(positions[i], positions[i + len(wanted) - 1] + 1)) for i in _find(wanted, words)]
        found = [span for span in spans if not span <= covered]
        if not found:
            continue
        said += 1
        if all(min(span) in negated for span in found):
            denied += 1
        for span in found:
            covered.update(span)
    return said, denied


_DETERMINERS = {"the", "my", "our", "your", "their", "its", "this", "that", "these", "those", "a", "an"}


def _one_typo_apart(typed: str, known: str) -> bool:
    """One slip of the keyboard: two neighbours swapped ("compcat"), one letter wrong or one left out."""
    if typed[0] != known[0]:
        return False  # a first letter is seldom mistyped, and other words begin differently
    if len(typed) == len(known):
        diff = [i for i, (a, b) in enumerate(zip(typed, known)) if a != b]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == known[diff[1]]
        return len(diff) == 1 or (swapped and typed[diff[1]] == known[diff[0]])
    if len(typed) + 1 == len(known) and not known.startswith(typed):  # "contact" is no typo of "contacts"
        return any(known[:i] + known[i + 1 :] == typed for i in range(len(known)))
    return False


def corrected_spelling(text: str, vocabulary, min_length: int = 6, real_words=frozenset()) -> str:
    """``text`` with each word one typo away from exactly one word of ``vocabulary`` (the tools' words) spelt as
    that word: "how compcat does it stay" -> "how compact does it stay", "hydorgen bonds" -> "hydrogen bonds".
    Short words are left alone (too many real words lie one letter from each other), and so is every word
    that is itself in the vocabulary, or a word of ``real_words`` (English: "folder" is no typo of "folded")."""
    known = {w for w in vocabulary if len(w) >= min_length and w.isalpha()}

    def fix(match: re.Match) -> str:
        word = match.group(0)
        lowered = word.lower()
        if len(lowered) < min_length or lowered in known or not lowered.isalpha() or lowered in real_words:
            return word
        near = [k for k in known if abs(len(k) - len(lowered)) <= 1 and _one_typo_apart(lowered, k)]
        return near[0] if len(near) == 1 else word

    return re.sub(r"[A-Za-z]+", fix, text)


# Common proteins by the names scientists call them: a file's stem or header names one ("villin.pdb", "dhfr.pdb",
# "1ubq.pdb"), and "the headpiece", "the reductase", "hen lysozyme" mean that file. Each group is one protein; its first
# name is the usual short one. PDB ids are left out on purpose: another entry of the same protein is another
# structure (1VII and 2F4K are different villin headpieces), and naming one must never pick the other.
PROTEIN_NAMES: tuple[tuple[str, ...], ...] = (
    ("villin", "villin headpiece", "headpiece", "hp35", "hp36", "hp-35", "hp-36", "villin hp35", "villin hp36"),
    ("dhfr", "dihydrofolate reductase", "reductase", "folate reductase"),
    ("lysozyme", "hen egg white lysozyme", "hen egg-white lysozyme", "hewl", "hen lysozyme", "egg white lysozyme"),
    ("t4 lysozyme", "t4l", "t4 lyso"),
    ("ubiquitin", "ubq"),
    ("trp-cage", "trpcage", "trp cage", "tc5b"),
    ("bpti", "trypsin inhibitor", "bovine pancreatic trypsin inhibitor", "aprotinin"),
    ("gb1", "protein g", "protein g b1", "gb1 domain", "b1 domain"),
    ("chignolin", "cln025"),
    ("barnase",),
    ("barstar",),
    ("calmodulin",),
    ("myoglobin",),
    ("hemoglobin", "haemoglobin"),
    ("gfp", "green fluorescent protein"),
    ("crambin",),
    ("insulin",),
    ("ww domain", "pin1 ww", "fip35"),
    ("engrailed homeodomain", "homeodomain", "en-hd", "enhd"),
    ("lambda repressor", "λ repressor"),
    ("b domain of protein a", "bdpa"),
    ("sh3", "sh3 domain", "src sh3"),
    ("alanine dipeptide", "ace-ala-nme", "dialanine"),
    ("abeta", "amyloid beta", "aβ", "abeta42", "abeta40"),
    ("alpha-synuclein", "synuclein", "α-synuclein", "asyn"),
    ("bba", "bba5"),
    ("ntl9",),
    ("adenylate kinase", "adk"),
    ("kras", "k-ras"),
    ("thrombin",),
    ("trypsin",),
    ("hiv protease", "hiv-1 protease", "hiv pr"),
)
_PROTEIN_GROUP = {name: group for group in PROTEIN_NAMES for name in group}
# What kind of protein each is, as a scientist says it when only one such protein is in the folder: "the enzyme"
# (dhfr.pdb beside villin.pdb), "the folate enzyme", "the protease". Two files of one kind both answer to it, and the
# request is asked about, never guessed (the resolver's ambiguity).
_ENZYME = ("enzyme",)
PROTEIN_KINDS: dict[str, tuple[str, ...]] = {
    "dhfr": (*_ENZYME, "folate enzyme", "reductase enzyme"),
    "lysozyme": _ENZYME,
    "t4 lysozyme": _ENZYME,
    "barnase": (*_ENZYME, "ribonuclease", "rnase"),
    "adenylate kinase": (*_ENZYME, "kinase"),
    "kras": ("gtpase",),
    "thrombin": (*_ENZYME, "protease"),
    "trypsin": (*_ENZYME, "protease"),
    "hiv protease": (*_ENZYME, "protease"),
    "bpti": ("inhibitor", "protease inhibitor"),
    "barstar": ("inhibitor",),
    "villin": ("actin-binding domain",),
    "gfp": ("fluorescent protein",),
}


def protein_nicknames(names) -> tuple[str, ...]:
    """The other names of the common protein one of ``names`` (a file's stem, its first word, its header's words) is:
    ("villin", "villin_1vii") -> ("villin headpiece", "headpiece", "hp35", ...), and the kind of protein it is
    (:data:`PROTEIN_KINDS`: "enzyme" for dhfr). Empty when none is one."""
    found: list[str] = []
    for name in names:
        key = str(name).lower().replace("_", " ").strip()
        for candidate in (key, key.replace(" ", "-"), key.split(" ")[0] if " " in key else ""):
            group = _PROTEIN_GROUP.get(candidate)
            if group:
                found += [n for n in group if n != candidate] + list(PROTEIN_KINDS.get(group[0], ()))
    seen = {str(n).lower() for n in names}
    return tuple(dict.fromkeys(n for n in found if n not in seen))
