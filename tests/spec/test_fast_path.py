"""The quick validation path must never accept what the full path (pydantic
and the graph checks) would refuse, and must build exactly the Spec it
builds, gates in the same order."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runner.errors import SpecError
from runner.loading.document import load_file, load_text
from runner.spec.fast_path import quick_spec
from runner.spec.validate import _validate_fully
from helpers import CIRCUITS, ROOT


def fully_validated(data):
    """The full path's (Spec, gate order) of `data` (given to it as JSON text), or the SpecError."""
    document = load_text(json.dumps(data), "t.json", fmt="json")
    assert document.data == data or data != data  # NaN never equals itself
    try:
        spec, netlist = _validate_fully(document)
    except SpecError as err:
        return err
    return spec, netlist.order


def same_as_pydantic(data) -> bool | None:
    """None when the quick path declines; else True, having checked it
    built what the full path builds."""
    found = quick_spec(data)
    if found is None:
        return None
    full_found = fully_validated(data)
    if isinstance(full_found, SpecError):
        raise AssertionError(f"quick path accepted what the full path refuses: {full_found}")
    (quick, quick_order, _), (full, full_order) = found, full_found
    assert quick.model_dump() == full.model_dump()
    assert repr(quick) == repr(full)
    if full.optimize is not None:  # overrides rely on which settings were given
        assert quick.optimize.model_fields_set == full.optimize.model_fields_set
    assert quick.model_fields_set == full.model_fields_set
    assert [g.model_fields_set for g in quick.gates.values()] == [g.model_fields_set for g in full.gates.values()]
    assert [i.model_fields_set for i in quick.inputs.values()] == [i.model_fields_set for i in full.inputs.values()]
    assert quick_order == full_order
    return True


EXAMPLES = sorted(CIRCUITS.glob("*.yaml")) + sorted((ROOT / "docs" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_agree(path):
    same_as_pydantic(load_file(str(path)).data)


@pytest.mark.parametrize("name", ["add-gate", "add-multiply", "neuron", "distance-ridge", "multiply-gate"])
def test_plain_examples_take_the_quick_path(name):
    assert same_as_pydantic(load_file(str(CIRCUITS / f"{name}.yaml")).data) is True


names = st.sampled_from(["x", "y", "z", "q", "f", "_a1", "bad-name", "2x", "null", ""])
numbers = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True), st.just(10 ** 400),
                    st.booleans())
anything = st.one_of(numbers, names, st.none(), st.lists(st.integers(), max_size=2))
refs = st.lists(st.one_of(names, numbers), max_size=3)
gate = st.one_of(st.fixed_dictionaries({"op": st.sampled_from(["add", "mul", "neg", "sigmoid", "nope", 3]),
                                        "in": refs}),
                 st.dictionaries(st.sampled_from(["op", "in", "inn"]), anything, max_size=3), anything)
input_entry = st.one_of(numbers, st.dictionaries(st.sampled_from(["value", "trainable", "min", "max"]),
                                                 st.one_of(numbers, st.booleans()), max_size=3), anything)
expected = st.one_of(numbers, st.dictionaries(st.sampled_from(["value", "abs", "rel", "x"]), numbers, max_size=3))
optimize = st.dictionaries(
    st.sampled_from(["goal", "method", "step_size", "iterations", "h", "seed", "tolerance", "optimizer",
                     "momentum", "beta1", "eps"]),
    st.one_of(numbers, st.sampled_from(["maximize", "minimize", "analytic", "random", "max", "sgd", "adam",
                                        "momentum"]),
              st.none()), max_size=4)
expect = st.fixed_dictionaries({}, optional={
    "output": expected, "values": st.dictionaries(names, expected, max_size=2),
    "grads": st.dictionaries(names, expected, max_size=2),
    "optimized": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
        "output": expected, "inputs": st.dictionaries(names, expected, max_size=2)})),
    "tolerance": st.dictionaries(st.sampled_from(["abs", "rel"]), numbers, max_size=2)})
specs = st.fixed_dictionaries(
    {"inputs": st.dictionaries(names, input_entry, max_size=3), "gates": st.dictionaries(names, gate, max_size=3)},
    optional={"version": st.one_of(st.just(1), numbers), "name": anything, "description": anything,
              "output": anything, "optimize": st.one_of(st.none(), optimize), "expect": st.one_of(st.none(), expect),
              "extra": anything})


@settings(max_examples=400, deadline=None)
@given(specs)
def test_random_specs_agree(data):
    same_as_pydantic(data)


