"""Streamed output (--format json / csv) against json.dumps and a CSV written here.

The streaming writers build the text by hand for speed; the references are
`json.dumps(to_json_dict(result), allow_nan=False)` (the document as plain
data, serialized by the standard library) and a CSV writer in this file.
"""

from __future__ import annotations

import io
import json
import math
import random
from pathlib import Path

import pytest

import runner
from runner.present import csv_output, json_output, tables
from runner.present.explain import to_json as explain_json
from runner.optimization.trace import TraceRow
from runner.results.run import NodeMap
from runner.optimization.trace import KeepSummary
from runner.present.trace_files import JsonRows

# the examples without data (those with data write per-row lists: tests/present/test_data_output.py)
CIRCUITS = [path for path in sorted((Path(__file__).resolve().parents[2] / "circuits").glob("*.yaml"))
            if "\ndata:" not in path.read_text()]
OPS = ["add", "mul", "sin", "tanh", "cos", "sub", "neg", "sigmoid", "square", "max", "min", "abs", "relu"]


def reference_json(result, **extra) -> str:
    return json.dumps({**json_output.to_json_dict(result), **extra}, allow_nan=False)


def reference_csv(result) -> str:
    """The node table from the JSON document's plain data."""
    numerical = result.numerical_grads is not None
    lines = ["name,op,in,value,grad" + (",numerical_grad" if numerical else "")]
    for name, node in json_output.to_json_dict(result)["nodes"].items():
        ins = " ".join(ref if isinstance(ref, str) else repr(ref) for ref in node["in"])
        cells = [name, node["op"], ins, repr(node["value"]), repr(node["grad"])]
        if numerical:
            cells.append(repr(node["numerical_grad"]) if "numerical_grad" in node else "")
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def random_spec(gates: int, seed: int) -> str:
    """A random DAG in shuffled order, with number constants among the inputs
    of gates, fixed inputs and an optimize block: every branch of the writers."""
    rng = random.Random(seed)
    inputs = {f"x{i}": rng.uniform(-1, 1) for i in range(20)}
    inputs["fixed"] = {"value": 0.5, "trainable": False}
    nodes, spec_gates = list(inputs), {}
    for i in range(gates):
        op = rng.choice(OPS)
        arity = 1 if op in ("sin", "tanh", "cos", "neg", "sigmoid", "square", "abs", "relu") else 2
        refs: list = [rng.choice(nodes[-30:]) for _ in range(arity)]
        if arity == 2 and rng.random() < 0.2:
            refs[1] = rng.choice([2.0, -1.5, 1e-7, 0.1, 3.0])
        name = f"g{i}"
        spec_gates[name] = {"op": op, "in": refs}
        nodes.append(name)
    spec_gates["out"] = {"op": "tanh", "in": [nodes[-1]]}
    order = list(spec_gates.items())
    rng.shuffle(order)
    return json.dumps({"name": f"random-{seed}", "inputs": inputs, "gates": dict(order), "output": "out",
                       "optimize": {"iterations": 30, "step_size": 0.01}})


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_json_of_every_example_equals_json_dumps(path):
    result = runner.run_spec(runner.load_spec(str(path)), check=True, numerical_h=1e-6, gradcheck={})
    assert json_output.render_json(result) == reference_json(result)
    extra = {"explain": explain_json(result)}
    assert json_output.render_json(result, **extra) == reference_json(result, **extra)


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda p: p.stem)
def test_csv_of_every_example_equals_reference(path):
    result = runner.run_spec(runner.load_spec(str(path)), numerical_h=1e-6)
    assert csv_output.render_csv(result) == reference_csv(result)
    plain = runner.run_spec(runner.load_spec(str(path)))
    assert csv_output.render_csv(plain) == reference_csv(plain)


