"""A fast path past pydantic and the wiring checks, for plain, valid specs.

Two costs make it worth having. Building the pydantic models' validators
takes ~40 ms, more than everything else a small run does; and on a big spec
the per-gate work of validation (pydantic, then the wiring checks) is most
of the run. Most specs use only the plain forms, and their gates can be
checked a column at a time with C-speed builtins (sets, `map`, one regex
over all the names) instead of a Python loop per gate.

Nothing here is a rule of its own: each value is checked by the function of
rules.py that the models' validators call, key sets and choices are read off
the models, and arities off the op table. This module only ever accepts:
anything unusual, doubtful or wrong makes `quick_spec` return None, and the
full path (validate.py) runs and reports it. Tests check that whenever this
path accepts, the full path finds no problem and builds exactly the same Spec,
with the same gate order.
"""

from __future__ import annotations

import functools
import re
from itertools import chain, count, repeat
from operator import gt, itemgetter
from typing import Any, Callable, Literal, Optional, Union, get_args, get_origin

from pydantic import BaseModel

from ..ops import OPS
from . import rules
from .models import (Expect, Expected, ExpectOptimized, Gate, Input, Optimize, Spec, Tolerance,
                     construct_many, rule_of)

# names that are not reserved (in any case), each ended by a newline
_NAME_LINES = re.compile(r"(?:(?!(?i:%s)\n)%s\n)*" % ("|".join(sorted(rules.RESERVED_NAMES)), rules.NAME_BODY))


class _Decline(Exception):
    """Not a plain, valid spec: let the full path decide and explain."""


def quick_spec(data: Any) -> Optional[tuple[Spec, list[str], Optional[list[int]]]]:
    """The validated Spec of plain, valid data, its gates in dependency order
    and (for a circuit without number constants, listed in that order) every
    reference resolved to its node's position (see `Netlist.reads`); or None
    to ask the full path."""
    try:
        return _spec(data)
    except (_Decline, rules.Invalid, TypeError, ValueError, OverflowError, KeyError):
        return None


def _require(condition: bool) -> None:
    if not condition:
        raise _Decline()


@functools.cache
def _keys(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in model.model_fields.items())


@functools.cache
def _field_checks(model: type[BaseModel]) -> dict[str, Callable[[Any], Any]]:
    """key -> a check of a plain value of that field, from its annotation:
    the rule its validator calls, a literal's choices, a strict bool.
    Fields of other kinds (sub-models, mappings) are not listed."""
    checks = {}
    for name, field in model.model_fields.items():
        check = _check_of(field.annotation, field.metadata)
        if check is not None:
            checks[field.alias or name] = check
    return checks


def _check_of(annotation: Any, metadata: list) -> Optional[Callable[[Any], Any]]:
    rule = rule_of(metadata)
    if rule is not None:
        return rule
    origin = get_origin(annotation)
    if origin is Literal:
        choices = get_args(annotation)
        return lambda value: value if type(value) in (str, int) and value in choices else _decline()
    if annotation in (bool, str):
        return lambda value: value if type(value) is annotation else _decline()
    if origin is Union and type(None) in get_args(annotation):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            check = _check_of(get_args(inner[0])[0] if hasattr(inner[0], "__metadata__") else inner[0],
                              list(getattr(inner[0], "__metadata__", ())))
            if check is not None:
                return lambda value: None if value is None else check(value)
    return None


def _decline() -> Any:
    raise _Decline()


def _flat(model: type[BaseModel], value: Any) -> dict[str, Any]:
    """The checked fields of a mapping whose every key is a plain field of `model`."""
    _require(type(value) is dict)
    checks = _field_checks(model)
    _require(checks.keys() >= value.keys())
    return {key: checks[key](item) for key, item in value.items()}


def _spec(data: Any) -> tuple[Spec, list[str], Optional[list[int]]]:
    _require(type(data) is dict and _keys(Spec).issuperset(data) and "inputs" in data and "gates" in data)
    _require(data.keys().isdisjoint(("data", "loss", "metrics")))  # learning from data: the full path
    _require("ops" not in data)  # custom ops are built by the full path
    inputs = _inputs(data["inputs"])
    gates, order, reads = _gates(data["gates"], inputs)
    fields: dict[str, Any] = _flat(Spec, {key: value for key, value in data.items()
                                          if key in ("version", "name", "description")})
    fields.update(inputs=inputs, gates=gates)
    if "output" in data:  # a gate (not an input), when given
        _require(data["output"] is None or (type(data["output"]) is str and data["output"] in gates))
        fields["output"] = data["output"]
    if "optimize" in data:
        fields["optimize"] = None if data["optimize"] is None else _optimize(data["optimize"])
    if "expect" in data:
        expect = data["expect"]
        _require("optimized" not in (expect or {}) or type(data.get("optimize")) is dict)
        fields["expect"] = None if expect is None else _expect(expect, inputs, gates)
    return Spec.model_construct(**fields), order, reads


