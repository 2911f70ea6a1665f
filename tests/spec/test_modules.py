"""Modules: instances expand into named nodes with seeded parameters, layers
by repeat, whole-layer wiring, nesting; sizes and cycles refused before
anything is made. Numbers are checked against micrograd itself and against
central differences."""

from __future__ import annotations

import random
import time

import pytest

import runner
from helpers import CIRCUITS, invoke
from reference import central_difference

NEURON = """\
modules:
  neuron:
    in: [x]
    params: {w: {size: x, init: "uniform(-1, 1)"}, b: 0}
    out: dot(w, x) + b
"""


def load(text: str, name: str = "t.yaml"):
    return runner.load_spec_text(text, name)


def test_an_instance_is_the_module_with_its_own_names():
    spec = load("inputs: {a: 2, c: 3}\n" + NEURON + "gates:\n  h: {use: neuron, in: [[a, c]]}\n")
    netlist = spec.netlist
    assert list(netlist.inputs) == ["a", "c", "h.w0", "h.w1", "h.b"]
    assert {name: (gate.op, gate.in_) for name, gate in netlist.gates.items()} == {
        "h.1": ("mul", ["h.w0", "a"]), "h.2": ("mul", ["h.w1", "c"]), "h.3": ("add", ["h.1", "h.2"]),
        "h": ("add", ["h.3", "h.b"])}
    assert netlist.output == "h"
    result = runner.run_spec(spec)
    w0, w1 = result.values["h.w0"], result.values["h.w1"]
    assert result.output == w0 * 2 + w1 * 3 + 0
    assert (result.grads["h.w0"], result.grads["h.w1"], result.grads["a"]) == (2, 3, w0)


def test_parameters_are_drawn_in_order_from_the_seed():
    text = ("inputs: {a: 1, c: 1}\n" + NEURON + "gates:\n  h: {use: neuron, in: [[a, c]], repeat: 2}\n"
            "  y: dot(h, [1, 1])\nseed: 7\n")
    values = runner.run_spec(load(text)).values
    rng = random.Random(7)
    assert [values[name] for name in ("h.n0.w0", "h.n0.w1", "h.n1.w0", "h.n1.w1")] == \
        [rng.uniform(-1, 1) for _ in range(4)]
    assert values["h.n0.b"] == values["h.n1.b"] == 0
    assert runner.run_spec(load(text)).values["h.n1.w1"] == values["h.n1.w1"]  # same spec, same numbers
    assert runner.run_spec(load(text.replace("seed: 7", "seed: 8"))).values["h.n1.w1"] != values["h.n1.w1"]


def test_repeat_makes_a_layer_and_its_name_the_list_of_outputs():
    text = ("inputs: {a: 1, c: -1}\n" + NEURON + "gates:\n"
            "  h: {use: neuron, in: [[a, c]], repeat: 3, activation: relu}\n"
            "  y: {use: neuron, in: [h]}\n")
    netlist = load(text).netlist
    assert [name for name in netlist.gates if name.startswith("h.n") and "." not in name[3:]] == \
        ["h.n0", "h.n1", "h.n2"]
    assert netlist.gates["h.n1"].op == "relu" and netlist.gates["h.n1"].in_ == ["h.n1.4"]  # act(dot + b)
    assert netlist.gates["y.1"].in_ == ["y.w0", "h.n0"]  # y reads the whole layer as its list input
    assert [name for name in netlist.inputs if name.startswith("y.")] == ["y.w0", "y.w1", "y.w2", "y.b"]


def test_the_mlp_example_is_micrographs_mlp_to_the_last_bit():
    """circuits/mlp.yaml with seed 1337 draws micrograd's weights after
    random.seed(1337), in micrograd's order: the same network, the same
    output and the same gradients."""
    nn = pytest.importorskip("micrograd.nn", reason="micrograd (the test extra) is not installed")
    state = random.getstate()
    try:
        random.seed(1337)
        model = nn.MLP(2, [16, 16, 1])
    finally:
        random.setstate(state)
    out = model([2.0, -1.0])
    out.backward()
    result = runner.run_spec(runner.load_spec(str(CIRCUITS / "mlp.yaml")))
    assert len(model.parameters()) == len(result.circuit.trainable) == 337
    assert result.output == out.data
    for index, layer in enumerate(model.layers):
        prefix = ["h1", "h2", "y"][index]
        for n, neuron in enumerate(layer.neurons):
            name = prefix if prefix == "y" else f"{prefix}.n{n}"
            for k, weight in enumerate(neuron.w):
                assert result.values[f"{name}.w{k}"] == weight.data
                assert result.grads[f"{name}.w{k}"] == pytest.approx(weight.grad, rel=1e-12, abs=1e-15)
            assert result.grads[f"{name}.b"] == pytest.approx(neuron.b.grad, rel=1e-12, abs=1e-15)


def test_the_mlp_gradients_match_central_differences():
    spec = runner.load_spec(str(CIRCUITS / "mlp.yaml"))
    circuit = runner.compile_spec(spec)
    circuit.forward()
    grads = circuit.backward()
    names = circuit.trainable[::23]  # a spread of weights and biases through all three layers
    start = [circuit.value(name) for name in names]

    def f(*params):
        circuit.set_inputs(dict(zip(names, params)))
        return circuit.forward()

    for index, name in enumerate(names):
        estimate = central_difference(f, list(start), index, h=1e-6)
        assert grads[name] == pytest.approx(estimate, rel=1e-6, abs=1e-8), name


def test_mlp_is_at_most_fifteen_lines():
    lines = [line for line in (CIRCUITS / "mlp.yaml").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) <= 15


