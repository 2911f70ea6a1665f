"""Every op of the table, checked against the independent references of
tests/reference.py: forward against a textbook implementation, local
derivatives against central differences, and the op's templates (which the
compiled path and the page's JavaScript are made from) against its
functions, bit for bit. The cases come from the table itself."""

from __future__ import annotations

import math

import pytest

from reference import KINKS, POINTS, REFERENCE, central_difference, every_op_cases
from runner.ops import HELPERS, OPS, Op

CASES = list(every_op_cases(OPS))
CASES_AND_KINKS = list(every_op_cases(OPS, kinks=True))


def check_forward(op: Op, args: tuple) -> None:
    assert op.forward(*args) == pytest.approx(REFERENCE[op.name](*args), rel=1e-12, abs=1e-15)


def check_derivatives(op: Op, args: tuple) -> None:
    local = op.derivative(args, op.forward(*args))
    assert len(local) == len(args)
    for i, derivative in enumerate(local):
        estimate = central_difference(REFERENCE[op.name], list(args), i, h=1e-6)
        assert derivative == pytest.approx(estimate, rel=1e-6, abs=1e-7), (op.name, args, i)


def evaluate_template(template: str, args: tuple, out: float) -> float:
    """A template filled with the argument values, evaluated with the helpers."""
    names = [f"a{i}" for i in range(len(args))]
    expression = template.format(*names, out="out")
    namespace = {name: helper.python for name, helper in HELPERS.items()}
    return eval(expression, namespace, {**dict(zip(names, args)), "out": out})  # our own template, not user text


def check_templates(op: Op, args: tuple) -> None:
    """The templates compute exactly what the functions compute."""
    code = op.code(len(args))
    assert code is not None, f"{op.name} has no templates for {len(args)} inputs"
    forward, grads = code
    out = op.forward(*args)
    assert evaluate_template(forward, args, out) == out
    assert len(grads) == len(args)
    expected = op.derivative(args, out)
    for i, template in enumerate(grads):
        got = evaluate_template(template, args, out)
        assert got == expected[i] or (math.isnan(got) and math.isnan(expected[i])), (op.name, args, i, template)


@pytest.mark.parametrize("name,args", CASES)
def test_forward_matches_the_reference(name, args):
    check_forward(OPS[name], args)


@pytest.mark.parametrize("name,args", CASES)
def test_local_derivatives_match_central_differences(name, args):
    check_derivatives(OPS[name], args)


@pytest.mark.parametrize("name,args", CASES_AND_KINKS)
def test_templates_compute_what_the_functions_compute(name, args):
    check_templates(OPS[name], args)


def test_every_helper_a_template_calls_exists_in_both_languages():
    import re

    for name, args in CASES:
        forward, grads = OPS[name].code(len(args))
        for called in re.findall(r"(_\w+)\(", " ".join([forward, *grads])):
            assert called in HELPERS and HELPERS[called].javascript, (name, called)


def test_a_new_op_row_is_covered_by_the_every_op_checks(monkeypatch):
    """The checks read the table: a new row without a reference fails loudly,
    with one it is in every case list, and a wrong template or derivative
    in it is caught."""
    cube = Op("cube", 1, 1, lambda a: a * a * a, lambda args, out: (3.0 * args[0] * args[0],), "a^3", "3a^2",
              lambda n: ("{0} * {0} * {0}", ("3.0 * {0} * {0}",)))
    ops = {**OPS, "cube": cube}
    with pytest.raises(LookupError, match="cube"):
        list(every_op_cases(ops))
    monkeypatch.setitem(REFERENCE, "cube", lambda a: a ** 3)
    monkeypatch.setitem(POINTS, "cube", [(1.5,), (-0.5,)])
    assert [args for name, args in every_op_cases(ops) if name == "cube"] == [(1.5,), (-0.5,)]
    for args in POINTS["cube"]:
        check_forward(cube, args)
        check_derivatives(cube, args)
        check_templates(cube, args)
    with pytest.raises(AssertionError):
        check_templates(cube._replace(code=lambda n: ("{0} * {0} * {0}", ("2.0 * {0} * {0}",))), (1.5,))
    with pytest.raises(AssertionError):
        check_derivatives(cube._replace(derivative=lambda args, out: (2.0 * args[0] * args[0],)), (1.5,))


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
    assert op.kink(args)


def test_every_kink_point_is_a_kink_and_every_other_point_is_not():
    for name, points in KINKS.items():
        for args in points:
            assert OPS[name].kink(args), (name, args)
    for name, args in CASES:
        kink = OPS[name].kink
        assert not (kink and kink(args)), (name, args)


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
