"""The answer to "what can you do?": kenkyu's tools by family, each with one request to try.

Built from the registry (each tool module's docstring names its family; each tool's first keyword and
required input make the example), so a new tool module shows up without an edit here.
"""

from __future__ import annotations

import json
import importlib
import os
import re
from pathlib import Path

from kenkyu.core.concepts import CAN_YOU

_QUESTION = re.compile(
    r"^\s*(?:(?:so|ok|okay|hi|hello|hey)[,!.]?\s+)?(?:"
    r"help|\?|what\s+(?:else\s+)?(?:can|could)\s+(?:you|kenkyu|i|we)\s+(?:do|ask|use|help\s+with)"
    r"(?:\s+(?:here|for\s+me|with\s+(?:you|this|it|kenkyu|(?:my\s+|the\s+|a\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*)?)))?"
    r"|what\s+(?:are|is)\s+your\s+(?:capabilities|tools|skills)|what\s+tools\s+(?:do\s+you\s+have|are\s+there)"
    r"|how\s+(?:can|do)\s+(?:you|i\s+use\s+you)\s+help(?:\s+me)?|what\s+do\s+you\s+do|list\s+(?:your|the)\s+tools"
    r"|capabilities|what\s+are\s+you"
    r")\s*[?.!]*\s*$",
    re.IGNORECASE,
)

# Example objects for a tool's required input, by the input's kind (kenkyu.core.routing.slot_kind).
_EXAMPLE_INPUT = {
    "trajectory": "md_runs/villin",
    "ensemble": "md_ensembles/villin",
    "structure": "villin.pdb",
    "topology": "villin.pdb",
    "sequence": "MKTAYIAKQRQISFVK",
    "prediction": "the last prediction",
    "error": "the last error",
    "system": "md_runs/villin",
}


# "what analyses do you know?", "which simulations can you run?": a question about a family of tools.
_FAMILY_QUESTION = re.compile(
    r"^\s*(?:(?:so|ok|okay|hi|hello|hey|and|also)[,!.]?\s+)*(?:what|which)\s+(?:kinds?\s+of\s+|sorts?\s+of\s+)?"
    r"(?:analys[ie]s|analyses|simulations?|tools?|methods?|calculations?|things|features?|skills?)\s+"
    r"(?:do|can|could)\s+(?:you|kenkyu)\s+(?:know|have|do|run|offer|support|use|compute|make)"
    r"(?:\s+(?:of|about|here))?\s*[?.!]*\s*$",
    re.IGNORECASE,
)


# "what sort of things could you help me with on a protein MD project?", "what kind of stuff can you do for a
# structural biologist?": what kenkyu can do, asked with any short setting after it (no file, no number).
_BROAD_QUESTION = re.compile(
    r"^\s*(?:(?:so|ok|okay|hi|hello|hey|and|also)[,!.]?\s+)*(?:what|which)\s+(?:(?:kinds?|sorts?|types?)\s+of\s+)?"
    r"(?:things\s+|stuff\s+|tasks\s+|jobs\s+|work\s+)?(?:can|could|would|will|do)\s+(?:you|kenkyu)\s+"
    r"(?:do|help|offer|support|assist|handle)\b(?:\s+(?:me|us))?(?:\s+(?:with|for|on|in|at))?(?P<tail>[^?.!]*)[?.!]*\s*$",
    re.IGNORECASE,
)


def _broad(sentence: str) -> bool:
    found = _BROAD_QUESTION.match(sentence)
    if not found:
        return False
    tail = found["tail"]
    return len(tail.split()) <= 10 and not re.search(r"\d|[\w-]+\.[a-z]{2,5}\b|/", tail)


def is_capability_question(prompt: str) -> bool:
    """ "what can you do?", "help", "what tools do you have?": a question about kenkyu, not a task; also
    inside a longer message ("hi! can you run md? and what analyses do you know?"), sentence by sentence."""
    text = prompt or ""
    if _QUESTION.match(text):
        return True
    # A sentence of punctuation alone ("?? what did i break") is no question about kenkyu: the words are.
    # A greeting or a remark before the question ("hi! I have a villin pdb here - what can you do with it?",
    # "if I only have a sequence, what can you do with it?") does not hide it: clauses count one by one.
    sentences = [
        s for s in re.split(r"(?<=[?!.])\s+|\s+[-\u2013\u2014]+\s+|[,:;]\s+", text.strip()) if re.search(r"\w", s)
    ]
    return any(_QUESTION.match(s) or _FAMILY_QUESTION.match(s) or _broad(s) for s in sentences)


