"""Stage 2a: the spec format v1 as strict pydantic models.

Every field is described, so the JSON Schema generated from these models
(`circuit-run --schema`, `schemas/circuit.schema.json`) is the reference that
editors show while a spec is written. Unknown keys are errors at every level.
Validators raise `PydanticCustomError`s whose messages are already written for
a person; `validate.py` adds the file position and the "did you mean".
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, PrivateAttr
from pydantic_core import PydanticCustomError

from .loader import describe
from .ops import OP_NAMES

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RESERVED_NAMES = frozenset({"true", "false", "null"})
MAX_ITERATIONS = 1_000_000_000


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# --------------------------------------------------------------------------
# Reusable constrained types

def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("number_type", "expected a number, got {got}", {"got": describe(value)})
    try:
        number = float(value)
    except OverflowError:
        raise PydanticCustomError("number_too_large", "the number is too large to represent "
                                  "(the limit is about 1.8e308)") from None
    if not math.isfinite(number):
        raise PydanticCustomError("number_not_finite", "must be a finite number, not {got}",
                                  {"got": describe(value)})
    return number


def _positive(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise PydanticCustomError("number_not_positive", "must be greater than 0, got {got}", {"got": number})
    return number


def _non_negative(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise PydanticCustomError("number_negative", "must be 0 or more, got {got}", {"got": number})
    return number


def _whole(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "expected a whole number, got {got}", {"got": describe(value)})
    return value


def _iterations(value: Any) -> int:
    count = _whole(value)
    if not 0 <= count <= MAX_ITERATIONS:
        # pydantic fills {got} in but knows no format specs such as {top:,}
        raise PydanticCustomError("iterations_range", f"must be between 0 and {MAX_ITERATIONS:,}, "
                                  "got {got}", {"got": count})
    return count


def check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("name_type", "expected a name, got {got}; names are letters, digits "
                                  "and '_', not starting with a digit", {"got": describe(value)})
    if not _NAME.match(value):
        raise PydanticCustomError("name_invalid", "'{got}' is not a valid name; use letters, digits and "
                                  "'_', not starting with a digit", {"got": value})
    if value.lower() in RESERVED_NAMES:
        raise PydanticCustomError("name_reserved", "'{got}' is reserved; choose another name", {"got": value})
    return value


def _reference(value: Any) -> Union[str, float]:
    if isinstance(value, str):
        return check_name(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    raise PydanticCustomError("reference_type", "expected a node name or a number, got {got}",
                              {"got": describe(value)})


def _op(value: Any) -> str:
    if value not in OP_NAMES:
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        raise PydanticCustomError("unknown_op", "unknown op {got}", {"got": shown})
    return value


Number = Annotated[float, PlainValidator(_number, json_schema_input_type=float)]
PositiveNumber = Annotated[float, PlainValidator(_positive, json_schema_input_type=Annotated[
    float, Field(gt=0)])]
NonNegativeNumber = Annotated[float, PlainValidator(_non_negative, json_schema_input_type=Annotated[
    float, Field(ge=0)])]
WholeNumber = Annotated[int, PlainValidator(_whole, json_schema_input_type=int)]
Iterations = Annotated[int, PlainValidator(_iterations, json_schema_input_type=Annotated[
    int, Field(ge=0, le=MAX_ITERATIONS)])]
Name = Annotated[str, PlainValidator(check_name, json_schema_input_type=Annotated[
    str, Field(pattern=NAME_PATTERN)])]
Reference = Annotated[Union[str, float], PlainValidator(_reference, json_schema_input_type=Union[
    Annotated[str, Field(pattern=NAME_PATTERN)], float])]
OpName = Annotated[str, PlainValidator(_op, json_schema_input_type=Literal[OP_NAMES])]  # type: ignore[valid-type]


# --------------------------------------------------------------------------
# The spec

class Input(StrictModel):
    """An input with options; a plain number is shorthand for `{value: N}`."""

    value: Number = Field(description="The input's starting value.", examples=[-2, 0.5])
    trainable: Annotated[bool, Field(strict=True)] = Field(
        True, description="Whether optimization may change this input. Fixed inputs still get "
                          "their gradient reported.")


def _number_to_input(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value}
    return value


InputEntry = Annotated[Input, BeforeValidator(_number_to_input, json_schema_input_type=Union[float, Input])]


class Gate(StrictModel):
    """One gate: an op applied to other nodes (or number constants)."""

    op: OpName = Field(description="What the gate computes; see the op table in the docs.",
                       examples=["add", "mul", "sigmoid"])
    in_: list[Reference] = Field(
        alias="in", description="The gate's inputs in order: node names (inputs or other gates) "
                                "or number constants, which are not differentiated.",
        examples=[["x", "y"], ["q", 2]])


class Optimize(StrictModel):
    """Gradient ascent/descent or random local search on the trainable inputs."""

    goal: Literal["maximize", "minimize"] = Field(
        "maximize", description="Push the output up (maximize, as in the seed) or down (minimize).")
    method: Literal["analytic", "numerical", "random"] = Field(
        "analytic", description="analytic: gradients by backpropagation; numerical: forward "
                                "differences with step h; random: keep a random nearby point "
                                "only when it improves the output.")
    step_size: PositiveNumber = Field(0.01, description="How far each step moves the inputs.")
    iterations: Iterations = Field(100, description="How many steps to take (0 runs none).")
    h: PositiveNumber = Field(1e-4, description="Forward-difference step of the numerical method.")
    seed: WholeNumber = Field(0, description="Seed of the random method's generator "
                                             "(Python's random.Random); same seed, same run.")
    tolerance: Optional[PositiveNumber] = Field(
        None, description="analytic/numerical: stop after the first step that changes the "
                          "output by less than this.")


class Expected(StrictModel):
    """An expected number with its own tolerance."""

    value: Number = Field(description="The expected number.")
    abs: Optional[NonNegativeNumber] = Field(None, description="Absolute tolerance for this entry.")
    rel: Optional[NonNegativeNumber] = Field(None, description="Relative tolerance for this entry.")


def _number_to_expected(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value}
    return value


ExpectedNumber = Annotated[Expected, BeforeValidator(_number_to_expected,
                                                     json_schema_input_type=Union[float, Expected])]


class Tolerance(StrictModel):
    """A check passes when |actual - expected| <= abs + rel * |expected|."""

    abs: NonNegativeNumber = Field(1e-9, description="Absolute tolerance.")
    rel: NonNegativeNumber = Field(1e-9, description="Relative tolerance.")


class ExpectOptimized(StrictModel):
    """Expected results after the spec's optimization has run."""

    output: Optional[ExpectedNumber] = Field(None, description="The output at the final inputs.")
    inputs: dict[Name, ExpectedNumber] = Field(default_factory=dict,
                                               description="Final values of inputs, by name.")


