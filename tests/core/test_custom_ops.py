"""Custom ops (`ops:`): values against independent formulas, gradients
against central differences, the written derivative used as written, the
compiled path against the interpreter, and their templates bit for bit."""

from __future__ import annotations

import math

import pytest

import runner
from reference import central_difference
from runner.core.compiler import compile_spec
from runner.ops import HELPERS
from runner.results.gradcheck import gradcheck

OPS_BLOCK = """\
ops:
  softplus:
    args: [a]
    forward: "log(1 + exp(a))"
    grads: ["sigmoid(a)"]
  swish:
    args: [a]
    forward: "a * sigmoid(a)"
    grads: ["out + sigmoid(a) * (1 - out)"]
  hinge2:
    args: [m]
    forward: "max(0, 1 - m) ** 2 / 2"
    grads: ["-max(0, 1 - m)"]
  lse:
    args: [a, b]
    forward: "log(exp(a) + exp(b))"
    grads: ["exp(a - out)", "exp(b - out)"]
  soft_relu2:
    args: [a]
    forward: "softplus(a) * softplus(a)"
    grads: ["2 * softplus(a) * sigmoid(a)"]
"""

# Independent references, from the textbook formulas (no circuit-run code).
def _sigmoid(a):
    return 0.5 * (1.0 + math.tanh(a / 2.0))


REFERENCE = {
    "softplus": lambda a: math.log1p(math.exp(a)),
    "swish": lambda a: a * _sigmoid(a),
    "hinge2": lambda m: 0.5 * max(0.0, 1.0 - m) ** 2,
    "lse": lambda a, b: max(a, b) + math.log1p(math.exp(-abs(a - b))),
    "soft_relu2": lambda a: math.log1p(math.exp(a)) ** 2,
}
POINTS = {
    "softplus": [(-3.0,), (-0.2,), (0.0,), (0.7,), (4.5,)],
    "swish": [(-4.0,), (-1.3,), (0.0,), (0.4,), (2.5,)],
    "hinge2": [(-2.0,), (0.3,), (0.9,), (1.7,)],
    "lse": [(0.0, 0.0), (1.5, -0.5), (-2.0, 3.0)],
    "soft_relu2": [(-1.0,), (0.5,), (2.0,)],
}
CASES = [(name, point) for name, points in POINTS.items() for point in points]


def spec_text(gates: str, inputs: dict[str, float], extra: str = OPS_BLOCK) -> str:
    listed = ", ".join(f"{name}: {value!r}" for name, value in inputs.items())
    return f"inputs: {{{listed}}}\n{extra}gates:\n{gates}"


def circuit(text: str):
    return compile_spec(runner.load_spec_text(text, "t.yaml"))


def one_gate(name: str, point: tuple) -> str:
    inputs = {f"x{i}": value for i, value in enumerate(point)}
    refs = ", ".join(inputs)
    return spec_text(f"  f: {{op: {name}, in: [{refs}]}}\n  out: \"f * 1.5\"\n", inputs)


@pytest.mark.parametrize("name,point", CASES)
def test_value_and_gradients_against_central_differences(name, point):
    c = circuit(one_gate(name, point))
    value = c.forward()
    grads = c.backward()
    reference = REFERENCE[name]
    assert c.value("f") == pytest.approx(reference(*point), rel=1e-12, abs=1e-14)
    assert value == pytest.approx(1.5 * reference(*point), rel=1e-12, abs=1e-14)
    for i in range(len(point)):
        expected = 1.5 * central_difference(reference, list(point), i)
        assert grads[f"x{i}"] == pytest.approx(expected, rel=1e-6, abs=1e-8), (name, point, i)


@pytest.mark.parametrize("name,point", CASES)
def test_compiled_path_equals_the_interpreter_bit_for_bit(name, point):
    text = one_gate(name, point)
    plain, fast = circuit(text), circuit(text)
    assert fast.accelerate()
    assert fast.forward() == plain.forward() and fast.values == plain.values
    assert fast.backward() == plain.backward()
    shifted = {name: value + 0.25 for name, value in plain.input_values().items()}
    plain.set_inputs(shifted)
    fast.set_inputs(shifted)
    assert fast.forward_backward() == plain.forward_backward() and fast.grad_map() == plain.grad_map()