def test_quick_path_declines_odd_forms():
    base = {"inputs": {"x": 1}, "gates": {"f": {"op": "neg", "in": ["x"]}}}
    assert quick_spec(base) is not None
    for odd in ({**base, "version": 1.0}, {**base, "version": True}, {**base, "inputs": {"x": True}},
                {**base, "gates": {"f": {"op": "neg", "in": [math.inf]}}},
                {**base, "gates": {"f": {"op": "neg", "in": ["x"], "note": 1}}}):
        assert quick_spec(odd) is None


@pytest.mark.parametrize("extra", [
    {"inputs": {"x": {"value": 1, "min": 0, "max": 2}}},
    {"optimize": {"iterations": 10.0, "optimizer": "adam", "beta1": 0.5}},
    {"optimize": {"optimizer": "momentum", "momentum": 0.5, "seed": 3.0}},
])
def test_bounds_and_optimizer_settings_take_the_quick_path_too(extra):
    """Every value is checked by the rule pydantic's validators call, so the
    quick path need not decline the less common keys."""
    base = {"inputs": {"x": 1}, "gates": {"f": {"op": "neg", "in": ["x"]}}}
    assert same_as_pydantic({**base, **extra}) is True


@pytest.mark.parametrize("extra", [
    {"inputs": {"x": {"value": 1, "min": 2}}},
    {"inputs": {"x": {"value": 1, "max": 0}}},
    {"optimize": {"method": "random", "tolerance": 0.1}},
    {"optimize": {"method": "random", "optimizer": "sgd"}},
    {"optimize": {"momentum": 0.5}},
    {"optimize": {"optimizer": "adam", "momentum": 0.5}},
])
def test_rules_between_fields_hold_on_the_quick_path(extra):
    base = {"inputs": {"x": 1}, "gates": {"f": {"op": "neg", "in": ["x"]}}}
    assert quick_spec({**base, **extra}) is None
    assert isinstance(fully_validated({**base, **extra}), SpecError)


finite = st.one_of(st.integers(-5, 5), st.floats(-1e6, 1e6, allow_nan=False))
plain_expected = st.one_of(finite, st.fixed_dictionaries({"value": finite}, optional={
    "abs": st.floats(0, 1), "rel": st.floats(0, 1)}))


@st.composite
def wired_specs(draw, constants=True, shuffled=True):
    """Valid plain circuits of up to 30 gates, listed in a random order
    (so some files are not in dependency order), with number constants."""
    n_inputs, n_gates = draw(st.integers(1, 4)), draw(st.integers(1, 30))
    inputs = {f"x{i}": draw(finite) for i in range(n_inputs)}
    gates = {}
    for g in range(n_gates):
        readable = list(inputs) + [f"g{j}" for j in range(g)]
        op = draw(st.sampled_from(["add", "mul", "neg", "max", "sigmoid", "pow"]))
        arity = {"neg": 1, "sigmoid": 1, "pow": 2}.get(op) or draw(st.integers(2, 3))
        ref = st.one_of(st.sampled_from(readable), finite) if constants else st.sampled_from(readable)
        gates[f"g{g}"] = {"op": op, "in": [draw(ref) for _ in range(arity)]}
    listed = draw(st.permutations(list(gates))) if shuffled else list(gates)
    return {"inputs": inputs, "gates": {name: gates[name] for name in listed}}


@st.composite
def plain_specs(draw):
    """Plain forms only, mostly valid: wired circuits with the optional keys,
    whose names are now and then unknown or of the wrong kind."""
    data = draw(wired_specs())
    inputs, gates = list(data["inputs"]), list(data["gates"])
    if draw(st.booleans()):  # some inputs as {value, trainable}
        data["inputs"] = {name: draw(st.one_of(st.just(value), st.fixed_dictionaries(
            {"value": st.just(value)}, optional={"trainable": st.booleans()})))
            for name, value in data["inputs"].items()}
    stray = st.sampled_from(["zz", "null"])
    nodes = st.one_of(st.sampled_from(inputs + gates), stray) if draw(st.integers(0, 3)) == 0 else \
        st.sampled_from(inputs + gates)
    extras = draw(st.fixed_dictionaries({}, optional={
        "version": st.just(1), "name": st.text(max_size=5), "description": st.text(max_size=5),
        "output": st.one_of(st.sampled_from(gates), st.sampled_from(inputs), stray) if draw(st.booleans())
        else st.sampled_from(gates),
        "optimize": st.fixed_dictionaries({}, optional={
            "goal": st.sampled_from(["maximize", "minimize"]),
            "method": st.sampled_from(["analytic", "numerical", "random"]),
            "step_size": st.floats(1e-6, 1), "iterations": st.integers(0, 1000),
            "h": st.floats(1e-9, 1), "seed": st.integers(-5, 5), "tolerance": st.floats(1e-12, 1)}).map(
            lambda o: {k: v for k, v in o.items() if k != "tolerance" or o.get("method") != "random"}),
        "expect": st.fixed_dictionaries({}, optional={
            "output": plain_expected, "values": st.dictionaries(nodes, plain_expected, max_size=2),
            "grads": st.dictionaries(nodes, plain_expected, max_size=2),
            "optimized": st.fixed_dictionaries({}, optional={
                "output": plain_expected,
                "inputs": st.dictionaries(st.sampled_from(inputs + gates[:1]), plain_expected, max_size=2)}),
            "tolerance": st.fixed_dictionaries({}, optional={"abs": st.floats(0, 1), "rel": st.floats(0, 1)})})}))
    return {**data, **extras}


