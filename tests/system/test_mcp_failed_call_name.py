"""A failed MCP call takes no variable name, as a failed %%ask call does not (newcomer r8).

The real `kenkyu mcp` server over stdio, driven by the mcp SDK's client, with its own Jupyter kernel: a call whose
cell raises in the kernel is recorded as a note, and the next call of that tool gets the tool's plain name, in this
server and in a server started again on the same session notebook.
"""

from __future__ import annotations

import sys

import anyio
import nbformat
import pytest

pytest.importorskip("mcp")
from mcp import Client, StdioServerParameters


def stdio(notebook) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "kenkyu", "mcp", "--notebook", str(notebook)])


def villin() -> str:
    from kenkyu.tools.md import example_structure

    return str(example_structure("villin"))


def test_a_failed_call_leaves_its_variable_name_free(tmp_path):
    notebook = tmp_path / "session.ipynb"
    broken = tmp_path / "broken.pdb"
    broken.write_text("this is not a structure\n")

    async def calls(*arguments):
        async with Client(stdio(notebook)) as client:
            return [await client.call_tool("analysis_radius_of_gyration", {"trajectory": a}) for a in arguments]

    failed, worked = anyio.run(calls, str(broken), villin())
    assert failed.is_error  # it ran in the kernel and raised there
    assert failed.structured_content["variable"] is None and "bound nothing" in failed.content[0].text
    assert not worked.is_error, worked
    assert worked.structured_content["variable"] == "radius_of_gyration"  # not radius_of_gyration_2

    # A server started again on the same notebook reads the record: the failed call's note binds nothing either.
    failed_again, next_one = anyio.run(calls, str(broken), villin())
    assert failed_again.is_error
    assert next_one.structured_content["variable"] == "radius_of_gyration_2"

    cells = nbformat.read(notebook, as_version=4).cells
    code = [c.metadata["kenkyu"]["variable"] for c in cells if c.cell_type == "code"]
    notes = [c for c in cells if c.cell_type == "markdown" and "failed" in c.source]
    assert code == ["radius_of_gyration", "radius_of_gyration_2"]
    assert len(notes) == 2 and all(str(broken) in n.source for n in notes)
