"""The JSON Schema of spec format v1, generated from the pydantic models."""

from __future__ import annotations

import json

from .models import Spec


def spec_schema() -> dict:
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The schema as committed in `schemas/circuit.schema.json`."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
