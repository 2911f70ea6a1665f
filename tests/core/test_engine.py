"""The engine: forward values and backprop gradients against published
numbers and against an independent evaluator with central differences."""

from __future__ import annotations

import math
import random

import pytest

import runner
from runner.errors import NumericalError
from reference import REFERENCE, every_op_cases


def circuit_of(inputs: dict, gates: dict, **extra):
    spec = runner.Spec.model_validate({"inputs": inputs, "gates": gates, **extra})
    return runner.compile_spec(spec)


def evaluate(inputs: dict[str, float], gates: dict[str, dict], output: str) -> float:
    """A second, naive evaluator: memoized recursion over the spec dict."""
    memo = dict(inputs)

    def value(ref):
        if not isinstance(ref, str):
            return float(ref)
        if ref not in memo:
            gate = gates[ref]
            memo[ref] = REFERENCE[gate["op"]](*[value(r) for r in gate["in"]])
        return memo[ref]

    return value(output)


def reference_grads(inputs, gates, output, h=1e-6):
    names = list(inputs)
    result = {}
    for name in names:
        up, down = dict(inputs), dict(inputs)
        up[name] += h
        down[name] -= h
        result[name] = (evaluate(up, gates, output) - evaluate(down, gates, output)) / (2 * h)
    return result


# ---- published numbers ------------------------------------------------------

def test_add_multiply_from_the_seed():
    c = circuit_of({"x": -2, "y": 5, "z": -4},
                   {"q": {"op": "add", "in": ["x", "y"]}, "f": {"op": "mul", "in": ["q", "z"]}})
    assert c.forward() == -12.0
    grads = c.backward()
    assert (grads["x"], grads["y"], grads["z"], grads["q"], grads["f"]) == (-4.0, -4.0, 3.0, -4.0, 1.0)


def test_karpathy_neuron():
    c = circuit_of({"a": 1, "b": 2, "c": -3, "x": -1, "y": 3}, {
        "ax": {"op": "mul", "in": ["a", "x"]}, "by": {"op": "mul", "in": ["b", "y"]},
        "s": {"op": "add", "in": ["ax", "by", "c"]}, "f": {"op": "sigmoid", "in": ["s"]}})
    assert c.forward() == pytest.approx(0.8808, abs=5e-5)
    g = c.backward()
    published = {"a": -0.105, "b": 0.315, "c": 0.105, "x": 0.105, "y": 0.210}
    for name, value in published.items():
        assert g[name] == pytest.approx(value, abs=5e-4), name
    s = 1 / (1 + math.exp(-2.0))
    assert g["c"] == pytest.approx(s * (1 - s), rel=1e-12)


def test_micrograd_sanity_check_expression():
    # micrograd's test_engine.py: x = -4; z = 2x + 2 + x; q = relu(z) + z*x;
    # h = relu(z*z); y = h + q + q*x; published y = -20, dy/dx = 46.
    c = circuit_of({"x": -4}, {
        "z": {"op": "add", "in": ["x2", 2, "x"]},
        "x2": {"op": "mul", "in": [2, "x"]},
        "rz": {"op": "relu", "in": ["z"]}, "zx": {"op": "mul", "in": ["z", "x"]},
        "q": {"op": "add", "in": ["rz", "zx"]}, "zz": {"op": "mul", "in": ["z", "z"]},
        "h": {"op": "relu", "in": ["zz"]}, "qx": {"op": "mul", "in": ["q", "x"]},
        "y": {"op": "add", "in": ["h", "q", "qx"]}}, output="y")
    assert c.forward() == -20.0
    assert c.backward()["x"] == 46.0


# ---- structure of backprop --------------------------------------------------

def test_fan_out_accumulates():
    # f = x*x + x: df/dx = 2x + 1
    c = circuit_of({"x": 3}, {"sq": {"op": "mul", "in": ["x", "x"]}, "f": {"op": "add", "in": ["sq", "x"]}})
    c.forward()
    assert c.backward()["x"] == 7.0


def test_backward_twice_gives_the_same_answer():
    c = circuit_of({"x": 3, "y": -2}, {"m": {"op": "mul", "in": ["x", "y"]}, "f": {"op": "add", "in": ["m", "x"]}})
    c.forward()
    first = c.backward()
    second = c.backward()
    assert first == second == {"x": -1.0, "y": 3.0, "m": 1.0, "f": 1.0}


def test_constants_are_used_but_not_differentiated():
    c = circuit_of({"x": 3}, {"f": {"op": "mul", "in": ["x", 2.5]}})
    assert c.forward() == 7.5
    assert c.backward() == {"x": 2.5, "f": 1.0}


def test_gates_may_be_listed_in_any_order():
    c = circuit_of({"x": 2}, {"f": {"op": "square", "in": ["b"]}, "a": {"op": "exp", "in": ["x"]},
                              "b": {"op": "add", "in": ["a", 1]}}, output="f")
    assert c.gate_names == ["a", "b", "f"]
    assert c.forward() == pytest.approx((math.exp(2) + 1) ** 2)


