"""The JSON Schema of the spec format, generated from the pydantic models.

pydantic writes most of it. What it cannot say from the type annotations is
added here, from the same sources the validation uses, so that an editor
(yaml-language-server) flags what circuit-run would refuse:

- a mapping of names (inputs, gates, modules, ...) allows only valid,
  unreserved names (`propertyNames`, no other keys);
- an op gate has as many inputs as its op takes (from the op table);
- `inputs` has at least one entry unless `data` is there (its columns are inputs);
- data comes as `rows` (at least one) or as a `file`; `loss`, `metrics` and a `batch_size` need data,
  and a loss is minimized.
- an op may be a name of the spec's own `ops:`; in a spec without them,
  only an op of the table (so a typo is still flagged).
"""

from __future__ import annotations

import json
from typing import Any

from ..ops import OPS
from . import rules
from .formulas import DOT
from .models import Spec

# A name that is not true/false/null in any case, as an ECMA-262 pattern.
_UNRESERVED = "(?!(?:" + "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in word)
                                 for word in sorted(rules.RESERVED_NAMES)) + ")$)"
NAME_KEYS = {"pattern": "^" + _UNRESERVED + rules.NAME_PATTERN[1:]}


def spec_schema() -> dict:
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    _name_keys(schema)
    schema["$defs"]["Gate"]["allOf"] = _arities()
    _custom_ops(schema)
    schema.setdefault("allOf", []).extend([{"if": {"not": {"required": ["data"]}},
                        "then": {"properties": {"inputs": {"minProperties": 1},
                                                "optimize": {"properties": {"batch_size": {"type": "null"}}}}}},
                       {"if": {"required": ["loss"]},
                        "then": {"properties": {"optimize": {"properties": {"goal": {"const": "minimize"}}}}}}])
    schema["dependentRequired"] = {"loss": ["data"], "metrics": ["data"]}
    _data_rules(schema["$defs"]["Data"])
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _name_keys(node: Any) -> None:
    """Every mapping keyed by names: only valid, unreserved names."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if patterns and list(patterns) == [rules.NAME_PATTERN]:
            node["propertyNames"] = NAME_KEYS
            node["additionalProperties"] = False
        for value in node.values():
            _name_keys(value)
    elif isinstance(node, list):
        for value in node:
            _name_keys(value)


def _data_rules(data: dict) -> None:
    """Rows or a file, exactly one; rows not empty."""
    data["oneOf"] = [{"required": ["rows"]}, {"required": ["file"]}]
    for member in data["properties"]["rows"].get("anyOf", []):
        if member.get("type") == "array":
            member["minItems"] = 1


def _arities() -> list[dict]:
    """For each op, how many inputs its gate's `in` list may hold."""
    rules_by_op = []
    for op in OPS.values():
        count: dict[str, int] = {"minItems": op.min_arity}
        if op.max_arity is not None:
            count["maxItems"] = op.max_arity
        rules_by_op.append({"if": {"properties": {"op": {"const": op.name}}, "required": ["op"]},
                            "then": {"properties": {"in": count}}})
    return rules_by_op


def _custom_ops(schema: dict) -> None:
    """Where an op is named, a custom op's name is allowed too (the spec's
    `ops:` keys; a schema cannot say "one of the keys of that mapping")."""
    custom = {"pattern": NAME_KEYS["pattern"], "description": "An op of the spec's own (a key of `ops`)."}
    gate_op = schema["$defs"]["Gate"]["properties"]["op"]
    gate_op["anyOf"] = [{"enum": gate_op.pop("enum")}, custom]
    activation = schema["$defs"]["Instance"]["properties"]["activation"]
    activation["anyOf"].insert(1, {"type": "string", **custom})
    builtin_only = {"additionalProperties": {"if": {"type": "object", "required": ["op"]},
                                             "then": {"properties": {"op": {"enum": list(OPS)}}}}}
    ops = schema["properties"]["ops"]
    ops["propertyNames"] = {**NAME_KEYS, "not": {"enum": [*OPS, DOT]}}  # a built-in op's name is taken
    schema.setdefault("allOf", []).append({
        "if": {"not": {"required": ["ops"]}},
        "then": {"properties": {"gates": builtin_only,
                                "modules": {"additionalProperties": {"properties": {"gates": builtin_only}}}}}})


def schema_text() -> str:
    """The schema as committed in `schemas/circuit.schema.json`."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
