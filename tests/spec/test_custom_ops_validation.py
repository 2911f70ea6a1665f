"""Custom ops (`ops:`) as validation sees them: what an expression may use,
errors at the token whatever the quoting, every problem at once, and names."""

from __future__ import annotations

import json

import jsonschema
import pytest

import runner
from helpers import ROOT, invoke

SCHEMA = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "circuit.schema.json").read_text()))


def ops_spec(ops: str, gates: str = "  f: {op: mine, in: [x]}\n", inputs: str = "{x: 0.5}") -> str:
    return f"inputs: {inputs}\nops:\n{ops}gates:\n{gates}"


def load(text: str):
    return runner.load_spec_text(text, "t.yaml")


def errors(write, text: str) -> list[str]:
    path = write("s.yaml", text)
    result = invoke(path)
    assert result.exit_code == 2, result.stdout
    return [line.replace(path, "FILE") for line in result.stderr.splitlines()]


@pytest.mark.parametrize("written, line, column", [
    ("    forward: a * zz\n", 5, 18),                     # plain
    ("    forward: 'a * zz'\n", 5, 19),                   # single-quoted
    ('    forward: "a * \\u0061 + zz"\n', 5, 28),         # an escape before the token
    ("    forward: |\n      a *\n        zz\n", 7, 9),     # literal block over lines
    ("    forward: >\n      a *\n      zz\n", 7, 7),       # folded block
])
def test_an_unknown_name_is_reported_at_its_token_whatever_the_quoting(write, written, line, column):
    text = ops_spec("  mine:\n    args: [a]\n" + written + "    grads: ['1']\n")
    assert errors(write, text) == [f"FILE:{line}:{column}: error: ops.mine.forward: unknown name 'zz' in op mine; "
                                   "its expressions see its args (a), numbers and ops"]


def test_json_expressions_are_located_too(write):
    path = write("s.json", '{"inputs": {"x": 1},\n "ops": {"mine": {"args": ["a"], "forward": "a",\n'
                           '  "grads": ["\\u0061 + zz"]}},\n "gates": {"f": {"op": "mine", "in": ["x"]}}}')
    assert invoke(path).stderr.startswith(f"{path}:3:23: error: ops.mine.grads[0]: unknown name 'zz' in op mine")


def test_every_problem_at_once_in_file_order(write):
    text = ops_spec("  relu:\n    args: [a]\n    forward: max(a, 0)\n    grads: ['1']\n"
                    "  mine:\n    args: [a, out]\n    forward: a ^ 2\n    grads: ['1']\n",
                    "  f: {op: mine, in: [x, x]}\n  g: minee(x)\n")
    assert errors(write, text) == [
        "FILE:3:3: error: ops.relu: 'relu' is a built-in op; a custom op cannot replace it: give yours a name of its "
        "own (for example my_relu)",
        "FILE:8:15: error: ops.mine.args[1]: 'out' is the op's own value in its grads; give the arg another name",
        "FILE:9:16: error: ops.mine.forward: `^` is not power here (Python reads it as exclusive or); write `**`",
        "FILE:10:12: error: ops.mine.grads: mine has 2 args (a, out), so grads needs 2 expressions (d/da, d/dout), "
        "got 1",
        "FILE:13:6: error: gates.g: unknown op 'minee' (did you mean 'mine'?)",
    ]


def test_an_unknown_op_gate_suggests_custom_ops_too(write):
    text = ops_spec("  softplus:\n    args: [a]\n    forward: log(1 + exp(a))\n    grads: [sigmoid(a)]\n",
                    "  f: {op: sofplus, in: [x]}\n")
    assert errors(write, text) == ["FILE:8:11: error: gates.f.op: unknown op 'sofplus' (did you mean 'softplus'?)"]


def test_a_gate_using_a_broken_op_is_not_reported_again(write):
    text = ops_spec("  mine:\n    args: [a]\n    forward: a +\n    grads: ['1']\n",
                    "  f: {op: mine, in: [x]}\n  g: mine(f) * 2\n")
    (only,) = errors(write, text)
    assert "ops.mine.forward: the formula is not valid" in only