def test_nodes_not_feeding_the_output_get_zero_and_are_listed():
    c = circuit_of({"x": 1, "unused": 5}, {"side": {"op": "neg", "in": ["x"]},
                                          "f": {"op": "exp", "in": ["x"]}})
    c.forward()
    grads = c.backward()
    assert grads["unused"] == 0.0 and grads["side"] == 0.0
    assert grads["x"] == pytest.approx(math.e)
    assert sorted(c.unused_nodes()) == ["side", "unused"]


def test_output_defaults_to_the_last_gate_listed():
    spec = runner.Spec.model_validate({"inputs": {"x": 1}, "gates": {
        "b": {"op": "neg", "in": ["a"]}, "a": {"op": "exp", "in": ["x"]}}})
    assert spec.output_name == "a"


# ---- against an independent evaluator --------------------------------------

SAFE_UNARY = ["neg", "square", "sigmoid", "tanh", "sin", "cos", "exp", "abs", "relu"]


def random_circuit(seed: int, n_inputs: int = 4, n_gates: int = 40):
    rng = random.Random(seed)
    inputs = {f"i{k}": rng.uniform(-1.5, 1.5) for k in range(n_inputs)}
    gates: dict[str, dict] = {}
    nodes = list(inputs)
    for k in range(n_gates):
        name = f"g{k}"
        kind = rng.random()
        if kind < 0.4:
            op = rng.choice(["add", "mul", "sub", "max", "min"])
            ins = [rng.choice(nodes) for _ in range(2 if op == "sub" else rng.randint(2, 3))]
        elif kind < 0.85:
            op = rng.choice(SAFE_UNARY)
            ins = [rng.choice(nodes)]
        else:
            # squashed first, so log/sqrt/div/pow stay inside their domains
            squash = f"s{k}"
            gates[squash] = {"op": "sigmoid", "in": [rng.choice(nodes)]}
            nodes.append(squash)
            op = rng.choice(["log", "sqrt", "div", "pow"])
            ins = {"log": [squash], "sqrt": [squash], "div": [rng.choice(nodes), squash],
                   "pow": [squash, rng.choice([2, 0.5, "i0"])]}[op]
        gates[name] = {"op": op, "in": ins}
        nodes.append(name)
    # the output mixes a few late nodes so most of the DAG is live
    gates["out"] = {"op": "add", "in": nodes[-6:]}
    return inputs, gates


@pytest.mark.parametrize("seed", range(25))
def test_random_dags_match_central_differences(seed):
    inputs, gates = random_circuit(seed)
    c = circuit_of(inputs, gates, output="out")
    assert c.forward() == pytest.approx(evaluate(inputs, gates, "out"), rel=1e-12, abs=1e-12)
    grads = c.backward()
    expected = reference_grads(inputs, gates, "out")
    for name in inputs:
        assert grads[name] == pytest.approx(expected[name], rel=1e-5, abs=1e-6), (seed, name)


def test_numerical_gradient_forward_and_central():
    c = circuit_of({"x": 3, "y": 4}, {"f": {"op": "mul", "in": ["x", "x", "y"]}})  # f = x^2 y
    forward = c.numerical_gradient(h=1e-4)
    central = c.numerical_gradient(h=1e-4, central=True)
    # forward difference of x^2 y: y (2x + h); central is exact for a quadratic
    assert forward["x"] == pytest.approx(4 * (6 + 1e-4), rel=1e-9)
    assert central["x"] == pytest.approx(24.0, rel=1e-9)
    assert central["y"] == pytest.approx(9.0, rel=1e-9)
    assert c.value("x") == 3.0 and c.value("f") == 36.0  # state restored


# ---- scale and depth ----------------------------------------------------------

def test_hundred_thousand_gate_chain():
    n = 100_000
    gates = {f"g{k}": {"op": "add", "in": [f"g{k - 1}" if k else "x", 1]} for k in range(n)}
    gates["f"] = {"op": "mul", "in": [f"g{n - 1}", "x"]}
    c = circuit_of({"x": 2.0}, gates)
    # f = (x + n) * x, df/dx = 2x + n
    assert c.forward() == (2.0 + n) * 2.0
    assert c.backward()["x"] == 2 * 2.0 + n


def test_chain_listed_backwards_sorts_without_recursion():
    n = 20_000
    gates = {f"g{k}": {"op": "neg", "in": [f"g{k - 1}" if k else "x"]} for k in reversed(range(n))}
    c = circuit_of({"x": 1.5}, gates, output=f"g{n - 1}")
    assert c.forward() == 1.5  # an even number of negations
    assert c.backward()["x"] == 1.0


# ---- numerical errors ---------------------------------------------------------

