"""A tool result's figure and summary as HTML, for ``_repr_html_``: one way, used by every tool.

The figure is embedded as an inline PNG (a ``data:`` URI), so the HTML is self-contained: a notebook's
saved output, an exported report and its static HTML page all show it without the files beside them.
"""

from __future__ import annotations

import base64
import html
import io


def figure_html(figure, dpi: int = 100) -> str:
    """A matplotlib figure as an ``<img>`` holding its PNG inline."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"/>'


def summary_html(summary: str) -> str:
    """A plain-text summary as HTML: its first line in bold, the rest as a list (text escaped, never markup)."""
    head, *rest = summary.splitlines() or [""]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in rest)
    return f"<p><b>{html.escape(head)}</b></p>" + (f"<ul>{items}</ul>" if items else "")
