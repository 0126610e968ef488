"""One list of providers, one protocol: kenkyu.core.config's PROVIDER_KINDS is the list every other
place uses or is checked against here, and labext/src/protocol.schema.json (which jest checks the
front end against) agrees with the kernel's events."""

import json
from pathlib import Path

import jsonschema
import pytest

from kenkyu.assistant import events as ev
from kenkyu.assistant.magics import _parser
from kenkyu.core.config import PROVIDER_KINDS, PROVIDERS, ProviderConfig
from kenkyu.core.providers import ProviderUnavailable, make_provider

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "labext" / "src" / "protocol.schema.json").read_text())


def validator(definition):
    schema = {"$ref": f"#/definitions/{definition}", "definitions": SCHEMA["definitions"]}
    return jsonschema.Draft7Validator(schema)


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_every_list_of_providers_is_the_one_in_kenkyu_core_config():
    definitions = SCHEMA["definitions"]
    assert definitions["settings"]["properties"]["provider"]["enum"] == ["", *PROVIDERS]
    assert definitions["ready"]["properties"]["model"]["properties"]["provider"]["enum"] == list(PROVIDERS)
    plugin = json.loads((ROOT / "labext" / "schema" / "plugin.json").read_text())  # the sidebar's settings
    assert plugin["properties"]["provider"]["enum"] == ["", *PROVIDERS]
    provider_command = next(
        a for a in _parser()._subparsers._group_actions[0].choices["provider"]._actions if a.dest == "name"
    )
    assert tuple(provider_command.choices) == PROVIDERS
    from kenkyu.cli import build_parser

    demo = build_parser()._subparsers._group_actions[0].choices["demo"]
    assert tuple(next(a for a in demo._actions if a.dest == "provider").choices) == PROVIDERS


@pytest.mark.parametrize("kind", PROVIDER_KINDS, ids=lambda k: k.name)
def test_each_provider_kind_names_a_class_that_exists(kind):
    import importlib.util

    if kind.implementation is None:
        with pytest.raises(ProviderUnavailable):
            make_provider(ProviderConfig(provider=kind.name))
        return
    module, name = kind.implementation.split(":")
    assert importlib.util.find_spec(module) is not None
    source = Path(importlib.util.find_spec(module).origin).read_text()
    assert f"class {name}(" in source
    assert ProviderConfig(provider=kind.name).model_id == (kind.default_model or kind.name)


def test_the_kernels_events_keep_the_schema():
    samples = [
        ev.Token("hi"),
        ev.ToolCallStarted("c1", "md_run", {"ps": 10}, "run = ..."),
        ev.ApprovalNeeded("c1", "md_run", {}, "run = ...", True),
        ev.ToolResult("c1", "md_run", True, "ok", 1.5),
        ev.CellAdded("markdown", "## Plan", {"kenkyu": {"agent": True, "role": "narrative", "section": "plan"}}),
        ev.Error("boom", where="busy", fix="wait"),
        ev.Done("finished", 2, 10, 0.5),
    ]
    check = validator("agentEvent")
    for event in samples:
        assert list(check.iter_errors(event.to_dict())) == [], event
    assert list(check.iter_errors({"kind": "token"}))  # and it does refuse


def test_the_protocol_page_points_to_the_schema():
    assert "src/protocol.schema.json" in (ROOT / "labext" / "PROTOCOL.md").read_text()