def test_ops_may_call_ops_defined_later_and_use_numbers_names_and_out():
    spec = load(ops_spec(
        "  outer:\n    args: [a, b]\n    forward: inner(a) * b\n    grads: [2 * a * b, out / b]\n"
        "  inner:\n    args: [exp]\n    forward: exp * exp\n    grads: [2 * exp]\n"  # an arg may be called exp
        "  ident:\n    args: [a]\n    forward: a\n    grads: ['1']\n",
        "  f: outer(ident(x), 3)\n"))
    circuit = runner.compile_spec(spec)
    assert circuit.forward() == 0.25 * 3
    grads = circuit.backward()
    assert grads["x"] == 2 * 0.5 * 3  # d/da of a^2 b, through ident's derivative 1


def test_what_an_expression_may_not_use(write):
    cases = {
        "forward: out * 2": "'out' is the op's own value: only its grads may use it",
        "forward: x * 2": "unknown name 'x' in op mine; its expressions see its args (a), numbers and ops",
        "forward: exp": "'exp' is an op: call it on its inputs, as in exp(a)",
        "forward: a.__class__": "attribute access ('.') is not allowed",
        "forward: a.real": "unknown name 'a.real' in op mine",
        "forward: \"open('f')\"": "unknown op 'open'",
        "forward: \"a + 'f'\"": "strings are not allowed",
        "forward: '(lambda: 1)()'": "lambda is not allowed",
        "forward: '[a, a]'": "the expression is a list of 2 values; it must be one value",
        "forward: mine(a)": "mine calls itself; an op cannot use itself",
    }
    for written, message in cases.items():
        (line,) = errors(write, ops_spec(f"  mine:\n    args: [a]\n    {written}\n    grads: ['1']\n"))
        assert message in line, (written, line)


def test_a_custom_op_may_not_share_a_name_with_dot_or_be_reserved(write):
    text = ops_spec("  dot:\n    args: [a]\n    forward: a\n    grads: ['1']\n"
                    "  'Null':\n    args: [a]\n    forward: a\n    grads: ['1']\n", "  f: x * 2\n")
    assert errors(write, text) == [
        "FILE:3:3: error: ops.dot: 'dot' is the dot product of formulas; give the op another name",
        "FILE:7:3: error: ops.Null: 'Null' is reserved; choose another name",
    ]


def test_a_module_activation_may_be_a_one_input_custom_op(write):
    text = ops_spec("  two:\n    args: [a, b]\n    forward: a * b\n    grads: [b, a]\n"
                    "  one:\n    args: [a]\n    forward: a * 3\n    grads: ['3']\n",
                    "  h: {use: m, in: [x], activation: one}\n  k: {use: m, in: [x], activation: two}\n")
    text = text.replace("gates:", "modules:\n  m:\n    in: [u]\n    out: u * 2\ngates:")
    (line,) = errors(write, text)
    assert line == "FILE:17:36: error: gates.k.activation: two takes 2 inputs; an activation is an op of 1 input"


def test_the_schema_knows_custom_ops():
    softplus = {"args": ["a"], "forward": "log(1 + exp(a))", "grads": ["sigmoid(a)"]}
    gates = {"f": {"op": "softplus", "in": ["x"]}}
    assert SCHEMA.is_valid({"inputs": {"x": 1}, "ops": {"softplus": softplus}, "gates": gates})
    assert not SCHEMA.is_valid({"inputs": {"x": 1}, "gates": gates})  # no ops: a typo of a table op
    assert not SCHEMA.is_valid({"inputs": {"x": 1}, "ops": {"exp": softplus}, "gates": gates})  # a table op's name
    assert not SCHEMA.is_valid({"inputs": {"x": 1}, "ops": {"softplus": {**softplus, "grads": []}}, "gates": gates})
