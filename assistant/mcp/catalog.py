"""kenkyu's registered tools as MCP tools: the same names, JSON schemas and descriptions the in-kernel
agent sees (:meth:`kenkyu.core.registry.Tool.llm_schema`), plus MCP annotations that say what each does.

What a tool does comes from what it declares, never from its name: ``approval="ask"`` and
``writes_files`` (:func:`kenkyu.core.registry.tool`), and what it produces (:mod:`kenkyu.core.science`;
a run folder means a simulation, which is long and reports progress).
"""

from __future__ import annotations

import textwrap

import mcp_types as types

from kenkyu.core.registry import ToolRegistry

# What a result that takes a simulation looks like: such calls are long and send progress.
LONG_RUNNING = frozenset({"run_folder"})
APPROVAL_NOTE = (
    "Needs approval: in kenkyu this tool waits for the scientist's OK (it runs a simulation or writes files). "
    "Ask the user before calling it."
)


def kenkyu_registry() -> ToolRegistry:
    """The registry the in-kernel agent builds (kenkyu.assistant.session.AssistantSession.tool_modules)."""
    from kenkyu.assistant.session import AssistantSession

    return ToolRegistry.from_modules(AssistantSession(namespace={}).tool_modules)


def is_read_only(tool) -> bool:
    return tool.approval == "auto" and not tool.writes_files


def is_destructive(tool) -> bool:
    return tool.writes_files and "overwrite" in tool.parameters.get("properties", {})


def is_long_running(tool) -> bool:
    return tool.science.produces in LONG_RUNNING


def mcp_tool(tool) -> types.Tool:
    """One registry tool as an MCP tool."""
    schema = tool.llm_schema()
    description = schema["description"]
    if tool.approval == "ask":
        description = f"{description}\n\n{APPROVAL_NOTE}"
    return types.Tool(
        name=schema["name"],
        description=description,
        input_schema=schema["parameters"],
        annotations=types.ToolAnnotations(
            title=textwrap.shorten(tool.summary, 80, placeholder=" …"),
            read_only_hint=is_read_only(tool),
            # kenkyu's tools write new folders and files and refuse to replace earlier ones, except where
            # an `overwrite` argument lets the caller ask for it (md_run's deletes an earlier run).
            destructive_hint=is_destructive(tool),
            idempotent_hint=False,
            open_world_hint=False,
        ),
        meta={
            "kenkyu/approval": tool.approval,
            "kenkyu/writes_files": tool.writes_files,
            "kenkyu/long_running": is_long_running(tool),
            "kenkyu/call": tool.qualified_call,
        },
    )


def mcp_tools(registry: ToolRegistry, read_only: bool = False) -> list[types.Tool]:
    return [mcp_tool(t) for t in registry if not read_only or is_read_only(t)]