@pytest.mark.parametrize("name,point", CASES)
def test_templates_compute_what_the_functions_compute(name, point):
    """The templates composed from the built-in ops' templates, run as
    Python, give the row's forward and derivative bit for bit."""
    op = circuit(one_gate(name, point)).tape[0].op
    forward, grads = op.code(len(point))
    namespace = {key: helper.python for key, helper in HELPERS.items()}
    args = [repr(value) for value in point]
    out = op.forward(*point)
    assert eval(forward.format(*args), namespace) == out  # our own template text, not the user's
    written = op.derivative(point, out)
    assert tuple(eval(grad.format(*args, out=repr(out)), namespace) for grad in grads) == written


def test_backprop_uses_the_written_derivative_not_the_forward():
    """A deliberately wrong derivative (d softplus/da written as exp(a)) is
    what backprop gives: exp(0.5), not sigmoid(0.5)."""
    wrong = OPS_BLOCK.replace('grads: ["sigmoid(a)"]', 'grads: ["exp(a)"]')
    c = circuit(spec_text("  f: {op: softplus, in: [x]}\n", {"x": 0.5}, wrong))
    c.forward()
    assert c.backward()["x"] == math.exp(0.5)


def test_gradcheck_names_the_op_and_the_argument_of_a_wrong_derivative():
    wrong = OPS_BLOCK.replace('grads: ["exp(a - out)", "exp(b - out)"]', 'grads: ["exp(a - out)", "exp(a - out)"]')
    c = circuit(spec_text("  f: {op: lse, in: [x, y]}\n  g: \"f + 2 * z\"\n", {"x": 0.3, "y": -1.0, "z": 2.0},
                          wrong))
    result = gradcheck(c)
    assert not result.passed
    failures = {entry.name: entry for entry in result.failures}
    assert set(failures) == {"y"}  # x's derivative is right, and z does not go through lse
    (culprit,) = failures["y"].wrong_derivatives
    assert (culprit.gate, culprit.op, culprit.arg, culprit.at, culprit.more) == ("f", "lse", "b", {"a": 0.3, "b": -1.0}, 0)
    assert culprit.numerical == pytest.approx(central_difference(REFERENCE["lse"], [0.3, -1.0], 1), rel=1e-6)
    assert "custom op lse has a wrong derivative" in failures["y"].note and "d/db" in failures["y"].note


def test_gradcheck_names_a_wrong_op_once_per_input_however_many_gates_use_it():
    """A layer of 8 neurons with a wrongly differentiated activation: each
    weight's failure names the op at its own neuron; x's names it once and
    counts the 7 other neurons."""
    wrong = OPS_BLOCK.replace('grads: ["sigmoid(a)"]', 'grads: ["exp(a)"]')
    text = spec_text("  h: {use: unit, in: [[x]], repeat: 8, activation: softplus}\n  f: \"h.n0 + h.n7\"\n",
                     {"x": 0.4}, wrong + "modules:\n  unit:\n    in: [x]\n    params: {w: {size: x, init: 0.3}}\n"
                                         "    out: dot(w, x)\n")
    result = gradcheck(circuit(text))
    failures = {entry.name: entry for entry in result.failures}
    assert set(failures) == {"x", "h.n0.w0", "h.n7.w0"}  # the other neurons do not feed f
    (culprit,) = failures["x"].wrong_derivatives
    assert (culprit.op, culprit.arg, culprit.gate, culprit.more) == ("softplus", "a", "h.n0", 1)
    assert failures["x"].note.endswith("(and at 1 more gate)")
    assert failures["h.n7.w0"].wrong_derivatives[0].gate == "h.n7"


def test_a_right_derivative_passes_gradcheck_and_a_kink_inside_is_flagged_not_failed():
    passing = circuit(spec_text("  f: \"softplus(x) + swish(y) * lse(x, y)\"\n", {"x": 0.3, "y": -1.1}))
    assert gradcheck(passing).passed
    at_kink = circuit(spec_text("  f: \"hinge2(x) + relu(x)\"\n", {"x": 1.0}))
    check = gradcheck(at_kink)
    assert check.passed
    (entry,) = check.inputs
    assert entry.status == "kink" and "hinge2 at a kink of its max" in entry.note


