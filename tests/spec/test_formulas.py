"""Formulas: lowering to op-table gates, their numbers against an independent
evaluator, and errors at the exact token in the file."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runner
from helpers import CIRCUITS, invoke
from reference import REFERENCE, central_difference
from runner.ops import OPS
from runner.spec.formulas import FormulaError, lower


def steps(text: str, name: str = "f") -> list[tuple[str, str, list]]:
    return [(step.name, step.op, step.refs) for step in lower(name, text)]


# ---- lowering -------------------------------------------------------------------------

def test_each_operator_is_one_gate_in_evaluation_order_and_the_last_takes_the_name():
    assert steps("(x + y) * z") == [("f.1", "add", ["x", "y"]), ("f", "mul", ["f.1", "z"])]
    assert steps("100 - d**2") == [("f.1", "pow", ["d", 2.0]), ("f", "sub", [100.0, "f.1"])]
    assert steps("a - b - c") == [("f.1", "sub", ["a", "b"]), ("f", "sub", ["f.1", "c"])]  # left to right


def test_python_precedence():
    assert steps("-x**2") == [("f.1", "pow", ["x", 2.0]), ("f", "neg", ["f.1"])]  # -(x**2)
    assert steps("a + b * c") == [("f.1", "mul", ["b", "c"]), ("f", "add", ["a", "f.1"])]
    assert steps("2 ** 3 ** x") == [("f.1", "pow", [3.0, "x"]), ("f", "pow", [2.0, "f.1"])]  # right-assoc


def test_a_signed_number_is_a_constant_and_unary_plus_is_nothing():
    assert steps("x * -3") == [("f", "mul", ["x", -3.0])]
    assert steps("+x * 2") == [("f", "mul", ["x", 2.0])]
    assert steps("-x") == [("f", "neg", ["x"])]


def test_ops_are_called_by_name_with_their_arity():
    assert steps("max(a, b, c)") == [("f", "max", ["a", "b", "c"])]
    assert steps("pow(x, y)") == [("f", "pow", ["x", "y"])]
    assert steps("sigmoid(a*x + b*y + c)") == [
        ("f.1", "mul", ["a", "x"]), ("f.2", "mul", ["b", "y"]), ("f.3", "add", ["f.1", "f.2"]),
        ("f.4", "add", ["f.3", "c"]), ("f", "sigmoid", ["f.4"])]


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_of_the_table_can_be_called_by_name(name):
    """Read from the table: a new op is callable in formulas at once."""
    op = OPS[name]
    args = [f"a{i}" for i in range(op.min_arity)]
    assert steps(f"{name}({', '.join(args)})") == [("f", name, args)]


@pytest.mark.parametrize("op", [op for op in OPS.values() if op.symbol])
def test_every_operator_symbol_of_the_table_is_its_op(op):
    assert steps(f"a {op.symbol} b") == [("f", op.name, ["a", "b"])]


def test_dot_is_products_and_one_sum():
    assert steps("dot([a, b, c], [x, y, z])") == [
        ("f.1", "mul", ["a", "x"]), ("f.2", "mul", ["b", "y"]), ("f.3", "mul", ["c", "z"]),
        ("f", "add", ["f.1", "f.2", "f.3"])]
    assert steps("dot([a], [x])") == [("f", "mul", ["a", "x"])]


@pytest.mark.parametrize("text, fragment", [
    ("x", "computes nothing"), ("3", "computes nothing"), ("exp", "'exp' is an op"),
    ("exp(x, y)", "exp takes 1 input, got 2"), ("max(x)", "max takes at least 2 inputs, got 1"),
    ("dot([a, b], [x])", "same, non-zero length"), ("dot(a, b)", "two lists"),
    ("[a, b] * 2", "lists are for dot"), ("x ^ 2", "write `**`"), ("x % 2", "`%` is not an op"),
    ("2x", "write the product with '*'"), ("f(x=1)", "keyword arguments"), ("foo(x)", "unknown op 'foo'"),
    ("sigmod(x)", "did you mean 'sigmoid'?"), ("x.__class__", "attribute access"), ("x[0]", "subscripts"),
    ("x if y else z", "'if ... else'"), ("x < y", "comparisons"), ("not x", "only '-' and '+'"),
    ("True * x", "True is not allowed"), ("'a' + x", "strings are not allowed"), ("1e999 * x", "too large"),
    ("null * x", "'null' is reserved"), ("été * x", "not a valid name"), ("", "empty"), ("(x", "not valid"),
])
def test_what_is_not_a_formula_says_why(text, fragment):
    with pytest.raises(FormulaError, match=None) as info:
        lower("f", text)
    assert fragment in info.value.message


def test_error_offsets_point_at_the_token():
    for text, token in [("x + yy", "yy"), ("a * (b ^ 2)", "^"), ("exp(x) + lambda_(y)", "lambda_"),
                        ("x * été", "été"), ("max(a) + b", "max")]:
        with pytest.raises(FormulaError) as info:
            lower("f", text) if token != "yy" else lower("f", text, resolve=_refuse("yy"))
        assert text[info.value.offset:].startswith(token), (text, info.value.offset)


def _refuse(word):
    def resolve(name, offset):
        if name == word:
            raise FormulaError(f"unknown node '{name}'", offset)
        return name
    return resolve


def test_deep_and_long_formulas_are_errors_not_crashes():
    with pytest.raises(FormulaError, match="nested deeper than 64 levels"):
        lower("f", "(" * 65 + "x" + ")" * 65 + " * 2")
    lower("f", "(" * 60 + "x" + ")" * 60 + " * 2")  # within the limit
    with pytest.raises(FormulaError, match="nested deeper than 10 levels"):
        lower("f", "exp(" * 11 + "x" + ")" * 11, max_depth=10)
    with pytest.raises(FormulaError, match="too long or too deeply nested"):
        lower("f", "+".join(["x"] * 50_000))
    assert len(lower("f", "+".join(["x"] * 1_000))) == 999  # a long but ordinary chain


# ---- numbers: formulas against an independent evaluator ------------------------------

SAFE = {  # ops whose argument is kept inside the domain by construction
    "exp": "exp(tanh({}))", "log": "log(2 + sin({}))", "sqrt": "sqrt(2 + cos({}))", "sigmoid": "sigmoid({})",
    "tanh": "tanh({})", "sin": "sin({})", "cos": "cos({})", "square": "square({})", "neg": "neg({})",
}


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "y", "z", "1.5", "2", "-0.5"]))
    kind = draw(st.sampled_from(["binary", "call", "unary"]))
    if kind == "binary":
        operator = draw(st.sampled_from(["+", "-", "*"]))
        return f"({draw(expressions(depth + 1))} {operator} {draw(expressions(depth + 1))})"
    if kind == "unary":
        return f"-{draw(expressions(depth + 1))}"
    template = SAFE[draw(st.sampled_from(sorted(SAFE)))]
    return template.format(draw(expressions(depth + 1)))


def evaluate(text: str, x: float, y: float, z: float) -> float:
    """The test's own evaluator: the formula, which this test wrote from the
    grammar above, as Python over the reference ops."""
    names = {name: REFERENCE[name] for name in SAFE}
    return eval(text, {"__builtins__": {}}, {**names, "x": x, "y": y, "z": z})  # noqa: S307 - our own text


@settings(max_examples=60, deadline=None)
@given(expressions())
def test_random_formulas_match_an_independent_evaluator(text):
    spec = runner.load_spec_text(f"inputs: {{x: 0.3, y: -0.7, z: 1.1}}\ngates:\n  f: \"{text} * 1\"\n")
    result = runner.run_spec(spec)
    point = [0.3, -0.7, 1.1]
    assert result.output == pytest.approx(evaluate(text, *point), rel=1e-9, abs=1e-12)
    for index, name in enumerate("xyz"):
        estimate = central_difference(lambda *p: evaluate(text, *p), point, index)
        assert result.grads[name] == pytest.approx(estimate, rel=1e-5, abs=1e-6), (text, name)


@pytest.mark.parametrize("gates, formulas", [
    ("add-multiply", "add-multiply-formula"), ("neuron", "neuron-formula"),
    ("distance-ridge", "distance-ridge-formula"),
])
def test_the_seed_as_formulas_gives_the_numbers_of_the_gates(gates, formulas):
    by_gates = runner.run_spec(runner.load_spec(str(CIRCUITS / f"{gates}.yaml")))
    by_formulas = runner.run_spec(runner.load_spec(str(CIRCUITS / f"{formulas}.yaml")))
    assert by_formulas.output == by_gates.output
    for name in by_gates.circuit.input_names:
        assert by_formulas.grads[name] == by_gates.grads[name]
    assert by_formulas.optimization.final_output == by_gates.optimization.final_output
    assert by_formulas.optimization.final_inputs == by_gates.optimization.final_inputs


def test_formula_nodes_are_ordinary_nodes(write):
    path = write("f.yaml", "inputs: {x: 3, y: 4}\ngates:\n  f: (x + y) * 2\nexpect: {values: {f.1: 7}, "
                           "grads: {\"f.1\": 2, x: 2}}\n")
    assert invoke("--check", path).exit_code == 0
    document = invoke("--format", "json", path).stdout
    assert '"f.1": {"op": "add", "in": ["x", "y"], "value": 7.0, "grad": 2.0}' in document
    assert '"groups": {"f": {"kind": "formula", "formula": "(x + y) * 2"}}' in document
    table = invoke(path).stdout
    assert "f.1" not in table and "formula  (x + y) * 2" in table  # folded into f's row
    assert "f.1" in invoke("--all-nodes", path).stdout


# ---- errors in the file ----------------------------------------------------------------

@pytest.mark.parametrize("written, line, column", [
    ("  f: x * zz\n", 3, 10),                       # plain
    ("  f: 'x * zz'\n", 3, 11),                     # single-quoted
    ('  f: "x * zz"\n', 3, 11),                     # double-quoted
    ('  f: "x * \\u0041 + zz"\n', 3, 20),           # an escape before the token
    ("  f: {expr: x * zz}\n", 3, 17),               # in a mapping
    ("  f: |\n    x *\n      zz\n", 5, 7),          # literal block over lines
    ("  f: >\n    x *\n    zz\n", 5, 5),            # folded block
    ("  f: x *\n    zz\n", 4, 5),                   # a plain scalar folded over two lines
])
def test_an_unknown_name_is_reported_at_its_token_whatever_the_quoting(write, written, line, column):
    path = write("s.yaml", "inputs: {x: 1, A: 2}\ngates:\n" + written)
    result = invoke(path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:{line}:{column}: error: gates.f: unknown node 'zz'"), result.stderr


def test_json_formulas_are_located_too(write):
    path = write("s.json", '{"inputs": {"x": 1},\n "gates": {"f": "x * \\u0078 + zz"}}')  # \u0078 is x
    assert invoke(path).stderr.startswith(f"{path}:2:31: error: gates.f: unknown node 'zz'")


def test_nothing_in_a_formula_is_executed(write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for text in ["__import__('os').system('touch pwned')", "(lambda: __import__('os').system('touch pwned'))()",
                 "open('pwned', 'w')", "exec('import os')"]:
        path = write("evil.yaml", f'inputs: {{x: 1}}\ngates:\n  f: "{text}"\n')
        assert invoke(path).exit_code == 2
    assert not (tmp_path / "pwned").exists()


def test_a_formula_reading_a_gate_that_failed_is_not_called_unknown(write):
    path = write("s.yaml", "inputs: {x: 1}\ngates:\n  d: x ^ 2\n  f: d * 3\n")
    errors = invoke(path).stderr.splitlines()
    assert len(errors) == 1 and "`^`" in errors[0]
