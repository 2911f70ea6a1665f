"""Numeric edge cases: each gives the mathematically right finite answer or a
NumericalError that names the gate. The decision for every case is the table
in docs/numerics.md; this file is that table, executed.

Expected numbers are worked out here by hand (or with `math` on the exact
formula), never taken from circuit-run itself.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import NumericalError, OPS, load_spec_text, run_spec
from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(text: str, **options):
    """Run a spec with every warning turned into an error (no overflow
    warning may leak out of a stable computation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run_spec(load_spec_text(text), **options)


def spec(op: str, *args, names: str = "abcd") -> str:
    """A one-gate spec `f = op(args...)`: numbers become inputs a, b, ...;
    strings prefixed with '=' are literal constants in `in`."""
    inputs, refs = [], []
    for name, arg in zip(names, args):
        if isinstance(arg, str) and arg.startswith("="):
            refs.append(arg[1:])
        else:
            inputs.append(f"{name}: {arg!r}")
            refs.append(name)
    if not inputs:
        inputs.append("unused: 0")
    return f"inputs: {{{', '.join(inputs)}}}\ngates:\n  f: {{op: {op}, in: [{', '.join(refs)}]}}\n"


def close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-300)


# --------------------------------------------------------------------------
# Cases with a right finite answer: (spec, output, {node: gradient})

FINITE = {
    "exp just below overflow": (spec("exp", 709.78), math.exp(709.78), {"a": math.exp(709.78)}),
    "exp underflows to 0": (spec("exp", -1000), 0.0, {"a": 0.0}),
    "mul underflows to 0": (spec("mul", 1e-200, 1e-200), 0.0, {"a": 1e-200, "b": 1e-200}),
    "sigmoid(1000) = 1": (spec("sigmoid", 1000), 1.0, {"a": 0.0}),
    "sigmoid(-1000) = 0": (spec("sigmoid", -1000), 0.0, {"a": 0.0}),
    # e^-30 / (1 + e^-30), its slope s(1 - s)
    "sigmoid(-30) keeps its digits": (spec("sigmoid", -30), 9.357622968839299e-14,
                                      {"a": 9.357622968839299e-14 * (1 - 9.357622968839299e-14)}),
    "tanh(1000) = 1": (spec("tanh", 1000), 1.0, {"a": 0.0}),
    "tanh(-1000) = -1": (spec("tanh", -1000), -1.0, {"a": 0.0}),
    "log of a tiny number": (spec("log", 1e-300), -300 * math.log(10), {"a": 1e300}),
    "sqrt(0) off the output's path": ("inputs: {a: 0, b: 2}\ngates:\n  r: {op: sqrt, in: [a]}\n"
                                      "  f: {op: square, in: [b]}\noutput: f\n", 4.0, {"a": 0.0, "b": 4.0}),
    "sqrt of a tiny positive number": (spec("sqrt", 1e-300), 1e-150, {"a": 0.5e150}),
    "div by a small number": (spec("div", 1, 1e-100), 1e100, {"a": 1e100, "b": -1e200}),
    "pow: negative base, integer constant exponent": (spec("pow", -2, "=3"), -8.0, {"a": 3 * 4.0}),
    "pow: negative base, even constant exponent": (spec("pow", -3, "=2"), 9.0, {"a": -6.0}),
    "pow: negative base, negative integer exponent": (spec("pow", -2, "=-1"), -0.5, {"a": -0.25}),
    "pow: zero to the power zero": (spec("pow", 0, "=0"), 1.0, {"a": 0.0}),
    "pow: node exponent, positive base": (spec("pow", 2, 10), 1024.0, {"a": 10 * 512.0, "b": 1024 * math.log(2)}),
    "relu at 0 (a kink: gradient 0)": (spec("relu", 0), 0.0, {"a": 0.0}),
    "abs at 0 (a kink: gradient 0)": (spec("abs", 0), 0.0, {"a": 0.0}),
    "max tie of two": (spec("max", 3, 3), 3.0, {"a": 0.5, "b": 0.5}),
    "max tie of three, one loser": (spec("max", 1, 1, 1, 0), 1.0, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3, "d": 0.0}),
    "min tie": (spec("min", -2, -2, 5), -2.0, {"a": 0.5, "b": 0.5, "c": 0.0}),
    "max tie between an input and a constant": (spec("max", 2, "=2"), 2.0, {"a": 0.5}),
    "sin of a huge argument": (spec("sin", 1e22), -0.8522008497671888, {"a": math.cos(1e22)}),
    "add near the top of the range": (spec("add", 1e308, 7e307), 1.7e308, {"a": 1.0, "b": 1.0}),
}


@pytest.mark.parametrize("case", sorted(FINITE))
def test_right_finite_answer(case):
    text, output, grads = FINITE[case]
    result = run(text)
    assert close(result.output, output), result.output
    for name, grad in (grads or {}).items():
        assert close(result.grads[name], grad), (name, result.grads[name], grad)


