"""A quick path past pydantic and the graph checks for plain, valid specs.

Two costs make it worth having. Building the pydantic models' validators
takes ~60 ms, more than everything else a small run does; and on a big spec
the per-gate work of validation (pydantic, then the wiring checks of
validate.py) is most of the run. Most specs use only the plain forms
(numbers, `{value, trainable}` inputs, `{op, in}` gates, the basic optimize
and expect keys), and their gates can be checked a column at a time with
C-speed builtins (sets, `map`, one regex over all the names) instead of a
Python loop per gate.

This module only ever accepts: anything unusual, doubtful or wrong makes
`quick_spec` return None, and validate.py's full path (pydantic and the
graph checks) runs and reports it. Tests check that whenever this path
accepts, the full path finds no problem and builds exactly the same Spec,
with the same gate order.
"""

from __future__ import annotations

import math
import re
from itertools import chain, count, repeat
from operator import gt, itemgetter
from typing import Any, Optional

from ..core.compiler import Wiring, find_cycle_free_order, wire
from ..loading.loader import MAX_ITERATIONS
from .models import (NAME_BODY, RESERVED_NAMES, Expect, Expected, ExpectOptimized, Gate, Input, Optimize,
                     Spec, Tolerance, _NAME, construct_many)
from ..ops import OPS

# names that are not reserved (in any case), each ended by a newline
_NAME_LINES = re.compile(r"(?:(?!(?i:%s)\n)%s\n)*" % ("|".join(sorted(RESERVED_NAMES)), NAME_BODY))
_TOP = frozenset({"version", "name", "description", "inputs", "gates", "output", "optimize", "expect"})
_INPUT = frozenset({"value", "trainable"})
_OPTIMIZE = frozenset({"goal", "method", "step_size", "iterations", "h", "seed", "tolerance"})
_EXPECT = frozenset({"output", "values", "grads", "optimized", "tolerance"})
_EXPECTED = frozenset({"value", "abs", "rel"})
_STR = frozenset({str})


class _Decline(Exception):
    """Not a plain, valid spec: let the full path decide and explain."""


def quick_spec(data: Any) -> Optional[Spec]:
    """The validated Spec of plain, valid data (its gate order found), or
    None to ask the full path."""
    try:
        return _spec(data)
    except (_Decline, TypeError, ValueError, OverflowError, KeyError):
        return None


def _spec(data: Any) -> Spec:
    _require(type(data) is dict and _TOP.issuperset(data) and "inputs" in data and "gates" in data)
    version = data.get("version", 1)
    _require(type(version) is int and version == 1)
    inputs = _inputs(data["inputs"])
    gates, order, wiring = _gates(data["gates"], inputs)
    fields: dict[str, Any] = {"inputs": inputs, "gates": gates}
    if "version" in data:
        fields["version"] = 1
    for key in ("name", "description"):
        if key in data:
            _require(data[key] is None or type(data[key]) is str)
            fields[key] = data[key]
    if "output" in data:  # a gate (not an input), when given
        _require(data["output"] is None or (type(data["output"]) is str and data["output"] in gates))
        fields["output"] = data["output"]
    if "optimize" in data:
        fields["optimize"] = None if data["optimize"] is None else _optimize(data["optimize"])
    if "expect" in data:
        # expectations of optimized results need an optimize block
        _require("optimized" not in (data["expect"] or {}) or type(data.get("optimize")) is dict)
        fields["expect"] = None if data["expect"] is None else _expect(data["expect"], inputs, gates)
    spec = Spec.model_construct(**fields)
    spec._gate_order = order
    spec._wiring = wiring
    return spec


def _require(condition: bool) -> None:
    if not condition:
        raise _Decline()


def _all_names(keys: list[str]) -> bool:
    """Whether every key is a name and none is reserved, at C speed
    (`join` refuses anything but strings with TypeError: a decline)."""
    return _NAME_LINES.fullmatch("\n".join(keys) + "\n") is not None


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


def _inputs(value: Any) -> dict[str, Input]:
    _require(type(value) is dict and len(value) > 0 and _all_names(list(value)))
    return construct_many(Input, dict(zip(value, map(_input_row, value.values()))))


