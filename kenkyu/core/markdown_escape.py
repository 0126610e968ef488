"""Text from a tool or an exception, put into Markdown so that it reads as the same text.

A message shown as Markdown is parsed twice in JupyterLab: for TeX math first (``$...$``), then as Markdown. An
error naming an environment variable twice (ESM-2's "Looked in: ... $KENKYU_MODELS ... into $KENKYU_MODELS") came
out as a line of run-together italic letters; ``<NULL>`` (OpenMM's empty exception) would be an HTML tag and vanish;
``*``/``_``/backticks change the text's look. Each such character is backslash-escaped, which CommonMark reads
as the character itself. A ``$`` gets two backslashes: JupyterLab typesets math with MathJax over the HTML the
Markdown became, where ``\\$`` has turned into a bare ``$``; ``\\\\$`` becomes ``\\$``, which MathJax
(``processEscapes``) shows as ``$``.
"""

from __future__ import annotations

import re

# CommonMark's inline syntax, HTML, and JupyterLab's math delimiter; the backslash itself first of all.
_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")


def as_markdown_text(text: str) -> str:
    """``text`` escaped so that Markdown (and JupyterLab's math) shows it character for character."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("$", r"\\$")