# "Does kenkyu do metadynamics or umbrella sampling?", "can you run replica exchange?": a question whether kenkyu
# has a method. When no tool names one of the methods asked about, the answer is what exists and what does not
# (an overview), never a call of the nearest tool on a structure the question does not name.
_METHOD_QUESTION = re.compile(
    rf"(?:^|[.?!]\s+)(?:so\s+|and\s+)?{CAN_YOU}(?:do|run|support|handle|offer|perform|compute|have)\s+"
    r"(?:any\s+)?(?P<methods>[a-z][a-z\s,/-]*?)\s*(?:\?|$|\s[-\u2013\u2014]\s|\bif\b|\bat\s+all\b)",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^(?:an?|the|some|any)\s+", re.I)


def methods_asked(prompt: str) -> list[str]:
    """The methods a "does kenkyu do X or Y?" question names (["metadynamics", "umbrella sampling"]); [] when the
    question names a file, a number or a kernel-looking name (then it is a request: "can you run md on x.pdb?")."""
    found = _METHOD_QUESTION.search(prompt or "")
    # ("can you compute the rmsd of traj?" names its object: a request, not a question about a method)
    objects = r"\b(?:of|on|for|in|from|with|to|over|between|my|this|that|these|it|them)\b"
    if not found or re.search(rf"\d|[\w-]+\.[a-z]{{2,5}}\b|/|_|{objects}", found["methods"]):
        return []
    parts = re.split(r"\s*(?:,|/|\bor\b|\band\b)\s*", found["methods"])
    return [_LEAD.sub("", p).strip() for p in parts if p.strip() and len(p.split()) <= 4]


def methods_lacking(prompt: str, tools) -> list[str]:
    """Of the methods asked about, those no tool's name, summary or keywords mention."""
    from kenkyu.core.routing import tool_text

    text = " ".join(tool_text(t) for t in tools).lower().replace("-", " ")
    lacking = []
    for method in methods_asked(prompt):
        words = method.lower().replace("-", " ")
        singular = re.sub(r"(?<!s)s\b", "", words)
        if words not in text and singular not in text:
            lacking.append(method)
    return lacking


def lacking_answer(lacking: list[str], registry, here: str | os.PathLike | None = None) -> str:
    said = " or ".join(", ".join(lacking).rsplit(", ", 1)) if len(lacking) > 1 else lacking[0]
    return (
        f"No kenkyu tool does {said}: nothing here offers it, so I called nothing. "
        "Below is what kenkyu can do, the trajectory analyses among it.\n\n" + overview(registry, here)
    )


def overview(registry, here: str | os.PathLike | None = None) -> str:
    """A short Markdown overview: one line per tool family with what it covers and one example request.

    The examples name what is really in the working folder ``here`` (default: the current directory) when
    it holds a run folder or a PDB file: an example naming a folder that does not exist sends a newcomer
    to an error (issue 18).
    """
    from kenkyu.core.routing import slot_kind

    families: dict[str, list] = {}
    for t in registry:
        families.setdefault(t.module, []).append(t)
    lines = [
        "I work in this notebook: each step I take is a code cell you can read and re-run. What I can do:",
        "",
    ]
    for module, tools in families.items():
        title = _family_title(module)
        covers = _covers(tools)
        example = _with_real_names(_example(tools[0], slot_kind), Path.cwd() if here is None else Path(here))
        lines.append(f"- **{title}**: {covers}. Try: *{example}*{_weights_note(module)}")
    if getattr(registry, "unavailable", None):
        missing = ", ".join(f"`{m}`" for m in sorted(registry.unavailable))
        lines.append(f"- not installed here: {missing} (`pip install 'kenkyu[all]'`)")
    lines += [
        "",
        "Name your input as a file, a run folder or a kernel variable (`traj`), or say *my last run*; "
        "`%kenkyu tools` lists every tool with its Python call.",
    ]
    return "\n".join(lines) + "\n"


def _weights_note(module: str) -> str:
    """For the protein language models, whether their weights are here: the family's example needs ESM-2, and a
    newcomer who tried it on a machine without the weights met the missing-model error first (round 16)."""
    if module.rsplit(".", 1)[-1] != "structure":
        return ""
    try:
        from kenkyu.tools.structure._models import DEFAULT_ESM2_MODEL, ModelNotFoundError, resolve_esm2_model
    except Exception:  # noqa: BLE001 - the family is listed as not installed instead
        return ""
    try:
        resolve_esm2_model(DEFAULT_ESM2_MODEL)
    except ModelNotFoundError:
        return (
            f" (its ESM-2 weights, `{DEFAULT_ESM2_MODEL}`, are not on this machine yet and nothing is downloaded: "
            "*list the protein models* says where they go)"
        )
    return ""


def _family_title(module: str) -> str:
    """The first phrase of the module's docstring ("Trajectory analysis with mdtraj"), else its name; the
    notebook's own ``@kenkyu.tool`` functions are the user's tools (IPython's ``__main__`` docstring,
    "Automatically created module for IPython interactive environment", was their family's title, r11)."""
    if module == "__main__":
        return "Your own tools, defined in this notebook"
    try:
        doc = importlib.import_module(module).__doc__ or ""
    except Exception:
        doc = ""
    first = doc.strip().split("\n")[0]
    first = re.split(r"[:.]\s", first + " ")[0].strip()
    return first or module.rsplit(".", 1)[-1]


def _covers(tools) -> str:
    """What a family covers, in words: each tool's function name spelled out ("radius of gyration") unless
    it is a bare verb, then its first keyword; all of them (a family is a handful of tools)."""
    words = []
    for t in tools:
        name = t.function.__name__.replace("_", " ")
        word = name if " " in name or not t.keywords else t.keywords[0]
        word = _SPELLED.get(word, word)
        if word not in words:
            words.append(word)
    return ", ".join(words)


# Short names a scientist may not read as intended, spelled out.
_SPELLED = {"rmsd": "RMSD", "rmsf": "RMSF (flexibility)", "dssp": "secondary structure (DSSP)", "sasa": "SASA"}


# One everyday request per family (by the module's last name), in the words a scientist would type; a
# family not listed here gets an example made from its first tool.
_FAMILY_EXAMPLES = {
    "md": "simulate villin.pdb for 10 ps in implicit solvent",
    "analysis": "RMSD, RMSF and radius of gyration of md_runs/villin",
    "viz": "show me villin.pdb",
    "ensembles": "run 3 replicas of villin.pdb and compare their RMSF",
    "structure": "what does A4G do to MKTAYIAKQRQISFVK?",
    "mutants": "simulate the mutant K65A of villin.pdb beside the wild type",
    "literature": "what do my papers say about villin folding times?",
    "notebook_tools": "why did my last cell fail?",
}


def _real_names(here: Path) -> dict[str, str]:
    """The shipped example names to replace with the newest run folder (a finished one where there is one) and
    the PDB file found in ``here``."""
    names = {}
    runs = sorted((p.parent for p in here.glob("md_runs/*/run.json")), key=lambda p: p.stat().st_mtime)
    # A run stopped before its production has no frames to analyse: "RMSD … of md_runs/long8" (stopped in its
    # equilibration, and the newest) was the analysis example a newcomer was offered (r11).
    finished = [run for run in runs if _status(run) == "finished"]
    if runs:
        names["md_runs/villin"] = (finished or runs)[-1].relative_to(here).as_posix()
    pdbs = sorted(p for p in here.glob("*.pdb") if p.is_file())
    if pdbs:
        names["villin.pdb"] = pdbs[0].name
    return names


def _status(run: Path) -> str | None:
    try:
        return json.loads((run / "run.json").read_text()).get("status")
    except (OSError, ValueError, AttributeError):  # unreadable, or not a run's record: not known to be finished
        return None


def _with_real_names(example: str, here: Path) -> str:
    try:
        names = _real_names(here)
    except OSError:  # an unreadable folder: the shipped names are still a fair illustration
        return example
    names_a_pdb = "villin.pdb" in names and "villin.pdb" in example
    for shipped, real in names.items():
        example = example.replace(shipped, real)
    # A mutation of the shipped protein said of the user's own structure must be one it has.
    return _mutation_that_exists(example, here / names["villin.pdb"]) if names_a_pdb else example


_SUBSTITUTION = re.compile(r"\b([ACDEFGHIKLMNPQRSTVWY])(\d+)([ACDEFGHIKLMNPQRSTVWY])\b")


def _mutation_that_exists(example: str, structure: Path) -> str:
    """The example's substitution ("K65A", villin's Lys65) made one the user's structure has: "K25A of
    5dfr_minimized.pdb" was refused, since DHFR has Pro at 25 (newcomer r9). Positions are the file's residue
    numbers, as the mutant tools read a structure (round 11); the first lysine to alanine (a surface residue, as in
    the shipped example), else the first residue that is neither alanine nor glycine."""
    found = _SUBSTITUTION.search(example)
    if not found:
        return example
    try:
        from kenkyu.tools.structure import read_chain

        chain = read_chain(structure)
    except Exception:  # noqa: BLE001 - an unreadable file: the example stays an illustration
        return example
    letters = [(letter, number) for letter, number in zip(chain.sequence, chain.numbers) if number is not None]
    if (found[1], found[2]) in letters:
        return example
    pick = next((p for p in letters if p[0] == "K"), None) or next((p for p in letters if p[0] not in "AGX"), None)
    return example if pick is None else example.replace(found[0], f"{pick[0]}{pick[1]}A", 1)


def _example(t, slot_kind) -> str:
    family = t.module.rsplit(".", 1)[-1]
    if family in _FAMILY_EXAMPLES:
        return _FAMILY_EXAMPLES[family]
    verb = t.keywords[0] if t.keywords else t.function.__name__.replace("_", " ")
    properties = t.parameters.get("properties", {})
    for name in t.parameters.get("required", []):
        kind = slot_kind(name, properties.get(name))
        if kind in _EXAMPLE_INPUT:
            joiner = "" if kind in ("structure", "sequence") else " of"
            return f"{verb}{joiner} {_EXAMPLE_INPUT[kind]}"
        if name in ("question", "query"):
            return f"{verb}: which force field do my papers recommend for villin?"
    return verb
