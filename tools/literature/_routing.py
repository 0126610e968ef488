"""How a literature call planned by kenkyu's router is adjusted (declared with ``@when_routed``).

The embedded model copies the step's words into ``question``/``query`` ("ask the literature how X
folds"); a retriever should match "How X folds?". And a 135M model would not write a faithful answer
from papers, so :func:`~kenkyu.tools.literature.ask` then returns the ranked, cited passages instead.
"""

from __future__ import annotations

import re

_LITERATURE_VERB = re.compile(
    r"^(?:please\s+)?(?:ask|search|query|check|consult|look\s+up|look\s+in)\s+(?:in\s+)?(?:the\s+|my\s+)?"
    r"(?:literature|papers|notes|references)\s*(?:for|about|on|whether|:)?\s*",
    re.IGNORECASE,
)


def literature_question(text: str) -> str:
    """ "ask the literature how X folds" -> "How X folds?": the words a retriever should match."""
    question = _LITERATURE_VERB.sub("", text.strip()).strip(" .") or text.strip()
    question = question[0].upper() + question[1:]
    return question if question.endswith("?") else question + "?"


def routed_search(arguments: dict) -> dict:
    for key in ("question", "query"):
        if isinstance(arguments.get(key), str):
            arguments[key] = literature_question(arguments[key])
    return arguments


def routed_ask(arguments: dict) -> dict:
    arguments = routed_search(arguments)
    arguments["llm"] = False  # the ranked, cited passages: no answer written by a small model
    return arguments
