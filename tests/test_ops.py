"""Every op of the table: forward against `math`, local derivatives against
central differences of the forward function (an independent reference)."""

from __future__ import annotations

import math

import pytest

from runner.ops import OPS
from tests.conftest import central_difference

# (op, argument tuples) at points where each op is differentiable.
POINTS = {
    "add": [(3.0, 4.0), (-2.5, 1e-3, 7.0, 0.5)],
    "sub": [(3.0, 4.0), (-1.5, -7.25)],
    "mul": [(3.0, 4.0), (-2.0, 0.5, 3.0), (2.0, 0.0, 5.0, -1.0)],
    "div": [(3.0, 4.0), (-1.0, 0.25)],
    "neg": [(3.0,), (-0.7,)],
    "pow": [(2.0, 3.0), (1.5, -0.5), (0.7, 2.2)],
    "square": [(3.0,), (-1.25,)],
    "sqrt": [(4.0,), (0.09,)],
    "exp": [(1.0,), (-3.0,)],
    "log": [(2.0,), (0.1,)],
    "sigmoid": [(2.0,), (-1.5,), (0.0,)],
    "tanh": [(0.5,), (-2.0,)],
    "relu": [(3.0,), (-2.0,)],
    "abs": [(3.0,), (-2.0,)],
    "sin": [(0.3,), (2.0,)],
    "cos": [(0.3,), (-2.0,)],
    "max": [(3.0, 4.0), (5.0, -1.0, 2.0)],
    "min": [(3.0, 4.0), (5.0, -1.0, 2.0)],
}

REFERENCE = {
    "add": lambda *a: sum(a), "sub": lambda a, b: a - b, "mul": lambda *a: math.prod(a), "div": lambda a, b: a / b,
    "neg": lambda a: -a, "pow": lambda a, b: a ** b, "square": lambda a: a ** 2, "sqrt": math.sqrt,
    "exp": math.exp, "log": math.log, "sigmoid": lambda a: 1 / (1 + math.exp(-a)), "tanh": math.tanh,
    "relu": lambda a: max(0.0, a), "abs": abs, "sin": math.sin, "cos": math.cos, "max": max, "min": min,
}


def test_every_op_of_the_spec_is_in_the_table():
    assert set(OPS) == set(POINTS) == set(REFERENCE)
    assert len(OPS) == 18


@pytest.mark.parametrize("name,args", [(n, a) for n, points in POINTS.items() for a in points])
def test_forward_matches_reference(name, args):
    assert OPS[name].forward(*args) == pytest.approx(REFERENCE[name](*args), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,args", [(n, a) for n, points in POINTS.items() for a in points])
def test_local_derivatives_match_central_differences(name, args):
    op = OPS[name]
    out = op.forward(*args)
    local = op.derivative(args, out)
    assert len(local) == len(args)
    for i, derivative in enumerate(local):
        estimate = central_difference(REFERENCE[name], list(args), i, h=1e-6)
        assert derivative == pytest.approx(estimate, rel=1e-6, abs=1e-7), (name, args, i)


@pytest.mark.parametrize("name,args,expected", [
    ("max", (4.0, 4.0), (0.5, 0.5)),
    ("max", (1.0, 4.0, 4.0, 4.0), (0.0, 1 / 3, 1 / 3, 1 / 3)),
    ("min", (-2.0, 5.0, -2.0), (0.5, 0.0, 0.5)),
    ("relu", (0.0,), (0.0,)),
    ("abs", (0.0,), (0.0,)),
])
def test_ties_and_kinks_follow_the_spec(name, args, expected):
    op = OPS[name]
    assert op.derivative(args, op.forward(*args)) == pytest.approx(expected)
    assert _is_kink(name, args)


def test_kinks_are_not_reported_where_smooth():
    assert not _is_kink("max", (3.0, 4.0))
    assert not _is_kink("relu", (0.1,))
    assert not _is_kink("mul", (0.0, 0.0))


def test_mul_product_of_others_is_exact_with_zeros():
    op = OPS["mul"]
    assert op.derivative((0.0, 0.0, 3.0), 0.0) == (0.0, 0.0, 0.0)
    assert op.derivative((2.0, 0.0, 3.0), 0.0) == (0.0, 6.0, 0.0)


@pytest.mark.parametrize("a", [-1000.0, -40.0, 40.0, 1000.0])
def test_sigmoid_is_stable_at_extremes(a):
    value = OPS["sigmoid"].forward(a)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(0.0 if a < 0 else 1.0, abs=1e-17)


@pytest.mark.parametrize("name,args,error", [
    ("log", (0.0,), ValueError), ("log", (-1.0,), ValueError), ("sqrt", (-1.0,), ValueError),
    ("div", (1.0, 0.0), ZeroDivisionError), ("exp", (1000.0,), OverflowError),
    ("pow", (-8.0, 1 / 3), ValueError), ("pow", (0.0, -1.0), ValueError),
])
def test_out_of_domain_forward_raises(name, args, error):
    with pytest.raises(error):
        OPS[name].forward(*args)


def test_arity_table():
    assert OPS["add"].accepts(2) and OPS["add"].accepts(7) and not OPS["add"].accepts(1)
    assert OPS["sub"].accepts(2) and not OPS["sub"].accepts(3)
    assert OPS["sigmoid"].accepts(1) and not OPS["sigmoid"].accepts(2)
    assert OPS["max"].arity_text == "at least 2" and OPS["div"].arity_text == "2"


def _is_kink(op: str, args: tuple) -> bool:
    kink = OPS[op].kink
    return bool(kink and kink(args))
