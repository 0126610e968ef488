"""The tools a report's steps call, as one registry for the export and its price.

The export (which steps write nothing, so a later step may not take their result for a folder) and its
approval card (which steps simulate or write files, priced by their own cost models) read the same tools:
one registry, built once per process, instead of each importing every tool module again on each export.
"""

from __future__ import annotations

import functools

# The notebook's own tools (explain_error, overview, export_report) are steps of a report too.
NOTEBOOK_TOOLS = "kenkyu.assistant.notebook_tools"


@functools.lru_cache(maxsize=1)
def report_registry():
    """kenkyu's tools and the notebook's own, built on first use and shared by the export and its cost."""
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.tools import TOOL_MODULES

    return ToolRegistry.from_modules((*TOOL_MODULES, NOTEBOOK_TOOLS))