def test_custom_ops_inside_formulas_and_modules():
    text = spec_text(
        "  h: {use: unit, in: [[x, y]], repeat: 2, activation: softplus}\n"
        "  f: \"swish(h.n0) + lse(h.n1, x)\"\n",
        {"x": 0.4, "y": -0.9},
        OPS_BLOCK + "modules:\n  unit:\n    in: [x]\n    params: {w: {size: x, init: 0.5}, b: -0.1}\n"
                    "    gates:\n      s: {op: softplus, in: [b]}\n"
                    "    out: \"dot(w, x) + s\"\n")
    c = circuit(text)
    value = c.forward()
    grads = c.backward()

    def reference(x, y):
        unit = 0.5 * x + 0.5 * y + REFERENCE["softplus"](-0.1)
        h = REFERENCE["softplus"](unit)
        return REFERENCE["swish"](h) + REFERENCE["lse"](h, x)

    assert value == pytest.approx(reference(0.4, -0.9), rel=1e-12)
    assert grads["x"] == pytest.approx(central_difference(reference, [0.4, -0.9], 0), rel=1e-6)
    assert grads["y"] == pytest.approx(central_difference(reference, [0.4, -0.9], 1), rel=1e-6)
    assert [step.op.name for step in c.tape].count("softplus") == 4  # two activations, two inner gates


def test_a_template_that_would_grow_too_long_falls_back_to_the_functions():
    nested = "square(" * 14 + "a" + ")" * 14  # each square doubles its argument's text
    block = f"ops:\n  tower:\n    args: [a]\n    forward: \"{nested}\"\n    grads: [\"0\"]\n"
    plain = circuit(spec_text("  f: {op: tower, in: [x]}\n", {"x": 1.0001}, block))
    assert plain.tape[0].op.code(1) is None
    fast = circuit(spec_text("  f: {op: tower, in: [x]}\n", {"x": 1.0001}, block))
    fast.accelerate()
    assert fast.forward() == plain.forward() == pytest.approx(1.0001 ** (2 ** 14), rel=1e-9)


def test_an_op_used_with_the_wrong_number_of_inputs_is_refused_where_it_is_used():
    with pytest.raises(runner.SpecError) as info:
        runner.load_spec_text(spec_text("  f: {op: lse, in: [x]}\n  g: \"softplus(x, f)\"\n", {"x": 1.0}),
                              "t.yaml")
    lines = str(info.value).splitlines()
    assert any("gates.f.in: lse takes 2 inputs, got 1" in line for line in lines)
    assert any("gates.g: softplus takes 1 input, got 2" in line for line in lines)


# ---- random custom ops: the compiled path against the interpreter ---------------------------

_UNARY = ["exp", "tanh", "sigmoid", "relu", "abs", "sin", "cos", "square", "neg"]
_BINARY = ["+", "-", "*", "max", "min"]