class Expect(StrictModel):
    """What `--check` and the pytest plugin compare the results with."""

    output: Optional[ExpectedNumber] = Field(None, description="The output's value.")
    values: dict[Name, ExpectedNumber] = Field(default_factory=dict,
                                               description="Values of inputs or gates, by name.")
    grads: dict[Name, ExpectedNumber] = Field(default_factory=dict,
                                              description="Gradients d(output)/d(node), by name.")
    optimized: Optional[ExpectOptimized] = Field(None, description="Results of the optimization.")
    tolerance: Tolerance = Field(default_factory=Tolerance, description="Default tolerance of "
                                                                        "every entry.")


class Spec(StrictModel):
    """A circuit: inputs, gates wired to them, and optionally an optimization
    and the results it is expected to give."""

    model_config = ConfigDict(title="circuit-run spec, format v1")

    version: Literal[1] = Field(1, description="Spec format version; only 1 exists.")
    name: Optional[str] = Field(None, description="The circuit's name; defaults to the file name "
                                                  "without its extension.")
    description: Optional[str] = Field(None, description="What the circuit shows, for people.")
    inputs: dict[Name, InputEntry] = Field(
        min_length=1, description="Input name -> starting value (a number) or {value, trainable}.",
        examples=[{"x": -2, "y": 5, "z": {"value": -4, "trainable": False}}])
    gates: dict[Name, Gate] = Field(
        min_length=1, description="Gate name -> {op, in}. Any order; the compiler sorts them.",
        examples=[{"q": {"op": "add", "in": ["x", "y"]}, "f": {"op": "mul", "in": ["q", "z"]}}])
    output: Optional[Name] = Field(None, description="The gate whose value is the circuit's output; "
                                                     "defaults to the last gate listed.")
    optimize: Optional[Optimize] = Field(None, description="Optimize the trainable inputs.")
    expect: Optional[Expect] = Field(None, description="Expected results, for --check and pytest.")

    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """The file this spec came from (`<stdin>` for standard input)."""
        return self._source

    @property
    def output_name(self) -> str:
        return self.output if self.output is not None else next(reversed(self.gates))
