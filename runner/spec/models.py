"""Stage 2a: the spec format v1 as strict pydantic models.

Every field is described, so the JSON Schema generated from these models
(`circuit-run --schema`, `schemas/circuit.schema.json`) is the reference that
editors show while a spec is written. Unknown keys are errors at every level.
Validators raise `PydanticCustomError`s whose messages are already written for
a person; `validate.py` adds the file position and the "did you mean".
"""

import functools
import math
import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PlainValidator,
                      PrivateAttr, Strict, StringConstraints, Tag, ValidationInfo, field_validator)
from pydantic_core import PydanticCustomError, SchemaValidator
from pydantic_core import core_schema as cs

from ..loading.loader import MAX_ITERATIONS, describe
from ..ops import OP_NAMES

NAME_BODY = r"[A-Za-z_][A-Za-z0-9_]*"  # what a node name is (also outside the models)
NAME_PATTERN = f"^{NAME_BODY}$"
_NAME = re.compile(NAME_BODY + r"\Z")
RESERVED_NAMES = frozenset({"true", "false", "null"})


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)


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


def _fraction(value: Any) -> float:
    number = _number(value)
    if not 0 <= number < 1:
        raise PydanticCustomError("fraction_range", "must be at least 0 and below 1, got {got}", {"got": number})
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


def _reference_kind(value: Any) -> str:
    return "name" if isinstance(value, str) else "number"


Number = Annotated[float, PlainValidator(_number, json_schema_input_type=float)]
PositiveNumber = Annotated[float, PlainValidator(_positive, json_schema_input_type=Annotated[
    float, Field(gt=0)])]
NonNegativeNumber = Annotated[float, PlainValidator(_non_negative, json_schema_input_type=Annotated[
    float, Field(ge=0)])]
Fraction = Annotated[float, PlainValidator(_fraction, json_schema_input_type=Annotated[
    float, Field(ge=0, lt=1)])]
WholeNumber = Annotated[int, PlainValidator(_whole, json_schema_input_type=int)]
Iterations = Annotated[int, PlainValidator(_iterations, json_schema_input_type=Annotated[
    int, Field(ge=0, le=MAX_ITERATIONS)])]
# Names and references are validated natively by pydantic-core (no Python
# call per name), because a big circuit has hundreds of thousands of them.
# Reserved names are refused by the graph checks in validate.py.
Name = Annotated[str, Strict(), StringConstraints(pattern=NAME_PATTERN)]
Reference = Annotated[
    Union[Annotated[Name, Tag("name")],
          Annotated[float, Strict(), Field(allow_inf_nan=False), Tag("number")]],
    Discriminator(_reference_kind)]
OpName = Literal[OP_NAMES]  # type: ignore[valid-type]


# --------------------------------------------------------------------------
# The spec