@pytest.mark.parametrize("gates,gate,op,fragment", [
    ({"f": {"op": "log", "in": ["x"]}}, "f", "log", "domain"),
    ({"z": {"op": "sub", "in": ["x", "x"]}, "f": {"op": "div", "in": [1, "z"]}}, "f", "div", "divides by zero"),
    ({"f": {"op": "exp", "in": [1000]}}, "f", "exp", "overflows"),
    ({"big": {"op": "mul", "in": ["x", 1e200]}, "f": {"op": "mul", "in": ["big", "big"]}}, "f", "mul", "inf"),
])
def test_non_finite_forward_names_the_gate(gates, gate, op, fragment):
    c = circuit_of({"x": -1.0}, gates)
    with pytest.raises(NumericalError) as info:
        c.forward()
    assert (info.value.gate, info.value.op) == (gate, op)
    assert fragment in str(info.value)


def test_sqrt_at_zero_has_no_gradient():
    c = circuit_of({"x": 0.0}, {"f": {"op": "sqrt", "in": ["x"]}})
    assert c.forward() == 0.0
    with pytest.raises(NumericalError) as info:
        c.backward()
    assert info.value.gate == "f" and "gradient" in str(info.value)


def test_pow_exponent_node_needs_positive_base():
    c = circuit_of({"a": -2.0, "b": 2.0}, {"f": {"op": "pow", "in": ["a", "b"]}})
    assert c.forward() == 4.0
    with pytest.raises(NumericalError, match="d/db"):
        c.backward()
    constant_exponent = circuit_of({"a": -2.0}, {"f": {"op": "pow", "in": ["a", 2]}})
    constant_exponent.forward()
    assert constant_exponent.backward()["a"] == -4.0


# ---- the generated fast path ------------------------------------------------------

@pytest.mark.parametrize("seed", range(25))
def test_fast_path_is_bit_identical_to_the_interpreter(seed):
    inputs, gates = random_circuit(seed)
    plain = circuit_of(inputs, gates, output="out")
    fast = circuit_of(inputs, gates, output="out")
    assert fast.accelerate()
    for shift in (0.0, 0.37, -1.1):
        moved = {name: value + shift for name, value in inputs.items()}
        assert fast.forward(moved) == plain.forward(moved)
        assert fast.values == plain.values
        assert fast.backward() == plain.backward()
        fast.set_inputs({name: value + 0.5 for name, value in moved.items()})
        plain.set_inputs({name: value + 0.5 for name, value in moved.items()})
        assert fast.forward_backward() == plain.forward_backward()  # the fused pass
        assert fast.values == plain.values and fast.grads[:fast.n_inputs] == plain.grads[:plain.n_inputs]
        assert fast.grad_map() == plain.grad_map()


@pytest.mark.parametrize("name,args", list(every_op_cases(runner.OPS, kinks=True)))
def test_fast_path_covers_every_op_of_the_table(name, args):
    """Every op at each of its points (the cases come from the op table):
    the compiled passes give the interpreter's values and gradients, bit for bit."""
    inputs = {f"a{i}": value for i, value in enumerate(args)}
    gates = {"f": {"op": name, "in": list(inputs)}, "out": {"op": "mul", "in": ["f", 1.5]}}
    plain, fast = circuit_of(inputs, gates, output="out"), circuit_of(inputs, gates, output="out")
    fast.accelerate()
    assert fast.forward() == plain.forward() and fast.values == plain.values
    assert fast.backward() == plain.backward()
    assert fast.forward_backward() == plain.forward_backward() and fast.grad_map() == plain.grad_map()


def test_fast_path_compiles_only_the_passes_used():
    inputs, gates = random_circuit(3)
    c = circuit_of(inputs, gates, output="out")
    assert c.accelerate() and c._compiled == {}
    c.forward_backward()  # what an optimization step runs
    assert set(c._compiled) == {"forward_backward"}
    c.forward()
    c.backward()
    assert set(c._compiled) == {"forward_backward", "forward", "backward"}


def test_fast_path_errors_still_name_the_gate():
    c = circuit_of({"x": 1.0}, {"d": {"op": "sub", "in": ["x", 1]}, "f": {"op": "log", "in": ["d"]}})
    c.accelerate()
    with pytest.raises(NumericalError) as info:
        c.forward()
    assert info.value.gate == "f"
    s = circuit_of({"x": 0.0}, {"f": {"op": "sqrt", "in": ["x"]}})
    s.accelerate()
    s.forward()
    with pytest.raises(NumericalError, match="gradient"):
        s.backward()


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "max", "min"])
def test_a_two_input_gate_reading_one_node_twice_gets_both_terms(op):
    """f = op(x, x): backward's two-input case must add both local
    derivatives into x's one slot. Reference: a central difference of f."""
    x, h = 1.7, 1e-6
    c = circuit_of({"x": x}, {"f": {"op": op, "in": ["x", "x"]}})
    c.forward()
    analytic = c.backward()["x"]
    f = runner.ops.OPS[op].forward
    assert analytic == pytest.approx((f(x + h, x + h) - f(x - h, x - h)) / (2 * h), rel=1e-6, abs=1e-8)
