"""The quick validation path must never accept what pydantic would refuse,
and must build exactly the Spec pydantic builds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from runner.loader import load_file
from runner.models import Spec
from runner.quickcheck import quick_spec
from tests.conftest import CIRCUITS, ROOT


def same_as_pydantic(data) -> bool | None:
    """None when the quick path declines; else whether it matches pydantic."""
    quick = quick_spec(data)
    if quick is None:
        return None
    try:
        full = Spec.model_validate(data)
    except ValidationError as err:
        raise AssertionError(f"quick path accepted what pydantic refuses: {err}") from None
    assert quick.model_dump() == full.model_dump()
    assert repr(quick) == repr(full)
    if full.optimize is not None:  # overrides rely on which settings were given
        assert quick.optimize.model_fields_set == full.optimize.model_fields_set
    assert quick.model_fields_set == full.model_fields_set
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
input_entry = st.one_of(numbers, st.dictionaries(st.sampled_from(["value", "trainable", "min"]),
                                                 st.one_of(numbers, st.booleans()), max_size=3), anything)
expected = st.one_of(numbers, st.dictionaries(st.sampled_from(["value", "abs", "rel", "x"]), numbers, max_size=3))
optimize = st.dictionaries(
    st.sampled_from(["goal", "method", "step_size", "iterations", "h", "seed", "tolerance", "optimizer"]),
    st.one_of(numbers, st.sampled_from(["maximize", "minimize", "analytic", "random", "max", "sgd"]),
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
    for odd in ({**base, "version": 1.0}, {**base, "inputs": {"x": True}},
                {**base, "inputs": {"x": {"value": 1, "min": 0}}},
                {**base, "optimize": {"iterations": 10.0}}, {**base, "optimize": {"optimizer": "adam"}},
                {**base, "gates": {"f": {"op": "neg", "in": [math.inf]}}}):
        assert quick_spec(odd) is None


good_names = st.sampled_from(["x", "y", "z", "q", "f", "_a1", "on", "no"])
finite = st.one_of(st.integers(-5, 5), st.floats(-1e6, 1e6, allow_nan=False))
plain_expected = st.one_of(finite, st.fixed_dictionaries({"value": finite}, optional={
    "abs": st.floats(0, 1), "rel": st.floats(0, 1)}))
plain_specs = st.fixed_dictionaries(
    {"inputs": st.dictionaries(good_names, st.one_of(finite, st.fixed_dictionaries(
        {"value": finite}, optional={"trainable": st.booleans()})), min_size=1, max_size=3),
     "gates": st.dictionaries(good_names, st.fixed_dictionaries(
         {"op": st.sampled_from(["add", "mul", "neg", "max", "pow"]),
          "in": st.lists(st.one_of(good_names, finite), max_size=3)}), min_size=1, max_size=3)},
    optional={"version": st.just(1), "name": st.text(max_size=5), "output": good_names,
              "optimize": st.fixed_dictionaries({}, optional={
                  "goal": st.sampled_from(["maximize", "minimize"]),
                  "method": st.sampled_from(["analytic", "numerical", "random"]),
                  "step_size": st.floats(1e-6, 1), "iterations": st.integers(0, 1000),
                  "h": st.floats(1e-9, 1), "seed": st.integers(-5, 5), "tolerance": st.floats(1e-12, 1)}).map(
                  lambda o: {k: v for k, v in o.items() if k != "tolerance" or o.get("method") != "random"}),
              "expect": st.fixed_dictionaries({}, optional={
                  "output": plain_expected, "values": st.dictionaries(good_names, plain_expected, max_size=2),
                  "grads": st.dictionaries(good_names, plain_expected, max_size=2),
                  "optimized": st.fixed_dictionaries({}, optional={
                      "output": plain_expected, "inputs": st.dictionaries(good_names, plain_expected, max_size=2)}),
                  "tolerance": st.fixed_dictionaries({}, optional={"abs": st.floats(0, 1), "rel": st.floats(0, 1)})})})


@settings(max_examples=300, deadline=None)
@given(plain_specs)
def test_plain_valid_specs_are_accepted_and_agree(data):
    assert same_as_pydantic(data) is True