class Input(StrictModel):
    """An input with options; a plain number is shorthand for `{value: N}`."""

    value: Number = Field(description="The input's starting value.", examples=[-2, 0.5])
    trainable: Annotated[bool, Field(strict=True)] = Field(
        True, description="Whether optimization may change this input. Fixed inputs still get "
                          "their gradient reported.")
    min: Optional[Number] = Field(None, description="Lower bound: optimization clamps the input to "
                                                    "at least this after every step.")
    max: Optional[Number] = Field(None, description="Upper bound: optimization clamps the input to "
                                                    "at most this after every step.")

    @field_validator("min")
    @classmethod
    def _min_at_most_value(cls, low: Optional[float], info: ValidationInfo) -> Optional[float]:
        value = info.data.get("value")
        if low is not None and value is not None and low > value:
            raise PydanticCustomError("bound_order", "min {low} is above the input's value {value}; "
                                      "need min <= value <= max", {"low": low, "value": value})
        return low

    @field_validator("max")
    @classmethod
    def _max_at_least_value(cls, high: Optional[float], info: ValidationInfo) -> Optional[float]:
        value, low = info.data.get("value"), info.data.get("min")
        if high is not None and low is not None and high < low:
            raise PydanticCustomError("bound_order", "max {high} is below min {low}",
                                      {"high": high, "low": low})
        if high is not None and value is not None and high < value:
            raise PydanticCustomError("bound_order", "max {high} is below the input's value {value}; "
                                      "need min <= value <= max", {"high": high, "value": value})
        return high


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
    optimizer: Literal["sgd", "momentum", "adam"] = Field(
        "sgd", description="analytic/numerical: how a gradient becomes a step. sgd: "
                           "x += step_size * grad (the seed's rule); momentum: v = momentum * v + grad, "
                           "x += step_size * v; adam: torch.optim.Adam's rule with bias correction. "
                           "Signs are for maximize; minimize subtracts. Not used by random search.")
    momentum: Fraction = Field(0.9, description="optimizer momentum: how much of the previous "
                                                "velocity each step keeps.")
    beta1: Fraction = Field(0.9, description="optimizer adam: decay of the running mean of gradients.")
    beta2: Fraction = Field(0.999, description="optimizer adam: decay of the running mean of "
                                               "squared gradients.")
    eps: PositiveNumber = Field(1e-8, description="optimizer adam: added to the denominator so "
                                                  "it is never 0.")

    @field_validator("tolerance")
    @classmethod
    def _tolerance_needs_gradients(cls, tolerance: Optional[float], info: ValidationInfo) -> Optional[float]:
        if tolerance is not None and info.data.get("method") == "random":
            raise PydanticCustomError("tolerance_unused", "random search has no tolerance stop (it runs "
                                      "all its iterations); remove 'tolerance' or use method analytic "
                                      "or numerical")
        return tolerance

    @field_validator("optimizer")
    @classmethod
    def _optimizer_needs_gradients(cls, optimizer: str, info: ValidationInfo) -> str:
        if info.data.get("method") == "random":
            raise PydanticCustomError("optimizer_unused", "random search uses no optimizer; remove "
                                      "'optimizer' or use method analytic or numerical")
        return optimizer

    @field_validator("momentum", "beta1", "beta2", "eps")
    @classmethod
    def _setting_of_chosen_optimizer(cls, setting: float, info: ValidationInfo) -> float:
        owner = "momentum" if info.field_name == "momentum" else "adam"
        chosen = info.data.get("optimizer", "sgd")
        if "optimizer" in info.data and chosen != owner:
            raise PydanticCustomError("setting_unused", "'{field}' is a setting of optimizer {owner}, "
                                      "but the optimizer is {chosen}; add 'optimizer: {owner}' or "
                                      "remove '{field}'",
                                      {"field": info.field_name, "owner": owner, "chosen": chosen})
        return setting


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
        min_length=1, description="Input name -> starting value (a number) or "
                                "{value, trainable, min, max}.",
        examples=[{"x": -2, "y": 5, "z": {"value": -4, "trainable": False}}])
    gates: dict[Name, Gate] = Field(
        min_length=1, description="Gate name -> {op, in}. Any order; the compiler sorts them.",
        examples=[{"q": {"op": "add", "in": ["x", "y"]}, "f": {"op": "mul", "in": ["q", "z"]}}])
    output: Optional[Name] = Field(None, description="The gate whose value is the circuit's output; "
                                                     "defaults to the last gate listed.")
    optimize: Optional[Optimize] = Field(None, description="Optimize the trainable inputs.")
    expect: Optional[Expect] = Field(None, description="Expected results, for --check and pytest.")

    _source: str = PrivateAttr(default="")
    _gate_order: Optional[list] = PrivateAttr(default=None)  # dependency order, found by validation
    _wiring: Optional[Any] = PrivateAttr(default=None)  # a compiler.Wiring, when validation worked it out

    @property
    def source(self) -> str:
        """The file this spec came from (`<stdin>` for standard input)."""
        return self._source

    @property
    def output_name(self) -> str:
        return self.output if self.output is not None else next(reversed(self.gates))


# --------------------------------------------------------------------------
# Building models from values checked elsewhere

def construct_many(model: type[StrictModel], rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """name -> `model` instance, from rows of field values (keyed by alias)
    that were already checked, made as `model_construct` would make them but
    by pydantic-core in one call: ~3x faster per row than `model_construct`,
    which matters for the 100,000 gates of a big spec (quickcheck.py)."""
    return _bulk_constructor(model).validate_python(rows)


@functools.cache
def _bulk_constructor(model: type[StrictModel]) -> SchemaValidator:
    fields = {}
    for name, info in model.model_fields.items():
        schema: Any = cs.any_schema()
        if info.default_factory is not None:
            schema = cs.with_default_schema(schema, default_factory=info.default_factory)
        elif not info.is_required():
            schema = cs.with_default_schema(schema, default=info.default)
        fields[name] = cs.model_field(schema, validation_alias=info.alias or name)
    return SchemaValidator(cs.dict_schema(cs.any_schema(), cs.model_schema(model, cs.model_fields_schema(fields))))
