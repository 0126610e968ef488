"""The answer to "what can you do?": kenkyu's tools by family, each with one request to try.

Built from the registry (each tool module's docstring names its family; each tool's first keyword and
required input make the example), so a new tool module shows up without an edit here.
"""

from __future__ import annotations

import importlib
import re

_QUESTION = re.compile(
    r"^\s*(?:(?:so|ok|okay|hi|hello|hey)[,!.]?\s+)?(?:"
    r"help|\?|what\s+(?:else\s+)?can\s+(?:you|kenkyu|i)\s+(?:do|ask|use)(?:\s+(?:here|with\s+(?:you|this|it)))?"
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
}


def is_capability_question(prompt: str) -> bool:
    """ "what can you do?", "help", "what tools do you have?": a question about kenkyu, not a task."""
    return bool(_QUESTION.match(prompt or ""))


def overview(registry) -> str:
    """A short Markdown overview: one line per tool family with what it covers and one example request."""
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
        example = _example(tools[0], slot_kind)
        lines.append(f"- **{title}**: {covers}. Try: *{example}*")
    if getattr(registry, "unavailable", None):
        missing = ", ".join(f"`{m}`" for m in sorted(registry.unavailable))
        lines.append(f"- not installed here: {missing} (`pip install 'kenkyu[all]'`)")
    lines += [
        "",
        "Name your input as a file, a run folder or a kernel variable (`traj`), or say *my last run*; "
        "`%kenkyu tools` lists every tool with its Python call.",
    ]
    return "\n".join(lines) + "\n"


def _family_title(module: str) -> str:
    """The first phrase of the module's docstring ("Trajectory analysis with mdtraj"), else its name."""
    try:
        doc = importlib.import_module(module).__doc__ or ""
    except Exception:
        doc = ""
    first = doc.strip().split("\n")[0]
    first = re.split(r"[:.]\s", first + " ")[0].strip()
    return first or module.rsplit(".", 1)[-1]


def _covers(tools) -> str:
    words = []
    for t in tools:
        word = t.keywords[0] if t.keywords else t.function.__name__.replace("_", " ")
        if word not in words:
            words.append(word)
    shown = words[:6]
    return ", ".join(shown) + (f" and {len(words) - len(shown)} more" if len(words) > len(shown) else "")


def _example(t, slot_kind) -> str:
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