@pytest.mark.parametrize("seed", [0, 1])
def test_big_random_circuit_json_and_csv(seed):
    """More than two chunks of nodes (and, with the optimization, of rows)."""
    spec = runner.load_spec_text(random_spec(15_000, seed), f"random-{seed}.json", fmt="json")
    result = runner.run_spec(spec, check=True)
    text = json_output.render_json(result)
    assert text == reference_json(result)
    assert len(json.loads(text)["nodes"]) == 15_000 + 1 + 21
    out = io.StringIO()
    json_output.write_json(result, out)
    assert out.getvalue() == text + "\n"
    assert csv_output.render_csv(result) == reference_csv(result)
    out = io.StringIO()
    csv_output.write_csv(result, out)
    assert out.getvalue() == reference_csv(result)


def test_cli_json_trace_equals_json_dumps_of_every_row(cli, write):
    """The CLI keeps the rows as text (JsonRows); the API keeps TraceRows."""
    path = write("long.yaml", "inputs: {x: -2, y: 5, z: {value: -4, trainable: false}}\n"
                              "gates: {q: {op: add, in: [x, y]}, f: {op: mul, in: [q, z]}}\n"
                              "optimize: {iterations: 25000, step_size: 0.000001, optimizer: adam}\n")
    printed = cli("--format", "json", path)
    assert printed.exit_code == 0, printed.stderr
    result = runner.run_spec(runner.load_spec(path))
    assert len(result.optimization.trace) == 25_001
    assert printed.stdout == reference_json(result) + "\n"
    with_explain = cli("--format", "json", "--explain", "--check", path)
    result = runner.run_spec(runner.load_spec(path), check=True)
    assert with_explain.stdout == reference_json(result, explain=explain_json(result)) + "\n"


def test_cli_csv_of_big_circuit(cli, write):
    path = write("big.json", random_spec(12_000, 3))
    printed = cli("--format", "csv", "--no-optimize", path)
    assert printed.exit_code == 0, printed.stderr
    assert printed.stdout == reference_csv(runner.run_spec(runner.load_spec(path), run_optimization=False))


@pytest.mark.parametrize("memory", [10, 1 << 30], ids=["temporary-file", "in-memory"])
def test_json_rows_keeps_every_row_as_text(memory):
    rng = random.Random(7)
    rows = [TraceRow(i, rng.uniform(-1e300, 1e300), {"a": rng.random(), "b_2": -0.0},
                     None if i % 3 == 0 else {"a": 1e-320, "b_2": rng.random()}) for i in range(2_345)]
    kept = JsonRows(KeepSummary(), memory=memory)
    for row in rows:
        kept.add(row)
    try:
        assert "".join(kept.texts(size=1000)) == ", ".join(json.dumps(row.as_dict()) for row in rows)
        assert (kept._file is not None) == (memory == 10)
        assert kept.rows() == [row for row in rows if row.iteration in {r.iteration for r in kept.rows()}]
        assert kept.rows()[0] is rows[0] and kept.rows()[-1] is rows[-1]
    finally:
        kept.close()


def test_extra_member_that_replaces_a_member_keeps_json_dumps_semantics():
    result = runner.run_spec(runner.load_spec(str(CIRCUITS[0])))
    assert json_output.render_json(result, check={"passed": True}) == reference_json(result, check={"passed": True})


def test_non_finite_number_is_refused_like_json_dumps():
    result = runner.run_spec(runner.load_spec(str(CIRCUITS[0])), numerical_h=1e-6)
    name = result.circuit.input_names[0]
    result.numerical_grads = {**result.numerical_grads, name: math.inf}
    with pytest.raises(ValueError):
        reference_json(result)
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_output.render_json(result)


def test_values_stay_at_the_start_after_optimizing():
    path = str(next(p for p in CIRCUITS if p.stem == "neuron"))
    spec = runner.load_spec(path)
    result = runner.run_spec(spec)
    assert result.optimization is not None and result.optimization.steps > 0
    fresh = runner.compile_spec(spec)
    fresh.forward()
    grads = fresh.backward()
    assert isinstance(result.values, NodeMap)
    assert dict(result.values) == fresh.value_map() and result.values == fresh.value_map()
    assert result.grads == grads and list(result.grads) == list(grads)
    assert result.circuit.input_values() != {n: result.values[n] for n in result.circuit.input_names}
    assert len(result.values) == len(grads) and "nope" not in result.values
    with pytest.raises(KeyError):
        result.values["nope"]