def _input_row(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        _require(_INPUT.issuperset(value) and "value" in value)
        row = {"value": _number(value["value"])}
        if "trainable" in value:
            _require(type(value["trainable"]) is bool)
            row["trainable"] = value["trainable"]
        return row
    return {"value": _number(value)}


def _gates(value: Any, inputs: dict[str, Input]) -> tuple[dict[str, Gate], list[str], Optional[Wiring]]:
    """The gates, an order in which each comes after the gates it reads, and
    the slots the compiler would find (when there are no number constants).

    Every check here looks at a whole column (all names, all ops, all
    references) at once; no Python code runs per gate unless a gate has
    number constants or the file is not in dependency order.
    """
    _require(type(value) is dict and len(value) > 0)
    names = list(value)
    _require(_all_names(names) and inputs.keys().isdisjoint(value))
    entries = list(value.values())
    # exactly the keys 'op' and 'in' (a missing one raises KeyError, a non-mapping TypeError)
    _require(set(map(len, entries)) == {2})
    ops = list(map(itemgetter("op"), entries))
    refs = list(map(itemgetter("in"), entries))
    _require(set(map(type, refs)) == {list})
    counts = list(map(len, refs))
    for op, arity in set(zip(ops, counts)):  # a few distinct pairs: ops exist, arities fit
        _require(op.__class__ is str and op in OPS and OPS[op].accepts(arity))

    # Every reference is looked up once, in the slot numbering the compiler
    # would make (inputs, then gates as listed): a name that is no node, or
    # a number constant, fails the lookup.
    wiring = wire(list(inputs), names, refs, ops)
    if wiring is not None:
        read = wiring.reads
    else:
        refs = [each if _STR.issuperset(map(type, each)) else [_reference(ref) for ref in each]
                for each in refs]
        value = {name: {"op": op, "in": each} for name, op, each in zip(names, ops, refs)}
        slots = dict.fromkeys(inputs, 0)
        slots.update(zip(names, count(len(inputs))))
        read = [0 if ref.__class__ is float else slots[ref] for ref in chain.from_iterable(refs)]
    # In file order when every gate comes after those it reads (the usual
    # case, checked without a loop), else sorted; a cycle declines.
    owners = chain.from_iterable(map(repeat, count(len(inputs)), counts))
    if all(map(gt, owners, read)):
        order = names
    else:
        wiring = None  # its slots follow the file's order
        order = find_cycle_free_order(
            {name: [ref for ref in each if ref.__class__ is str] for name, each in zip(names, refs)})
        _require(order is not None)
    return construct_many(Gate, value), order, wiring


def _reference(value: Any) -> Any:
    return value if type(value) is str else _number(value)


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


def _expected_by_name(value: Any, known: Any) -> dict[str, Expected]:
    _require(type(value) is dict and all(type(key) is str and _NAME.match(key) for key in value)
             and known >= value.keys())
    return {key: _expected(item) for key, item in value.items()}


def _expect(value: Any, inputs: dict[str, Input], gates: dict[str, Gate]) -> Expect:
    _require(type(value) is dict and _EXPECT.issuperset(value))
    nodes = inputs.keys() | gates.keys()
    # set explicitly: its default_factory would build the validators we avoid
    fields: dict[str, Any] = {"tolerance": Tolerance.model_construct()}
    if "output" in value:
        fields["output"] = None if value["output"] is None else _expected(value["output"])
    for key in ("values", "grads"):
        if key in value:
            fields[key] = _expected_by_name(value[key], nodes)
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
                inner["inputs"] = _expected_by_name(optimized["inputs"], inputs.keys())
            fields["optimized"] = ExpectOptimized.model_construct(**inner)
    if "tolerance" in value:
        tolerance = value["tolerance"]
        _require(type(tolerance) is dict and {"abs", "rel"}.issuperset(tolerance))
        fields["tolerance"] = Tolerance.model_construct(
            **{key: _non_negative(item) for key, item in tolerance.items()})
    return Expect.model_construct(**fields)