def _random_expression(rng, names: list[str], depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(names + [repr(round(rng.uniform(-2, 2), 3))])
    if rng.random() < 0.4:
        op = rng.choice(_UNARY)
        inner = _random_expression(rng, names, depth - 1)
        return f"-({inner})" if op == "neg" else f"{op}({inner})"
    op = rng.choice(_BINARY)
    left, right = (_random_expression(rng, names, depth - 1) for _ in range(2))
    return f"{op}({left}, {right})" if op in ("max", "min") else f"({left} {op} {right})"


@pytest.mark.parametrize("seed", range(20))
def test_random_custom_ops_compiled_equal_the_interpreter_bit_for_bit(seed):
    """Random forward and grads expressions (any formulas: only the two paths
    are compared here, not whether the derivative is right)."""
    import random

    rng = random.Random(seed)
    forward = _random_expression(rng, ["a", "b"], 4)
    grads = [_random_expression(rng, ["a", "b", "out"], 3) for _ in range(2)]
    block = (f"ops:\n  r:\n    args: [a, b]\n    forward: \"{forward}\"\n"
             f"    grads: [\"{grads[0]}\", \"{grads[1]}\"]\n")
    text = spec_text("  f: \"r(x, y) * r(y, 0.5) + r(x, x)\"\n", {"x": 0.3, "y": -0.7}, block)
    plain, fast = circuit(text), circuit(text)
    assert fast.accelerate()
    assert next(step.op for step in fast.tape if step.op.name == "r").code(2) is not None  # compiled, not called
    for shift in (0.0, 0.61, -1.3):
        moved = {"x": 0.3 + shift, "y": -0.7 - shift}
        assert fast.forward(moved) == plain.forward(moved) and fast.values == plain.values
        assert fast.backward() == plain.backward()
        assert fast.forward_backward() == plain.forward_backward() and fast.grad_map() == plain.grad_map()


def test_ops_calling_ops_as_deep_as_allowed_run_and_compile():
    """99 ops, each calling the one before: within the bound on nesting, the
    interpreter and the compiled path agree (each adds 1, the last doubles)."""
    from runner.limits import Limits

    block = "ops:\n  c0:\n    args: [a]\n    forward: a + 1\n    grads: ['1']\n" + "".join(
        f"  c{k}:\n    args: [a]\n    forward: c{k - 1}(a) + 1\n    grads: ['c0(a) - a']\n" for k in range(1, 99))
    text = spec_text("  f: \"c98(x) * 2\"\n", {"x": 0.5}, block)
    spec = runner.load_spec_text(text, "t.yaml", limits=Limits(max_depth=1000))
    plain, fast = compile_spec(spec), compile_spec(spec)
    fast.accelerate()
    assert plain.forward() == fast.forward() == 2 * (0.5 + 99)
    assert plain.backward() == fast.backward()
    assert plain.grad("x") == 2.0  # each written derivative is c0(a) - a = 1


# ---- random custom ops against an independent evaluator ----------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from reference import REFERENCE as OP_REFERENCE  # noqa: E402

SAFE = {  # ops whose argument is kept inside the domain by construction
    "exp": "exp(tanh({}))", "log": "log(2 + sin({}))", "sqrt": "sqrt(2 + cos({}))", "sigmoid": "sigmoid({})",
    "tanh": "tanh({})", "sin": "sin({})", "cos": "cos({})", "square": "square({})", "abs": "abs({})",
}


@st.composite
def expressions(draw, names, depth=0):
    if depth > 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(names + ["1.5", "2", "-0.5"]))
    kind = draw(st.sampled_from(["binary", "call", "unary"]))
    if kind == "binary":
        operator = draw(st.sampled_from(["+", "-", "*"]))
        return f"({draw(expressions(names, depth + 1))} {operator} {draw(expressions(names, depth + 1))})"
    if kind == "unary":
        return f"-{draw(expressions(names, depth + 1))}"
    return SAFE[draw(st.sampled_from(sorted(SAFE)))].format(draw(expressions(names, depth + 1)))


def evaluate(text: str, **names: float) -> float:
    """The test's own evaluator: the expression, which this test wrote from
    the grammar above, as Python over the reference ops."""
    ops = {name: OP_REFERENCE[name] for name in SAFE}
    return eval(text, {"__builtins__": {}}, {**ops, **names})  # noqa: S307 - our own text


@settings(max_examples=40, deadline=None)
@given(expressions(["a", "b"]), expressions(["a", "b", "out"]), expressions(["a", "b", "out"]))
def test_random_custom_ops_give_their_forward_and_exactly_their_written_derivatives(forward, grad_a, grad_b):
    """f = r(x, y) * 3: f is 3 forward(x, y), and backprop gives 3 grad_a and
    3 grad_b as written (right or wrong), with out = forward(x, y)."""
    block = f"ops:\n  r:\n    args: [a, b]\n    forward: \"{forward}\"\n    grads: [\"{grad_a}\", \"{grad_b}\"]\n"
    c = circuit(spec_text("  f: \"r(x, y) * 3\"\n", {"x": 0.3, "y": -0.7}, block))
    value = c.forward()
    grads = c.backward()
    out = evaluate(forward, a=0.3, b=-0.7)
    assert value == pytest.approx(3 * out, rel=1e-9, abs=1e-12)
    assert grads["x"] == pytest.approx(3 * evaluate(grad_a, a=0.3, b=-0.7, out=out), rel=1e-9, abs=1e-12)
    assert grads["y"] == pytest.approx(3 * evaluate(grad_b, a=0.3, b=-0.7, out=out), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name,point", CASES[:1] + CASES[10:11])
def test_templates_use_only_arithmetic_and_the_helpers_a_page_can_spell(name, point):
    """The composed templates call nothing but the table's helpers, which
    have JavaScript spellings (ops.HELPERS): a page can run them as written."""
    import ast

    forward, grads = circuit(one_gate(name, point)).tape[0].op.code(len(point))
    for template in (forward, *grads):
        tree = ast.parse(template.replace("{out}", "out").replace("{0}", "a0").replace("{1}", "a1"), mode="eval")
        called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert called and called <= set(HELPERS), template
        assert all(isinstance(node, (ast.expr, ast.operator, ast.unaryop, ast.expr_context))
                   for node in ast.walk(tree.body)), template
