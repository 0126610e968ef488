"""kenkyu over the Model Context Protocol: a front door for outside agents (Claude Code, Claude Desktop,
VS Code) to kenkyu's tools, with the notebook still the record.

- :mod:`.server`: ``kenkyu mcp`` (stdio) and ``kenkyu mcp --http`` (streamable HTTP), on the official SDK;
- :mod:`.kernel_session`: the real Jupyter kernel every call runs in, and the session notebook it writes;
- :mod:`.catalog`: the registry's tools as MCP tools (same names, schemas, descriptions) with annotations;
- :mod:`.resources`: run folders and literature indexes as resources, research protocols as prompts;
- :mod:`.progress`: MD progress (ns/day, ETA) read from the run folder while a call runs.
"""
