"""A quick path past pydantic for plain, valid specs.

Building the pydantic models' validators costs ~60 ms at start-up, more than
everything else a small run does. Most specs use only the plain forms
(numbers, `{value, trainable}` inputs, `{op, in}` gates, the basic optimize
and expect keys), which are checked here by hand and built with
`model_construct`. Anything else — an unusual form, a doubtful value, any
error — makes `quick_spec` return None, and the full pydantic validation in
validate.py runs and reports it. Tests check that whenever this path
accepts, it builds exactly what pydantic would. Big specs go to pydantic
too: its compiled validators are faster per gate than this code.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

from .loader import MAX_ITERATIONS
from .models import (RESERVED_NAMES, Expect, Expected, ExpectOptimized, Gate, Input, Optimize, Spec,
                     Tolerance)
from .ops import OPS

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TOP = frozenset({"version", "name", "description", "inputs", "gates", "output", "optimize", "expect"})
_INPUT = frozenset({"value", "trainable"})
_GATE = frozenset({"op", "in"})
_OPTIMIZE = frozenset({"goal", "method", "step_size", "iterations", "h", "seed", "tolerance"})
_EXPECT = frozenset({"output", "values", "grads", "optimized", "tolerance"})
_EXPECTED = frozenset({"value", "abs", "rel"})


class _Decline(Exception):
    """Not a plain spec: let pydantic decide."""


def quick_spec(data: Any) -> Optional[Spec]:
    """The validated Spec of plain data, or None to ask pydantic."""
    try:
        return _spec(data)
    except (_Decline, TypeError, ValueError, OverflowError):
        return None


# Past this many gates pydantic-core's compiled validators beat this Python
# loop, and their build cost no longer matters.
MAX_GATES = 2_000


def _spec(data: Any) -> Spec:
    _require(type(data) is dict and _TOP.issuperset(data) and "inputs" in data and "gates" in data)
    _require(type(data["gates"]) is dict and len(data["gates"]) <= MAX_GATES)
    version = data.get("version", 1)
    _require(type(version) is int and version == 1)
    fields: dict[str, Any] = {"inputs": _inputs(data["inputs"]), "gates": _gates(data["gates"])}
    if "version" in data:
        fields["version"] = 1
    for key in ("name", "description"):
        if key in data:
            _require(data[key] is None or type(data[key]) is str)
            fields[key] = data[key]
    if "output" in data:
        _require(data["output"] is None or _is_name(data["output"]))
        fields["output"] = data["output"]
    if "optimize" in data:
        fields["optimize"] = None if data["optimize"] is None else _optimize(data["optimize"])
    if "expect" in data:
        fields["expect"] = None if data["expect"] is None else _expect(data["expect"])
    return Spec.model_construct(**fields)


def _require(condition: bool) -> None:
    if not condition:
        raise _Decline()


def _is_name(value: Any) -> bool:
    return type(value) is str and _NAME.match(value) is not None and value.lower() not in RESERVED_NAMES


def _number(value: Any) -> float:
    _require(type(value) is int or type(value) is float)
    number = float(value)
    _require(math.isfinite(number))
    return number


def _positive(value: Any) -> float:
    number = _number(value)
    _require(number > 0)
    return number


def _non_negative(value: Any) -> float:
    number = _number(value)
    _require(number >= 0)
    return number


def _names_to(value: Any, build, *, non_empty: bool = False) -> dict:
    _require(type(value) is dict and (len(value) > 0 or not non_empty))
    # pydantic's name check, for the keys: a pattern; reserved names pass it
    # and are refused later by the graph checks, so they are allowed here.
    _require(all(type(key) is str and _NAME.match(key) for key in value))
    return {key: build(item) for key, item in value.items()}


def _inputs(value: Any) -> dict[str, Input]:
    return _names_to(value, _input, non_empty=True)


def _input(value: Any) -> Input:
    if type(value) is dict:
        _require(_INPUT.issuperset(value) and "value" in value)
        trainable = value.get("trainable", True)
        _require(type(trainable) is bool)
        fields = {"value": _number(value["value"])}
        if "trainable" in value:
            fields["trainable"] = trainable
        return Input.model_construct(**fields)
    return Input.model_construct(value=_number(value))


def _gates(value: Any) -> dict[str, Gate]:
    return _names_to(value, _gate, non_empty=True)


def _gate(value: Any) -> Gate:
    _require(type(value) is dict and value.keys() == _GATE and value["op"].__class__ is str
             and value["op"] in OPS and type(value["in"]) is list)
    refs = []
    for ref in value["in"]:
        if type(ref) is str:
            _require(_NAME.match(ref) is not None)
            refs.append(ref)
        else:
            refs.append(_number(ref))
    return Gate.model_construct(op=value["op"], in_=refs)


def _optimize(value: Any) -> Optimize:
    _require(type(value) is dict and _OPTIMIZE.issuperset(value))
    fields: dict[str, Any] = {}
    if "goal" in value:
        _require(value["goal"] in ("maximize", "minimize"))
        fields["goal"] = value["goal"]
    if "method" in value:
        _require(value["method"] in ("analytic", "numerical", "random"))
        fields["method"] = value["method"]
    for key in ("step_size", "h"):
        if key in value:
            fields[key] = _positive(value[key])
    if "tolerance" in value:
        fields["tolerance"] = None if value["tolerance"] is None else _positive(value["tolerance"])
        _require(fields["tolerance"] is None or fields.get("method") != "random")
    if "iterations" in value:
        _require(type(value["iterations"]) is int and 0 <= value["iterations"] <= MAX_ITERATIONS)
        fields["iterations"] = value["iterations"]
    if "seed" in value:
        _require(type(value["seed"]) is int)
        fields["seed"] = value["seed"]
    return Optimize.model_construct(**fields)


def _expected(value: Any) -> Expected:
    if type(value) is dict:
        _require(_EXPECTED.issuperset(value) and "value" in value)
        fields = {"value": _number(value["value"])}
        for key in ("abs", "rel"):
            if key in value:
                fields[key] = None if value[key] is None else _non_negative(value[key])
        return Expected.model_construct(**fields)
    return Expected.model_construct(value=_number(value))


def _expect(value: Any) -> Expect:
    _require(type(value) is dict and _EXPECT.issuperset(value))
    # set explicitly: its default_factory would build the validators we avoid
    fields: dict[str, Any] = {"tolerance": Tolerance.model_construct()}
    if "output" in value:
        fields["output"] = None if value["output"] is None else _expected(value["output"])
    for key in ("values", "grads"):
        if key in value:
            fields[key] = _names_to(value[key], _expected)
    if "optimized" in value:
        optimized = value["optimized"]
        if optimized is None:
            fields["optimized"] = None
        else:
            _require(type(optimized) is dict and {"output", "inputs"}.issuperset(optimized))
            inner: dict[str, Any] = {}
            if "output" in optimized:
                inner["output"] = None if optimized["output"] is None else _expected(optimized["output"])
            if "inputs" in optimized:
                inner["inputs"] = _names_to(optimized["inputs"], _expected)
            fields["optimized"] = ExpectOptimized.model_construct(**inner)
    if "tolerance" in value:
        tolerance = value["tolerance"]
        _require(type(tolerance) is dict and {"abs", "rel"}.issuperset(tolerance))
        fields["tolerance"] = Tolerance.model_construct(
            **{key: _non_negative(item) for key, item in tolerance.items()})
    return Expect.model_construct(**fields)