def _all_names(keys: list[str]) -> bool:
    """Whether every key is a name and none is reserved, at C speed
    (`join` refuses anything but strings with TypeError: a decline)."""
    return _NAME_LINES.fullmatch("\n".join(keys) + "\n") is not None


def _inputs(value: Any) -> dict[str, Input]:
    _require(type(value) is dict and len(value) > 0 and _all_names(list(value)))
    return construct_many(Input, dict(zip(value, map(_input_row, value.values()))))


def _input_row(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        return {"value": rules.number(value)}
    row = _flat(Input, value)
    _require("value" in row)
    _require(rules.min_problem(row["value"], row.get("min")) is None)
    _require(rules.max_problem(row["value"], row.get("min"), row.get("max")) is None)
    return row


def _gates(value: Any, inputs: dict[str, Input]) -> tuple[dict[str, Gate], list[str], Optional[list[int]]]:
    """The gates, an order in which each comes after the gates it reads, and
    the references resolved (see `quick_spec`).

    Every check here looks at a whole column (all names, all ops, all
    references) at once; no Python code runs per gate unless a gate has
    number constants or the file is not in dependency order.
    """
    _require(type(value) is dict and len(value) > 0)
    names = list(value)
    _require(_all_names(names) and inputs.keys().isdisjoint(value))
    entries = list(value.values())
    # exactly the keys of a Gate (a missing one raises KeyError, a non-mapping TypeError)
    _require(set(map(len, entries)) == {len(_keys(Gate))})
    ops = list(map(itemgetter("op"), entries))
    refs = list(map(itemgetter("in"), entries))
    _require(set(map(type, refs)) == {list})
    counts = list(map(len, refs))
    for op, arity in set(zip(ops, counts)):  # a few distinct pairs: ops exist, arities fit
        _require(op.__class__ is str and op in OPS and OPS[op].accepts(arity))
    # Every reference is looked up once, in the slot numbering inputs-then-
    # gates-as-listed: a name that is no node, or a number constant, fails.
    slots = dict(zip(inputs, count()))
    slots.update(zip(names, count(len(inputs))))
    flat = list(chain.from_iterable(refs))
    try:
        read = list(map(slots.__getitem__, flat))
        resolved: Optional[list[int]] = read
    except KeyError:  # a number constant, or an unknown name (then the rule declines)
        refs = [each if all(ref.__class__ is str for ref in each) else [_reference(ref) for ref in each]
                for each in refs]
        value = {name: {"op": op, "in": each} for name, op, each in zip(names, ops, refs)}
        read = [0 if ref.__class__ is float else slots[ref] for ref in chain.from_iterable(refs)]
        resolved = None  # constants take slots of their own in a circuit
    # In file order when every gate comes after those it reads (the usual
    # case, checked without a loop), else sorted; a cycle declines.
    owners = chain.from_iterable(map(repeat, count(len(inputs)), counts))
    if all(map(gt, owners, read)):
        order = names
    else:
        from .wiring import find_cycle_free_order

        resolved = None  # the positions follow the listed order, not this one
        order = find_cycle_free_order(
            {name: [ref for ref in each if ref.__class__ is str] for name, each in zip(names, refs)})
        _require(order is not None)
    return construct_many(Gate, value), order, resolved


def _reference(value: Any) -> Any:
    return value if type(value) is str else rules.number(value)


def _optimize(value: Any) -> Optimize:
    fields = _flat(Optimize, value)
    _require(fields.get("batch_size") is None)  # needs data: the full path explains
    method = fields.get("method", "analytic")
    if fields.get("tolerance") is not None:
        _require(rules.tolerance_problem(method) is None)
    if "optimizer" in fields:
        _require(rules.optimizer_problem(method) is None)
    for setting in rules.SETTING_OWNER.keys() & fields.keys():
        _require(rules.setting_problem(setting, fields.get("optimizer", "sgd")) is None)
    return Optimize.model_construct(**fields)


def _expected(value: Any) -> Expected:
    if type(value) is dict:
        fields = _flat(Expected, value)
        _require("value" in fields)
        return Expected.model_construct(**fields)
    return Expected.model_construct(value=rules.number(value))


def _expected_by_name(value: Any, known: Any) -> dict[str, Expected]:
    _require(type(value) is dict and all(type(key) is str and rules.NAME.match(key) for key in value)
             and known >= value.keys())
    return {key: _expected(item) for key, item in value.items()}


def _expect(value: Any, inputs: dict[str, Input], gates: dict[str, Gate]) -> Expect:
    _require(type(value) is dict and _keys(Expect).issuperset(value) and "metrics" not in value)
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
        fields["tolerance"] = Tolerance.model_construct(**_flat(Tolerance, value["tolerance"]))
    return Expect.model_construct(**fields)