@settings(max_examples=300, deadline=None)
@given(plain_specs())
def test_plain_specs_take_the_quick_path_exactly_when_valid(data):
    """In plain forms, the quick path declines only what is wrong."""
    accepted = same_as_pydantic(data)
    assert (accepted is True) == (not isinstance(fully_validated(data), SpecError))


@settings(max_examples=200, deadline=None)
@given(wired_specs())
def test_wired_specs_in_any_order_are_accepted_and_agree(data):
    assert same_as_pydantic(data) is True


@pytest.mark.parametrize("change,why", [
    (lambda d: d["gates"]["g1"]["in"].__setitem__(0, "g2"), "a cycle"),
    (lambda d: d["gates"]["g1"]["in"].__setitem__(0, "g1"), "a gate reading itself"),
    (lambda d: d["gates"]["g1"]["in"].__setitem__(0, "nope"), "an unknown node"),
    (lambda d: d["gates"]["g1"]["in"].append("x"), "too many inputs"),
    (lambda d: d["gates"].__setitem__("x", {"op": "neg", "in": ["g0"]}), "a name both input and gate"),
    (lambda d: d["gates"].__setitem__("null", {"op": "neg", "in": ["g0"]}), "a reserved name"),
    (lambda d: d.__setitem__("output", "x"), "an input as output"),
    (lambda d: d.__setitem__("output", "g9"), "an unknown output"),
    (lambda d: d.__setitem__("expect", {"grads": {"g9": 1}}), "an unknown name in expect"),
    (lambda d: d.__setitem__("expect", {"optimized": {"output": 1}}), "optimized without optimize"),
])
def test_wiring_problems_leave_the_quick_path(change, why):
    data = {"inputs": {"x": 1, "y": 2}, "gates": {"g0": {"op": "add", "in": ["x", "y"]},
                                                  "g1": {"op": "neg", "in": ["g0"]},
                                                  "g2": {"op": "mul", "in": ["g1", 2]}}}
    assert same_as_pydantic(data) is True
    change(data)
    assert quick_spec(data) is None, why
    assert isinstance(fully_validated(data), SpecError), why


def test_big_specs_take_the_quick_path():
    n = 5_000
    gates = {f"g{i}": {"op": "add", "in": ["x", f"g{i - 1}" if i else 1.5]} for i in range(n)}
    data = {"inputs": {"x": 1}, "gates": dict(reversed(gates.items()))}  # listed last to first
    assert same_as_pydantic(data) is True
    assert quick_spec(data)[1] == [f"g{i}" for i in range(n)]


def _circuit_facts(spec, order, reads=None):
    from runner.core.compiler import compile_netlist
    from runner.spec.netlist import Netlist

    circuit = compile_netlist(Netlist(spec.inputs, spec.gates, order, spec.output_name, reads), {})
    return (circuit.names, circuit.values, [(step.op.name, step.out, step.ins) for step in circuit.tape],
            circuit.index, circuit.refs, circuit.output, circuit.n_inputs, circuit.n_constants,
            circuit.trainable)


@settings(max_examples=100, deadline=None)
@given(st.one_of(wired_specs(), wired_specs(constants=False, shuffled=False)))
def test_both_paths_compile_to_the_same_circuit(data):
    """The references the fast path resolves on its way (Netlist.reads) give
    exactly the circuit the compiler builds from the full path's netlist."""
    assert _circuit_facts(*quick_spec(data)) == _circuit_facts(*fully_validated(data))


def test_references_are_handed_over_only_where_they_hold():
    data = {"inputs": {"x": 1, "y": 2}, "gates": {"a": {"op": "add", "in": ["x", "y"]},
                                                  "b": {"op": "mul", "in": ["a", "x"]}}}
    assert quick_spec(data)[2] == [0, 1, 2, 0]
    data["gates"]["b"]["in"][1] = 2  # a constant takes a slot: positions would move
    assert quick_spec(data)[2] is None
    data["gates"] = {"b": {"op": "mul", "in": ["a", "x"]}, "a": {"op": "add", "in": ["x", "y"]}}
    assert quick_spec(data)[2] is None  # not listed in dependency order
