import os

import pytest

from kenkyu.core.registry import ToolArgumentError, ToolRegistry, build_tool, tool


def test_schema_comes_from_signature_and_docstring():
    registry = ToolRegistry.from_modules(["toolbox"])
    square = registry["toolbox_square"]
    assert square.qualified_call == "toolbox.square"
    assert square.parameters["properties"]["x"] == {"type": "number", "description": "The number to square."}
    assert square.parameters["required"] == ["x"]
    assert square.approval == "auto" and not square.writes_files
    note = registry["toolbox_write_note"]
    assert note.approval == "ask" and note.writes_files
    assert set(note.parameters["required"]) == {"path", "text"}


def test_defaults_are_optional_and_not_written_into_calls():
    explode = ToolRegistry.from_modules(["toolbox"])["toolbox_explode"]
    assert "required" not in explode.parameters
    assert explode.validate({}) == {}
    assert explode.validate({"reason": "x"}) == {"reason": "x"}


def test_validation_names_the_problem():
    square = ToolRegistry.from_modules(["toolbox"])["toolbox_square"]
    assert square.validate({"x": "2.5"}) == {"x": 2.5}
    with pytest.raises(ToolArgumentError, match="x: .*number"):
        square.validate({"x": "lots"})
    with pytest.raises(ToolArgumentError, match="unknown argument.*'y'"):
        square.validate({"x": 1, "y": 2})
    with pytest.raises(ToolArgumentError, match="x: Field required"):
        square.validate({})


def test_non_json_types_are_dropped_from_the_llm_schema():
    class Trajectory:  # stands for mdtraj.Trajectory: accepted by hand, not over JSON
        pass

    def rmsd(trajectory: str | os.PathLike | Trajectory, frame: int = 0):
        """RMSD of a trajectory."""

    t = build_tool(tool(rmsd))
    assert t.parameters["properties"]["trajectory"] == {"type": "string"}
    assert t.validate({"trajectory": "run/traj.dcd"}) == {"trajectory": "run/traj.dcd"}


def test_missing_docstring_is_refused():
    def nodoc(x: int):
        pass

    with pytest.raises(ValueError, match="needs a docstring"):
        build_tool(tool(nodoc))


def test_unavailable_module_is_reported_not_fatal():
    registry = ToolRegistry.from_modules(["toolbox", "kenkyu_no_such_module"])
    assert "toolbox_square" in registry
    assert "kenkyu_no_such_module" in registry.unavailable
    assert "unavailable" in registry.table()


def test_approval_must_be_known():
    with pytest.raises(ValueError, match="approval"):
        tool(approval="sometimes")
