"""The in-kernel agent: providers, the tool registry, the loop, magics and report export.

Names are resolved lazily so that `import kenkyu.assistant` costs nothing until something is used.
"""

import importlib

_LAZY = {
    "tool": "kenkyu.core.registry",
    "Tool": "kenkyu.core.registry",
    "ToolRegistry": "kenkyu.core.registry",
    "Agent": "kenkyu.assistant.agent",
    "Budget": "kenkyu.assistant.agent",
    "AssistantSession": "kenkyu.assistant.session",
    "Request": "kenkyu.assistant.request",
    "RequestBusy": "kenkyu.assistant.request",
    "ProviderConfig": "kenkyu.core.config",
    "make_provider": "kenkyu.core.providers",
    "export_report": "kenkyu.assistant.export",
}

# The agent's own tool modules (about the notebook itself): the session registers them after kenkyu.tools'.
AGENT_TOOL_MODULES = ("kenkyu.assistant.notebook_tools",)

__all__ = sorted([*_LAZY, "AGENT_TOOL_MODULES"])


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kenkyu.assistant' has no attribute {name!r}")
