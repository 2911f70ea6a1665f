"""Stage 2a: the spec format as strict pydantic models.

Every field is described, so the JSON Schema generated from these models
(`circuit-run --schema`, `schemas/circuit.schema.json`) is the reference that
editors show while a spec is written. Unknown keys are errors at every level.
The rules themselves live in rules.py: validators here only call them and
hand their messages to pydantic; validate.py adds the file position.
"""

import functools
from typing import Annotated, Any, Callable, Literal, Optional, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PlainValidator,
                      PrivateAttr, Strict, StringConstraints, Tag, ValidationInfo, ValidatorFunctionWrapHandler,
                      field_validator, model_validator)
from pydantic_core import PydanticCustomError, SchemaValidator
from pydantic_core import core_schema as cs

from ..limits import MAX_ITERATIONS
from ..ops import OP_NAMES, OPS
from . import rules
from .rules import NAME_PATTERN, NODE_PATTERN


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, defer_build=True)


# --------------------------------------------------------------------------
# Reusable constrained types: each a rule of rules.py

def _checked(rule: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`rule` as a pydantic validator: its `Invalid` becomes a pydantic error."""

    def validate(value: Any) -> Any:
        try:
            return rule(value)
        except rules.Invalid as err:
            raise PydanticCustomError("rule", str(err)) from None

    validate.rule = rule  # type: ignore[attr-defined]  # for rule_of
    return validate


def rule_of(metadata: list) -> Optional[Callable[[Any], Any]]:
    """The rule a field's validator calls, from the field's metadata (or None)."""
    for item in metadata:
        if isinstance(item, PlainValidator) and hasattr(item.func, "rule"):
            return item.func.rule
    return None


def _reject(message: Optional[str]) -> None:
    if message is not None:
        raise PydanticCustomError("rule", message)


def _reference_kind(value: Any) -> str:
    return "name" if isinstance(value, str) else "number"


Number = Annotated[float, PlainValidator(_checked(rules.number), json_schema_input_type=float)]
PositiveNumber = Annotated[float, PlainValidator(_checked(rules.positive), json_schema_input_type=Annotated[
    float, Field(gt=0)])]
NonNegativeNumber = Annotated[float, PlainValidator(_checked(rules.non_negative), json_schema_input_type=Annotated[
    float, Field(ge=0)])]
Fraction = Annotated[float, PlainValidator(_checked(rules.fraction), json_schema_input_type=Annotated[
    float, Field(ge=0, lt=1)])]
WholeNumber = Annotated[int, PlainValidator(_checked(rules.whole), json_schema_input_type=int)]
StepCount = Annotated[int, PlainValidator(_checked(rules.step_count), json_schema_input_type=Annotated[
    int, Field(ge=0)])]
Iterations = Annotated[int, PlainValidator(_checked(rules.iterations), json_schema_input_type=Annotated[
    int, Field(ge=0, le=MAX_ITERATIONS)])]
# Names and references are validated natively by pydantic-core (no Python
# call per name), because a big circuit has hundreds of thousands of them.
# Reserved names are refused by the graph checks in validate.py.
Name = Annotated[str, Strict(), StringConstraints(pattern=NAME_PATTERN)]
# A node a spec refers to: a name, or the dotted name of a node that a
# formula or a module instance made (`f.1`, `h1.n3.w0`).
NodeName = Annotated[str, Strict(), StringConstraints(pattern=NODE_PATTERN)]
Reference = Annotated[
    Union[Annotated[NodeName, Tag("name")],
          Annotated[float, Strict(), Field(allow_inf_nan=False), Tag("number")]],
    Discriminator(_reference_kind)]
OpName = Literal[OP_NAMES]  # type: ignore[valid-type]
OneInputOp = Literal[tuple(op.name for op in OPS.values() if op.max_arity == 1)]  # type: ignore[valid-type]
Formula = Annotated[str, Strict(), Field(
    min_length=1, description="A formula: node names, numbers, + - * / **, parentheses and ops called by "
                              "name (exp(x), max(a, b), pow(a, b), dot(u, v), the spec's own ops); Python's "
                              "precedence.",
    examples=["x - y", "100 - d**2", "sigmoid(a*x + b*y + c)"])]




def _custom_op(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo, *, arity: int = 0) -> Any:
    """A name of the spec's own `ops:` is an op too: validation passes their
    names (and numbers of args) as the context `ops` (custom_ops.custom_op_names)."""
    custom = (info.context or {}).get("ops") or {}
    if isinstance(value, str) and value in custom:
        if arity and custom[value] not in (arity, -1):
            raise PydanticCustomError("rule", f"{value} takes {custom[value]} inputs; an activation is an op of "
                                              f"{arity} input")
        return value
    return handler(value)


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
        _reject(rules.min_problem(info.data.get("value"), low))
        return low

    @field_validator("max")
    @classmethod
    def _max_at_least_value(cls, high: Optional[float], info: ValidationInfo) -> Optional[float]:
        _reject(rules.max_problem(info.data.get("value"), info.data.get("min"), high))
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

    @field_validator("op", mode="wrap")
    @classmethod
    def _or_custom_op(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        return _custom_op(value, handler, info)


class FormulaGate(StrictModel):
    """A gate written as a formula, as a mapping: `{expr: "x * y"}`."""

    expr: Formula


def _binding_kind(value: Any) -> str:
    return "list" if isinstance(value, list) else _reference_kind(value)


Binding = Annotated[
    Union[Annotated[NodeName, Tag("name")],
          Annotated[float, Strict(), Field(allow_inf_nan=False), Tag("number")],
          Annotated[list[Reference], Tag("list")]],
    Discriminator(_binding_kind)]


class Instance(StrictModel):
    """A use of a module: its parameters and gates, made anew and named
    after this gate (`h.w0`, `h.b`); with `repeat`, that many copies
    (`h.n0`, `h.n1`, ...), and the gate's name stands for the list of their
    outputs."""

    use: Name = Field(description="The module to use (a key of `modules`).", examples=["neuron"])
    in_: list[Binding] = Field(
        alias="in", description="One entry per input port of the module, in order: a node name, a "
                                "number, or a list of them (a whole layer's outputs, such as [x0, x1] "
                                "or the name of a repeated instance).",
        examples=[[["x0", "x1"]], ["h1"]])
    repeat: Optional[Annotated[int, Strict(), Field(ge=1)]] = Field(
        None, description="Make this many copies side by side (a layer of neurons), named NAME.n0, "
                          "NAME.n1, ...; NAME then stands for the list of their outputs.")
    activation: Optional[OneInputOp] = Field(
        None, description="A one-input op applied to each output (relu, tanh, sigmoid, ...), as Keras' "
                          "Dense(activation=...).")

    @field_validator("activation", mode="wrap")
    @classmethod
    def _or_custom_op(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        return _custom_op(value, handler, info, arity=1)


def _gate_kind(value: Any) -> str:
    """The form of a gate: its raw data when validating, its model when serializing."""
    if isinstance(value, str):
        return "formula"
    if isinstance(value, FormulaGate) or isinstance(value, dict) and "expr" in value:
        return "formula mapping"
    if isinstance(value, Instance) or isinstance(value, dict) and "use" in value:
        return "instance"
    return "op gate"


GATE_FORMS = ("op gate", "formula", "formula mapping", "instance")  # the tags below, for messages.py
GateEntry = Annotated[
    Union[Annotated[Gate, Tag("op gate")], Annotated[Formula, Tag("formula")],
          Annotated[FormulaGate, Tag("formula mapping")], Annotated[Instance, Tag("instance")]],
    Discriminator(_gate_kind)]


def _number_to_param(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"init": value}
    return value


class Param(StrictModel):
    """A parameter of a module: a trainable input made for every instance."""

    init: Union[Number, Annotated[str, Strict(), PlainValidator(_checked(rules.random_init))]] = Field(
        0.0, description="Its starting value: a number, or a random draw 'uniform(A, B)' or "
                         "'normal(MEAN, STD)' from the spec's seed (Python's random.Random).",
        examples=[0, "uniform(-1, 1)"])
    size: Optional[Union[Name, Annotated[int, Strict(), Field(ge=1)]]] = Field(
        None, description="Make a list of parameters, NAME0, NAME1, ...: as many as the list bound to "
                          "this input port (or this many).", examples=["x", 3])
    trainable: Annotated[bool, Field(strict=True)] = Field(True, description="Whether optimization moves it.")


ParamEntry = Annotated[Param, BeforeValidator(_number_to_param, json_schema_input_type=Union[float, Param])]


class Module(StrictModel):
    """A sub-circuit written once and used by instances: input ports, its
    own parameters and gates, and one output or several."""

    in_: list[Name] = Field(alias="in", description="The input ports, in order; an instance binds one "
                                                   "entry of its `in` to each.", examples=[["x"]])
    params: dict[Name, ParamEntry] = Field(
        default_factory=dict, description="Parameter name -> starting value, or {init, size, trainable}.",
        examples=[{"w": {"size": "x", "init": "uniform(-1, 1)"}, "b": 0}])
    gates: dict[Name, GateEntry] = Field(default_factory=dict,
                                         description="Gates inside the module, in any of the forms of "
                                                     "the spec's gates; their names are local.")
    out: Union[Formula, dict[Name, Formula]] = Field(
        description="The output: a formula over ports, parameters and gates (or just one of their "
                    "names); or name -> formula for several outputs.",
        examples=["relu(dot(w, x) + b)"])


# Empty expressions and a grads list of the wrong length are reported by
# custom_ops.py (once, with what to write); the schema still tells an editor.
Expression = Annotated[str, Strict(), Field(json_schema_extra={"minLength": 1})]


class CustomOp(StrictModel):
    """An op of your own, with its derivatives written by hand. Gates use it
    as a built-in op ({op: NAME, in: [...]}, or NAME(...) in a formula);
    backprop uses the written `grads`, and --gradcheck tells a wrong one."""

    args: list[Name] = Field(min_length=1, description="The op's inputs, in order: the names its "
                                                       "expressions use for them.", examples=[["a"], ["a", "b"]])
    forward: Expression = Field(description="The op's value: a formula over its args (numbers, + - * / **, "
                                            "built-in ops and other custom ops).",
                                examples=["log(1 + exp(a))", "a * sigmoid(a)"])
    grads: list[Expression] = Field(
        json_schema_extra={"minItems": 1}, description="One formula per arg, in the order of `args`: the derivative of the "
                                  "op's value with respect to that arg. It may use the args and `out` (the "
                                  "op's value).", examples=[["sigmoid(a)"], ["out + sigmoid(a) * (1 - out)"]])


class Optimize(StrictModel):
    """Gradient ascent/descent or random local search on the trainable inputs."""

    goal: Literal[rules.GOALS] = Field(  # type: ignore[valid-type]
        "maximize", description="Push the output up (maximize, as in the seed) or down (minimize).")
    method: Literal[rules.METHODS] = Field(  # type: ignore[valid-type]
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
    optimizer: Literal[rules.OPTIMIZERS] = Field(  # type: ignore[valid-type]
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
    batch_size: Optional[Annotated[int, PlainValidator(_checked(rules.batch_size), json_schema_input_type=Annotated[
        int, Field(ge=1)])]] = Field(
        None, description="With data: rows per step, drawn without replacement each epoch by "
                          "random.Random(seed); default all rows (full batch).")
    step_size_end: Optional[PositiveNumber] = Field(
        None, description="Decay the step linearly from step_size at the first step to this at the "
                          "last step (micrograd's demo: 1.0 -> 0.1); default no decay.")

    @field_validator("tolerance")
    @classmethod
    def _tolerance_needs_gradients(cls, tolerance: Optional[float], info: ValidationInfo) -> Optional[float]:
        if tolerance is not None:
            _reject(rules.tolerance_problem(info.data.get("method")))
        return tolerance

    @field_validator("optimizer")
    @classmethod
    def _optimizer_needs_gradients(cls, optimizer: str, info: ValidationInfo) -> str:
        _reject(rules.optimizer_problem(info.data.get("method")))
        return optimizer

    @field_validator("momentum", "beta1", "beta2", "eps")
    @classmethod
    def _setting_of_chosen_optimizer(cls, setting: float, info: ValidationInfo) -> float:
        _reject(rules.setting_problem(info.field_name, info.data.get("optimizer")))
        return setting

    def optimizer_settings(self) -> dict[str, float]:
        """The settings of the chosen optimizer (adam: beta1, beta2, eps)."""
        return {name: getattr(self, name) for name, owner in rules.SETTING_OWNER.items()
                if owner == self.optimizer}


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


def _expected_kind(value: Any) -> str:
    return "rows" if isinstance(value, list) else "one"


# A node's expected value: one number, or with data one per row, in row order.
ExpectedValue = Annotated[
    Union[Annotated[ExpectedNumber, Tag("one")], Annotated[list[ExpectedNumber], Tag("rows")]],
    Discriminator(_expected_kind)]
MetricName = Literal[rules.METRICS]  # type: ignore[valid-type]


class Tolerance(StrictModel):
    """A check passes when |actual - expected| <= abs + rel * |expected|."""

    abs: NonNegativeNumber = Field(1e-9, description="Absolute tolerance.")
    rel: NonNegativeNumber = Field(1e-9, description="Relative tolerance.")


class ExpectOptimized(StrictModel):
    """Expected results after the spec's optimization has run."""

    output: Optional[ExpectedNumber] = Field(None, description="The output at the final inputs.")
    inputs: dict[NodeName, ExpectedNumber] = Field(default_factory=dict,
                                                   description="Final values of inputs, by name.")
    grads: dict[NodeName, ExpectedNumber] = Field(
        default_factory=dict, description="Gradients d(output)/d(input) at the final inputs, by input name.")
    steps: Optional[StepCount] = Field(None, description="How many steps the run took, exactly (a tolerance "
                                                          "or stalled run stops early).", examples=[224])
    stop: Optional[Literal[rules.STOPS]] = Field(  # type: ignore[valid-type]
        None, description="Why the run ended: iterations (all done), tolerance, stalled (a step changed no "
                          "input) or diverged.")
    metrics: dict[MetricName, ExpectedNumber] = Field(default_factory=dict,
                                                      description="Metrics over all rows after optimizing.")


class Expect(StrictModel):
    """What `--check` and the pytest plugin compare the results with."""

    output: Optional[ExpectedNumber] = Field(None, description="The output's value.")
    values: dict[NodeName, ExpectedValue] = Field(
        default_factory=dict, description="Values of inputs or gates, by name; a list for a node that "
                                          "depends on data (one value per row).")
    grads: dict[NodeName, ExpectedNumber] = Field(default_factory=dict,
                                                  description="Gradients d(output)/d(node), by name.")
    metrics: dict[MetricName, ExpectedNumber] = Field(default_factory=dict,
                                                      description="Metrics over all rows, by name.")
    optimized: Optional[ExpectOptimized] = Field(None, description="Results of the optimization.")
    tolerance: Tolerance = Field(default_factory=Tolerance, description="Default tolerance of "
                                                                        "every entry.")


class Data(StrictModel):
    """Rows of examples: each column is a fixed input with one value per row."""

    columns: list[Name] = Field(min_length=1, description="The columns' names, in order; gates use "
                                                          "them like inputs.", examples=[["x0", "x1", "y"]])
    rows: Optional[list[list[Number]]] = Field(None, description="The rows, one number per column.",
                                               examples=[[[1.2, 0.7, 1], [-0.3, 0.5, -1]]])
    file: Optional[Annotated[str, Strict(), Field(min_length=1)]] = Field(
        None, description="A CSV file with a header row naming the columns, relative to the spec file.",
        examples=["data/moons.csv"])

    @model_validator(mode="after")
    def _one_source(self) -> "Data":
        _reject(rules.data_source_problem(self.rows is not None, self.file is not None))
        return self


class L2(StrictModel):
    """L2 regularization: weight * (sum of the squares of the parameters)."""

    weight: NonNegativeNumber = Field(description="How strongly large parameters are penalized.",
                                      examples=[1e-4])
    params: Optional[list[NodeName]] = Field(None, description="The inputs penalized; default every "
                                                               "trainable input.")


class Loss(StrictModel):
    """What a spec with data minimizes: reduce(the node `of` over rows) + L2."""

    of: Optional[NodeName] = Field(None, description="The per-row node (default: the output).",
                                   examples=["cost"])
    reduce: Literal[rules.REDUCTIONS] = Field(  # type: ignore[valid-type]
        "mean", description="How the rows' values combine: their mean or their sum.")
    l2: Optional[L2] = Field(None, description="Add weight * sum of p^2 over the parameters.")


class Classifier(StrictModel):
    """A classifier by sign: score > 0 predicts the label +1, otherwise -1."""

    score: NodeName = Field(description="The node whose sign is the prediction.", examples=["score"])
    label: NodeName = Field(description="The column holding the labels, -1 or +1.", examples=["y"])


class Metrics(StrictModel):
    """Metrics of a classifier by sign, over the rows: each names its score and label."""

    accuracy: Optional[Classifier] = Field(None, description="Share of rows predicted right.")
    errors: Optional[Classifier] = Field(None, description="How many rows are predicted wrong.")
    precision: Optional[Classifier] = Field(None, description="Of the rows predicted +1, the share "
                                                              "labelled +1 (0 when none is predicted +1).")
    recall: Optional[Classifier] = Field(None, description="Of the rows labelled +1, the share "
                                                           "predicted +1 (0 when none is labelled +1).")


class Spec(StrictModel):
    """A circuit: inputs, gates wired to them, and optionally an optimization
    and the results it is expected to give."""

    model_config = ConfigDict(title="circuit-run spec, format v1")

    version: Literal[1] = Field(1, description="Spec format version; only 1 exists.")
    name: Optional[str] = Field(None, description="The circuit's name; defaults to the file name "
                                                  "without its extension.")
    description: Optional[str] = Field(None, description="What the circuit shows, for people.")
    inputs: dict[Name, InputEntry] = Field(
        description="Input name -> starting value (a number) or {value, trainable, min, max}. At "
                    "least one, unless `data` has columns (which are inputs too).",
        examples=[{"x": -2, "y": 5, "z": {"value": -4, "trainable": False}}])
    gates: dict[Name, GateEntry] = Field(
        min_length=1, description="Gate name -> {op, in}, a formula (\"x * y\" or {expr: ...}), or a "
                                  "module instance {use, in, repeat, activation}. Any order; the "
                                  "compiler sorts them.",
        examples=[{"q": {"op": "add", "in": ["x", "y"]}, "f": "q * z"}])
    output: Optional[NodeName] = Field(None, description="The gate whose value is the circuit's output; "
                                                         "defaults to the last gate listed.")
    modules: dict[Name, Module] = Field(default_factory=dict,
                                        description="Module name -> a sub-circuit that gates can use.")
    ops: dict[Name, CustomOp] = Field(
        default_factory=dict, description="Op name -> an op of your own: {args, forward, grads}, with its "
                                          "derivatives written by hand. It may not share a name with a built-in "
                                          "op or a module.",
        examples=[{"softplus": {"args": ["a"], "forward": "log(1 + exp(a))", "grads": ["sigmoid(a)"]}}])
    seed: WholeNumber = Field(0, description="Seed of the random starting values of module parameters "
                                             "(Python's random.Random); same seed, same numbers.")
    data: Optional[Data] = Field(None, description="Rows of examples to learn from: columns are "
                                                   "inputs with one value per row.")
    loss: Optional[Loss] = Field(None, description="With data: the output becomes this loss over the rows.")
    metrics: Optional[Metrics] = Field(None, description="With data: classifier metrics over the rows.")
    optimize: Optional[Optimize] = Field(None, description="Optimize the trainable inputs.")
    expect: Optional[Expect] = Field(None, description="Expected results, for --check and pytest.")

    _source: str = PrivateAttr(default="")
    _netlist: Optional[Any] = PrivateAttr(default=None)  # a netlist.Netlist, made by validation

    @property
    def source(self) -> str:
        """The file this spec came from (`<stdin>` for standard input)."""
        return self._source

    @property
    def output_name(self) -> str:
        return self.output if self.output is not None else next(reversed(self.gates))

    @property
    def netlist(self) -> Any:
        """The flat circuit this spec describes (a `netlist.Netlist`), as
        validation found it; worked out here for a Spec made without it."""
        if self._netlist is None:
            from .netlist import Netlist
            from .wiring import find_cycle_free_order

            order = find_cycle_free_order({name: [ref for ref in gate.in_ if isinstance(ref, str)]
                                           for name, gate in self.gates.items()})
            if order is None:
                raise ValueError("the gates form a cycle; validate the spec (load_spec) to see where")
            self._netlist = Netlist(self.inputs, self.gates, order, self.output_name)
        return self._netlist


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
