"""Questions about how kenkyu does a thing ("which force field and which solvent model go into an implicit-solvent
simulation here?", "what thermostat do you use?", "what's the default time step?"), answered from the tools' own
documentation: the sentences of a tool's description that say it, and the settings it takes with their defaults.

Such a question asks for no run: without this, its words ("implicit-solvent simulation") called md.run (held-out 16).
"""

from __future__ import annotations

import re
from typing import Sequence

# How a method is set up, as a scientist asks about it: each name with the words a docstring says it by
SETTINGS: dict[str, tuple[str, ...]] = {
    "force field": ("force field", "forcefield", "ff14sb", "ff99sb"),
    "solvent model": ("solvent", "generalized born", "obc", "water model", "tip3p"),
    "water model": ("water model", "tip3p", "water"),
    "thermostat": ("thermostat", "langevin", "friction"),
    "integrator": ("integrator", "langevin", "verlet"),
    "barostat": ("barostat", "pressure"),
    "time step": ("time step", "timestep"),
    "cutoff": ("cutoff", "cut-off", "pme"),
    "constraints": ("constrain", "constraints"),
    "ionic strength": ("ionic strength", "nacl", "salt"),
    "platform": ("platform",),
}
_SETTING = "|".join(
    re.escape(w).replace(r"\ ", r"[\s-]?") for w in sorted({*SETTINGS, "forcefield", "timestep", "ff"}, key=len)[::-1]
)
# "which force field ... go into ...", "what thermostat do you use", "what's the default time step", "which water
# model does kenkyu run with?"
_ASKED = re.compile(
    rf"\b(?:which|what(?:'s|\s+is|\s+are)?)\s+(?:the\s+)?(?:default\s+)?(?P<what>{_SETTING})s?\b",
    re.I,
)
# The question is about kenkyu's way, not about a run the scientist made ("what temperature did my run use?")
_ONE_OF_MINE = re.compile(
    r"\b(?:my|this|that|our|the)\s+(?:\w+\s+)?(?:runs?|simulations?|sims?|trajector(?:y|ies)|files?)\b", re.I
)
_ABOUT_KENKYU = re.compile(
    r"\b(?:you|kenkyu|here|by\s+default|default|go(?:es)?\s+into|used?|uses|run\s+with|pick|choose|set)\b", re.I
)


# "what does the reproducible option actually change?", "what is the nvt_ps setting for?", "what does
# report interval do": a question about one of the tools' own parameters, by its name
_OPTION_ASKED = re.compile(
    r"\bwhat\s+(?:does|do|is|'s)\s+(?:the\s+|this\s+|that\s+)?[`'\"]?(?P<name>[a-z][\w -]{1,30}?)[`'\"]?\s+"
    r"(?:option|setting|parameter|argument|flag|switch|keyword)?\s*(?:actually\s+|really\s+|even\s+)?"
    r"(?:do|does|change|changes|control|controls|mean|means|set|sets|for|affect|affects)\b",
    re.I,
)


def option_answer(step: str, tools: Sequence) -> str | None:
    """The answer to a question about one of the tools' parameters, by its name ("what does the reproducible option
    change?"): each tool that takes it, with its default and its whole description; else None."""
    for asked in _OPTION_ASKED.finditer(step):
        said = re.sub(r"\s*\b(?:option|setting|parameter|argument|flag|switch|keyword)$", "", asked["name"].strip())
        key = re.sub(r"[\s-]+", "_", said.lower())
        found = [
            (t, prop)
            for t in tools
            for name, prop in t.parameters.get("properties", {}).items()
            # (said without its unit: "the report interval" is report_interval_ps)
            if (name == key or name.startswith(f"{key}_")) and isinstance(prop, dict)
        ]
        if not found:
            continue
        lines = [f"*{step.strip()}* asks what the `{said}` setting does. From the tools' documentation:"]
        for t, prop in found[:3]:
            name = next(n for n, p in t.parameters["properties"].items() if p is prop)
            default = f" (default `{prop['default']!r}`)" if "default" in prop else ""
            lines.append(f"- `{t.name}`'s `{name}`{default}: {' '.join(_sentences(prop.get('description', '')))}")
        lines.append("Each setting is an argument of the call, yours to change.")
        return "\n".join(lines) + "\n"
    return None


def documented_answer(step: str, tools: Sequence) -> str | None:
    """The answer to a question about how kenkyu sets a method up, quoted from the tools' documentation; else None."""
    option = option_answer(step, tools)
    if option is not None:
        return option
    asked = list(_ASKED.finditer(step))
    if not asked or _ONE_OF_MINE.search(step) or not _ABOUT_KENKYU.search(step):
        return None
    settings = list(dict.fromkeys(_setting(m["what"]) for m in asked))
    words = [w for x in settings for w in SETTINGS.get(x, (x,))]
    scored = []
    for t in tools:
        sentences = [s for s in _sentences(t.description) if any(w in s.lower() for w in words)]
        options = _options(t, words)
        if not sentences and not options:
            continue
        text = " ".join([*sentences, *options]).lower()
        covered = sum(any(w in text for w in SETTINGS.get(x, (x,))) for x in settings)
        # (the tool the question's other words name first: "an implicit-solvent simulation" is md.run's)
        said = sum(k.lower() in step.lower() for k in (*t.keywords, t.name.split("_", 1)[-1]))
        scored.append(((covered, said), len(sentences) + len(options), t, sentences, options))
    if not scored:
        return None
    top = max(score for score, *_ in scored)
    # (the best documented first: md_run's force field sentence and its three settings before md_minimize's)
    best = sorted((x for x in scored if x[0] == top), key=lambda x: -x[1])[:2]
    lines = [f"*{step.strip()}* asks how kenkyu sets up {' and '.join(settings)}. From the tools' documentation:"]
    for _, _, t, sentences, options in best:
        lines.append(f"`{t.name}`:")
        lines += [f"> {s}" for s in sentences[:2]]
        lines += [f"- {o}" for o in options[:3]]
    lines.append("Each setting is an argument of the call, yours to change.")
    return "\n".join(lines) + "\n"


def _options(t, words: list[str]) -> list[str]:
    """The tool's parameters that set what is asked, each with its default and the first sentence of its description."""
    found = []
    for name, prop in t.parameters.get("properties", {}).items():
        first = _first_sentence(prop.get("description", ""))
        # (by its name: "timestep_fs", "forcefield", "water_model", "friction_per_ps"; a description's words mislead,
        # "Time steps timed per backend" is no time step)
        if "default" in prop and any(w.replace(" ", "") in name.replace("_", "") for w in words):
            found.append(f"`{name}` (default `{prop['default']!r}`): {first}")
    return found


def _setting(said: str) -> str:
    key = re.sub(r"[\s-]+", " ", said.lower()).strip()
    aliases = {"forcefield": "force field", "ff": "force field", "timestep": "time step"}
    return aliases.get(key, key)


def _sentences(text: str) -> list[str]:
    body = re.split(r"\n\s*(?:Parameters|Returns|Raises|Examples)\s*\n", text or "", maxsplit=1)[0]
    flat = re.sub(r"\s+", " ", body).strip()
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", flat) if s.strip()]


def _first_sentence(text: str) -> str:
    found = _sentences(text)
    return found[0] if found else ""