def test_modules_can_use_modules_and_outputs_can_be_several():
    text = """\
inputs: {a: 1.5, c: -2}
modules:
  square_error: {in: [u, t], out: (u - t)**2}
  pair:
    in: [p, q]
    gates:
      e: {use: square_error, in: [p, q]}
    out: {sum: p + q, err: e * 1}
gates:
  h: {use: pair, in: [a, c]}
  f: dot(h, [1, 10])
"""
    result = runner.run_spec(load(text))
    assert result.values["h.sum"] == -0.5 and result.values["h.err"] == 12.25
    assert result.output == -0.5 + 122.5
    assert result.grads["a"] == 1 + 10 * 2 * (1.5 + 2)


def test_one_module_used_twice_with_fan_out():
    result = runner.run_spec(runner.load_spec(str(CIRCUITS / "module-fan-out.yaml")))
    assert result.grads["x"] == (2.5 - 1) + (2.5 - 3)  # both instances' paths add up at x
    assert result.optimization.final_inputs["x"] == 2


@pytest.mark.parametrize("gates, fragment", [
    ("  h: {use: nope, in: [a]}\n", "unknown module 'nope'"),
    ("  h: {use: neuron, in: [a, a]}\n", "module neuron has 1 input port (x), got 2 inputs"),
    ("  h: {use: neuron, in: [a]}\n", "size 'x' must name an input port that is bound to a list"),
    ("  h: {use: neuron, in: [[a]], activation: sum}\n", "activation"),
    ("  h: {use: neuron, in: [[a]], repeat: 0}\n", "repeat"),
    ("  y: h * 2\n  h: {use: neuron, in: [[a]], repeat: 2}\n", "lists are for dot"),
    ("  h: {use: neuron, in: [[a]], repeat: 2}\n", "the output must be one node, but h stands for the list"),
])
def test_wrong_instances_say_why(gates, fragment):
    with pytest.raises(runner.SpecError) as info:
        load("inputs: {a: 1}\n" + NEURON + "gates:\n" + gates)
    assert fragment in str(info.value)


def test_an_error_inside_a_module_points_at_its_definition_once(write):
    path = write("m.yaml", "inputs: {a: 1}\nmodules:\n  m: {in: [x], out: x * zz}\ngates:\n"
                           "  h: {use: m, in: [a], repeat: 5}\n  g: {use: m, in: [a]}\n")
    result = invoke(path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{path}:3:25: error: modules.m.out: unknown name 'zz' in module m; "
                                          "a module sees its input ports, its parameters and its own gates"]


def test_dotted_names_of_generated_nodes_work_in_expect_and_set(write):
    path = write("m.yaml", "inputs: {a: 2}\nmodules:\n  lin: {in: [x], params: {w: 3}, out: w * x}\n"
                           "gates:\n  h: {use: lin, in: [a]}\nexpect: {values: {h.w: 3}, grads: {h.w: 2}}\n")
    assert invoke("--check", path).exit_code == 0
    assert '"value": 10.0' in invoke("--set", "h.w=5", "--format", "json", path).stdout


@pytest.mark.parametrize("text", [
    "inputs: {x: 1}\nmodules:\n  n: {in: [u], params: {w: 1}, out: w * u}\ngates:\n"
    "  h: {use: n, in: [x], repeat: 1000000000000}\n",
    "inputs: {x: 1}\nmodules:\n  m0: {in: [u], out: u * 2}\n" + "".join(
        f"  m{k}: {{in: [u], gates: {{g: {{use: m{k - 1}, in: [u], repeat: 100}}}}, out: g}}\n"
        for k in range(1, 11)) + "gates:\n  f: {use: m10, in: [x]}\n",
])
def test_a_spec_that_would_expand_past_the_limit_is_refused_at_once(text):
    start = time.process_time()
    with pytest.raises(runner.SpecError, match="expands to more than 10,000,000 nodes"):
        load(text)
    assert time.process_time() - start < 1.0  # counted, never made


def test_the_node_limit_counts_expanded_nodes():
    text = "inputs: {x: 1}\nmodules:\n  n: {in: [u], params: {w: 1}, out: w * u}\ngates:\n" \
           "  h: {use: n, in: [x], repeat: 50}\noutput: h.n0\n"
    load(text)  # 1 + 50 * 2 nodes
    with pytest.raises(runner.SpecError, match="more than 100 nodes"):
        runner.load_spec_text(text, "t.yaml", limits=runner.Limits(max_nodes=100))


def test_a_module_using_itself_is_named_as_a_cycle():
    text = ("inputs: {x: 1}\nmodules:\n  a: {in: [u], gates: {g: {use: b, in: [u]}}, out: g}\n"
            "  b: {in: [u], gates: {g: {use: a, in: [u]}}, out: g}\ngates:\n  f: {use: a, in: [x]}\n")
    with pytest.raises(runner.SpecError, match="modules use each other in a cycle: a -> b -> a"):
        load(text)


def test_the_table_folds_instances_and_graph_draws_them_as_clusters(tmp_path):
    path = str(CIRCUITS / "mlp.yaml")
    table = invoke(path).stdout
    assert "h1    neuron x16, relu  [x0, x1]" in table and "h1.n0.w0" not in table
    assert "738 nodes of formulas and module instances are folded" in table
    assert "\n     h1.n0.w0  " in invoke("--all-nodes", path).stdout
    dot = tmp_path / "mlp.dot"
    assert invoke("--graph", str(dot), path).exit_code == 0
    assert 'subgraph "cluster h1" {' in dot.read_text() and "h1: neuron x16" in dot.read_text()
