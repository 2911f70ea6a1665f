"""The committed JSON Schema must be the one the models generate."""

from __future__ import annotations

import json

from runner.spec.schema import schema_text
from helpers import ROOT

SCHEMA_FILE = ROOT / "schemas" / "circuit.schema.json"


def test_committed_schema_has_not_drifted():
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "schemas/circuit.schema.json is out of date: run "
        "`circuit-run --schema > schemas/circuit.schema.json`")


def test_schema_describes_every_field_and_forbids_extras(cli):
    schema = json.loads(cli("--schema").stdout)
    assert schema["additionalProperties"] is False and set(schema["required"]) == {"inputs", "gates"}
    for name, definition in schema["$defs"].items():
        assert definition.get("additionalProperties") is False, name
        for field, body in definition["properties"].items():
            assert body.get("description"), f"{name}.{field} has no description"
    assert schema["$defs"]["Gate"]["properties"]["op"]["enum"][:3] == ["add", "sub", "mul"]