# --------------------------------------------------------------------------
# Cases that are a NumericalError naming the gate: (spec, gate, op, reason)

ERRORS = {
    "exp(1000) overflows": (spec("exp", 1000), "f", "exp", "overflows"),
    "exp just above overflow": (spec("exp", 709.79), "f", "exp", "overflows"),
    "mul overflows": (spec("mul", 1e200, 1e200), "f", "mul", "gives inf"),
    "add overflows": (spec("add", 1e308, 1e308), "f", "add", "gives inf"),
    "square overflows": (spec("square", 1e155), "f", "square", "gives inf"),
    "pow overflows": (spec("pow", 1e200, "=2"), "f", "pow", "overflows"),
    "log(0)": (spec("log", 0), "f", "log", "log needs a > 0"),
    "log of a negative number": (spec("log", -1), "f", "log", "log needs a > 0"),
    "log of an underflowed exp": ("inputs: {a: -1000}\ngates:\n  e: {op: exp, in: [a]}\n"
                                  "  f: {op: log, in: [e]}\n", "f", "log", "log needs a > 0"),
    "sqrt below 0": (spec("sqrt", -1e-300), "f", "sqrt", "sqrt needs a >= 0"),
    "sqrt(0) on the output's path: infinite slope": (spec("sqrt", 0), "f", "sqrt", "no finite gradient"),
    "div by 0": (spec("div", 1, 0), "f", "div", "divides by zero"),
    "0 / 0": (spec("div", 0, 0), "f", "div", "divides by zero"),
    "div by a constant 0": (spec("div", 1, "=0"), "f", "div", "divides by zero"),
    "div overflows": (spec("div", 1e300, 1e-300), "f", "div", "gives inf"),
    # 1e-10 / 1e-300 = 1e290 is fine, but d/db = -a / b^2 and b^2 underflows to 0
    "div gradient overflows": (spec("div", 1e-10, 1e-300), "f", "div", "no finite gradient"),
    "log gradient overflows at a subnormal": (spec("log", 5e-324), "f", "log", "no finite gradient"),
    "pow: negative base, fractional constant exponent": (spec("pow", -8, "=0.5"), "f", "pow",
                                                         "pow needs a > 0 when b is not an integer"),
    "pow: negative base, node exponent (d/db = a^b ln a)": (spec("pow", -2, 3), "f", "pow",
                                                             "no finite gradient at these inputs (d/db is nan)"),
    "pow: zero base, node exponent": (spec("pow", 0, 2), "f", "pow", "(d/db is nan)"),
    "pow: zero to a negative power": (spec("pow", 0, "=-1"), "f", "pow", "a != 0 when b < 0"),
    "pow: zero to a fractional power, infinite slope": (spec("pow", 0, "=0.5"), "f", "pow", "no finite gradient"),
    # every value is finite (m = 1, f = 1e200) but df/da = 1e200 * 1e200 is not
    "the gradient overflows through a chain": (
        "inputs: {a: 1e-200}\ngates:\n  m: {op: mul, in: [a, 1e200]}\n  f: {op: mul, in: [m, 1e200]}\n",
        "m", "mul", "makes the gradient of 'a' overflow"),
    # off the output's path, an overflowing value is still an error: it is reported
    "an unused gate overflows": ("inputs: {a: 1e300}\ngates:\n  big: {op: mul, in: [a, a]}\n"
                                 "  f: {op: neg, in: [a]}\noutput: f\n", "big", "mul", "gives inf"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_numerical_error_names_the_gate(case):
    text, gate, op, reason = ERRORS[case]
    with pytest.raises(NumericalError) as caught:
        run(text)
    error = caught.value
    assert (error.gate, error.op) == (gate, op)
    assert str(error).startswith(f"gate '{gate}' ({op}) ")
    assert reason in str(error), str(error)


def test_sigmoid_and_tanh_at_extremes_raise_no_warning():
    """math.exp(1000) would raise; the two-branch sigmoid never calls it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for a in (-1000.0, -745.0, -709.0, 0.0, 709.0, 745.0, 1000.0, 1e308, -1e308):
            s = OPS["sigmoid"].forward(a)
            t = OPS["tanh"].forward(a)
            assert 0.0 <= s <= 1.0 and -1.0 <= t <= 1.0
            assert math.isfinite(OPS["sigmoid"].derivative((a,), s)[0])
            assert math.isfinite(OPS["tanh"].derivative((a,), t)[0])
        assert OPS["sigmoid"].forward(-745.0) == 5e-324  # e^-745 survives as the smallest subnormal


# --------------------------------------------------------------------------
# Step sizes

OPTIMIZE = "inputs: {{x: {x}}}\ngates:\n  f: {{op: {op}, in: [x]}}\noptimize:\n  {settings}\n"


def test_huge_step_size_diverges_into_an_error_naming_gate_and_step():
    # x: 1 -> 1 + 100 e (= 272.8) -> 272.8 + 100 e^272.8 (~ 1e120) -> exp overflows
    text = OPTIMIZE.format(x=1, op="exp", settings="step_size: 100\n  iterations: 10")
    run_ = run(text).optimization  # a run that diverges keeps its finite rows (see optimizer.py)
    error = run_.error
    assert run_.stop == "diverged" and len(run_.trace) == 2
    assert (error.gate, error.op, error.iteration) == ("f", "exp", 2)
    assert str(error).startswith("at optimization step 2: gate 'f' (exp) overflows")


def test_huge_step_size_that_stays_finite_is_taken_as_asked():
    # maximize -(x^2): gradient -2x; from x=1 with step 1e100, x = 1 - 2e100
    text = ("inputs: {x: 1}\ngates:\n  s: {op: square, in: [x]}\n  f: {op: neg, in: [s]}\n"
            "optimize: {step_size: 1.0e+100, iterations: 1}\n")
    result = run(text)
    assert result.optimization.final_inputs["x"] == 1 - 2e100


def test_tiny_step_size_leaves_inputs_where_they_are():
    # 1e-300 * gradient is far below the spacing of floats near x = 1
    text = OPTIMIZE.format(x=1, op="exp", settings="step_size: 1.0e-300\n  iterations: 3")
    result = run(text)
    assert result.optimization.final_inputs["x"] == 1.0
    # the first step changes nothing, and every later one would be the same: the run stalls there
    assert [row.output for row in result.optimization.trace] == [math.e] * 2
    assert result.optimization.stop == "stalled" and result.optimization.steps == 1


def test_tiny_step_size_still_moves_a_tiny_input():
    text = OPTIMIZE.format(x=1e-300, op="neg", settings="step_size: 1.0e-300\n  iterations: 1")
    result = run(text)
    assert result.optimization.final_inputs["x"] == 0.0  # 1e-300 - 1e-300 * 1


def test_numerical_method_with_huge_h_is_an_error_naming_the_gate():
    text = OPTIMIZE.format(x=1, op="exp", settings="method: numerical\n  h: 1.0e+300\n  iterations: 1")
    with pytest.raises(NumericalError) as caught:
        run(text)
    assert (caught.value.gate, caught.value.op) == ("f", "exp")


def test_numerical_method_with_h_below_float_spacing_is_an_error_not_a_zero_gradient():
    """x + h == x would make every forward difference 0: a silent lie."""
    text = OPTIMIZE.format(x=1, op="exp", settings="method: numerical\n  h: 1.0e-300\n  iterations: 1")
    with pytest.raises(NumericalError) as caught:
        run(text)
    assert caught.value.gate == "x"
    assert "h=1e-300 is lost in x's rounding (x + h == x)" in str(caught.value)


def test_numerical_method_with_small_but_visible_h_is_accurate():
    # forward difference of e^x at 1 with h = 1e-8: error ~ h e / 2
    text = OPTIMIZE.format(x=1, op="exp", settings="method: numerical\n  h: 1.0e-8\n  iterations: 1")
    result = run(text)
    assert math.isclose(result.optimization.trace[0].grads["x"], math.e, rel_tol=1e-6)


def test_cli_numerical_error_has_gate_position_and_exit_3(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("inputs: {a: -1}\ngates:\n  s: {op: square, in: [a]}\n  f: {op: log, in: [a]}\n")
    result = CliRunner().invoke(main, [str(path)])
    assert result.exit_code == 3
    assert result.stderr == (f"{path}:4:3: error: numerical error: gate 'f' (log) is outside its "
                             "op's domain: log needs a > 0; inputs: a=-1.0\n")
    assert result.stdout == ""


def test_cli_numerical_error_on_stdin_has_no_position():
    result = CliRunner().invoke(main, ["-"], input="inputs: {a: 0}\ngates:\n  f: {op: log, in: [a]}\n")
    assert result.exit_code == 3
    assert result.stderr.startswith("<stdin>: error: numerical error: gate 'f' (log)")


# --------------------------------------------------------------------------
# The documentation says what the op table says

def test_every_domain_in_the_op_table_is_documented():
    doc = (ROOT / "docs" / "numerics.md").read_text()
    for op in OPS.values():
        row = re.search(rf"^\| `{op.name}` \|([^\n]*)$", doc, re.M)
        assert row, f"docs/numerics.md has no row for {op.name}"
        if op.domain:
            assert op.domain in row.group(1), (op.name, op.domain)
        else:
            assert "all reals" in row.group(1), op.name


def test_cli_h_lost_in_rounding_points_at_the_input(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("inputs:\n  x: 1\ngates:\n  f: {op: exp, in: [x]}\n"
                    "optimize: {method: numerical, h: 1.0e-300}\n")
    result = CliRunner().invoke(main, [str(path)])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"{path}:2:3: error: numerical error: at optimization step 0: "
                                    "input 'x' cannot be nudged")
