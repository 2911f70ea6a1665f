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
    assert schema["$defs"]["Gate"]["properties"]["op"]["anyOf"][0]["enum"][:3] == ["add", "sub", "mul"]


# ---- the schema judges what an editor can: names, types, keys, arities -----------------

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from helpers import CIRCUITS, CORPUS  # noqa: E402
from runner.errors import SpecError  # noqa: E402
from runner.loading.document import load_file  # noqa: E402

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (the test extra) is not installed")
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
MANIFEST = load_file(str(CORPUS / "manifest.yaml")).data

# What no schema can know: it needs the whole circuit (references, cycles, the
# output, names in expect), a formula's grammar, or a module's expansion.
NEEDS_THE_CIRCUIT = ("unknown node", "cycle", "reads its own output", "output:", "'optimize' block",
                     "expect.", "module", "expands to more than", "formula", "not allowed", "not an op",
                     "unknown op 'sigmoud'", "is not power", "'été' is not a valid name", "is an op",
                     "both an input and a gate", "grads needs", "in op swish", "only its grads may use it",
                     "calls itself", "softplus takes", "unknown op '__import__'", "steps of table ops",
                     "calls ops that call ops",
                     # data: what needs the other names, the column count, or the CSV file
                     "is also a", "expects metric", "the row has", "is not -1 or +1", "unknown input", "unknown column",
                     "no such data file", "is not a number", "is not a finite number", "the header has no column",
                     "is not one of the data's columns", "the file is empty", "has a header but no rows")


def _plain_json(value) -> bool:
    """Data JSON can hold: string keys, finite numbers (a schema cannot say
    "finite": JSON has no infinity to refuse)."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(map(_plain_json, value))
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, int):
        return abs(value) < 2 ** 1024
    return True


def _judgeable() -> list[str]:
    names = []
    for name, expected in sorted(MANIFEST.items()):
        try:
            document = load_file(str(CORPUS / name))
        except SpecError:
            continue  # not data at all: YAML or JSON syntax, encoding, tags, size
        if expected["exit"] == 2 and not document.problems and _plain_json(document.data):
            names.append(name)
    return names


@pytest.mark.parametrize("name", _judgeable())
def test_the_schema_rejects_every_invalid_file_it_can_judge(name):
    """Every invalid file of the corpus is refused by the schema too, unless
    all its errors need the whole circuit."""
    document = load_file(str(CORPUS / name))
    messages = [fragment for _, fragment in MANIFEST[name]["errors"]]
    if all(any(reason in message for reason in NEEDS_THE_CIRCUIT) for message in messages):
        return
    assert not VALIDATOR.is_valid(document.data), f"the schema accepts {name}: {messages}"


NEG = {"f": {"op": "neg", "in": ["x"]}}


@pytest.mark.parametrize("data", [
    {"inputs": {"2x": 1}, "gates": NEG}, {"inputs": {"été": 1}, "gates": NEG},
    {"inputs": {"Null": 1}, "gates": NEG}, {"inputs": {"x": 1}, "gates": {"TRUE": NEG["f"]}},
    {"inputs": {"x": 1, "y": 2}, "gates": {"f": {"op": "sigmoid", "in": ["x", "y"]}}},
    {"inputs": {"x": 1}, "gates": {"f": {"op": "add", "in": ["x"]}}},
    {"inputs": {"x": 1}, "gates": {"f": {"op": "sub", "in": ["x", "x", "x"]}}},
], ids=["2x", "été", "Null", "TRUE", "sigmoid of two", "add of one", "sub of three"])
def test_the_schema_flags_names_and_arities_in_an_editor(data):
    assert not VALIDATOR.is_valid(data)
    assert VALIDATOR.is_valid({"inputs": {"x": 1, "y": 2}, "gates": {"f": {"op": "add", "in": ["x", "y", 3]}}})


@pytest.mark.parametrize("path", sorted(CIRCUITS.glob("*.yaml")), ids=lambda p: Path(p).stem)
def test_the_schema_accepts_every_example(path):
    errors = list(VALIDATOR.iter_errors(load_file(str(path)).data))
    assert errors == [], [error.message for error in errors]
