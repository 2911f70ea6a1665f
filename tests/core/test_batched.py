"""Specs with data: the loss over rows and its gradients, checked against
independent references — the guide's own cost function written out in
plain Python, central differences of the whole loss, micrograd on the moons
MLP, and the scalar engine run one row at a time."""

from __future__ import annotations

import math
import random
import subprocess
import sys

import pytest

import runner
from helpers import CIRCUITS, ROOT, run_source
from reference import central_difference

from runner.core.batched import BatchedTape, kernel
from runner.core.compiler import compile_spec
from runner.core.data_objective import DataObjective, classify
from runner.core.objective import Objective
from runner.errors import NumericalError
from runner.ops import OPS

np = pytest.importorskip("numpy")

GUIDE_X = [[1.2, 0.7], [-0.3, 0.5], [3.0, 2.5]]
GUIDE_Y = [1, -1, 1]


def guide_cost(w: list[float], alpha: float = 0.1) -> tuple[list[float], float, float]:
    """The guide's `cost(X, y, w)`, line for line: each row's hinge, the
    regularization and the total."""
    costs = []
    for xi, yi in zip(GUIDE_X, GUIDE_Y):
        score = w[0] * xi[0] + w[1] * xi[1] + w[2]
        costs.append(max(0, -yi * score + 1))
    regularization = alpha * (w[0] * w[0] + w[1] * w[1])
    return costs, regularization, sum(costs) + regularization


def test_svm_cost_gives_the_guides_numbers():
    result = run_source(CIRCUITS / "svm-cost.yaml")
    costs, regularization, total = guide_cost([0.1, 0.2, 0.3])
    assert [round(c, 3) for c in costs] == [0.44, 1.37, 0.0]  # the guide's printout
    assert round(regularization, 3) == 0.005 and round(total, 3) == 1.815
    assert result.values["cost"].tolist() == pytest.approx(costs, abs=1e-15)
    assert result.loss["regularization"] == pytest.approx(regularization, rel=1e-15)
    assert result.output == pytest.approx(total, rel=1e-15)
    assert result.loss["data"] + result.loss["regularization"] == result.output


def test_svm_cost_gradients_equal_central_differences_of_the_guides_cost():
    result = run_source(CIRCUITS / "svm-cost.yaml")
    w = [0.1, 0.2, 0.3]
    for i, name in enumerate(["w0", "w1", "w2"]):
        estimate = central_difference(lambda *p: guide_cost(list(p))[2], w, i)
        assert result.grads[name] == pytest.approx(estimate, abs=1e-8), name


@pytest.mark.parametrize("name", ["svm-train", "two-layer-net", "moons"])
def test_gradients_of_the_whole_loss_equal_central_differences(name):
    spec = runner.load_spec(str(CIRCUITS / f"{name}.yaml"))
    objective = DataObjective(compile_spec(spec), spec.netlist.data, spec.loss, spec.metrics)
    _, analytic = objective.value_and_grad()
    numerical = objective.numerical_grad(1e-6, central=True)
    chosen = range(0, len(analytic), max(1, len(analytic) // 40))  # moons: 337 parameters, ~40 checked
    for i in chosen:
        assert analytic[i] == pytest.approx(numerical[i], abs=1e-6, rel=1e-5), objective.names[i]


@pytest.mark.parametrize("name", ["svm-cost", "svm-train", "two-layer-net", "moons"])
def test_batched_rows_equal_the_scalar_engine_row_by_row(name):
    """The per-row values, and the per-row gradients of the reduced node, are
    those of the plain engine run on each row alone; a parameter's gradient
    is their sum (sum) or mean (mean) plus the L2 term."""
    spec = runner.load_spec(str(CIRCUITS / f"{name}.yaml"))
    circuit = compile_spec(spec)
    data = spec.netlist.data
    objective = DataObjective(circuit, data, spec.loss, spec.metrics)
    objective.value_and_grad()
    values, grads = objective.node_lists()
    of = spec.loss.of
    rows = data.rows[:25]
    scale = 1.0 if spec.loss.reduce == "sum" else 1.0 / len(data.rows)
    params = {name: 0.0 for name in circuit.trainable}
    for r, row in enumerate(rows):
        scalar = compile_spec(spec)
        scalar.output = scalar.index[of]
        scalar._live_reversed = scalar._feeding_output()[::-1]
        scalar.set_inputs(dict(zip(data.columns, row)))
        scalar.forward()
        scalar.backward_pass()
        for node, slot in scalar.index.items():
            held = values[slot]
            expected = held[r] if hasattr(held, "ndim") and held.ndim else held
            assert expected == pytest.approx(scalar.values[slot], rel=1e-13, abs=1e-13), (node, r)
            grad = grads[slot]
            if hasattr(grad, "ndim") and grad.ndim:
                assert grad[r] == pytest.approx(scale * scalar.grads[slot], rel=1e-12, abs=1e-15), (node, r)
        for param in params:
            params[param] += scale * scalar.grad(param)
    if len(rows) == len(data.rows):  # every row seen: the parameters' gradients too
        weight = spec.loss.l2.weight if spec.loss.l2 else 0.0
        penalized = set(spec.loss.l2.params or circuit.trainable) if spec.loss.l2 else set()
        for param, total in params.items():
            total += 2 * weight * circuit.value(param) if param in penalized else 0.0
            assert grads[circuit.index[param]] == pytest.approx(total, rel=1e-12, abs=1e-15), param


def test_moons_loss_and_gradients_equal_micrograds():
    """micrograd's demo, step 0: the same MLP (seed 1337), the same 100 rows,
    its loss and every parameter's gradient."""
    micrograd = pytest.importorskip("micrograd.nn")
    spec = runner.load_spec(str(CIRCUITS / "moons.yaml"))
    data = spec.netlist.data
    random.seed(1337)
    model = micrograd.MLP(2, [16, 16, 1])
    xs = [[row[0], row[1]] for row in data.rows]
    ys = [row[2] for row in data.rows]
    scores = [model([micrograd.Value(x[0]), micrograd.Value(x[1])]) for x in xs]
    losses = [(1 + -yi * score).relu() for yi, score in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum((p * p for p in model.parameters()))
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    result = runner.run_spec(spec, run_optimization=False)
    assert result.output == pytest.approx(total.data, rel=1e-12)
    names = result.circuit.trainable
    assert len(names) == len(model.parameters()) == 337
    for name, p in zip(names, model.parameters()):
        assert result.values[name] == p.data, name  # the same starting weights, bit for bit
        assert result.grads[name] == pytest.approx(p.grad, rel=1e-9, abs=1e-13), name
    accuracy = sum((yi > 0) == (s.data > 0) for yi, s in zip(ys, scores)) / len(ys)
    assert result.metrics["accuracy"] == accuracy


def test_moons_demo_reaches_95_percent_and_its_first_step_is_the_notebooks():
    result = run_source(CIRCUITS / "moons.yaml")
    run = result.optimization
    assert run.final_metrics["accuracy"] >= 0.95
    assert run.trace[1].output == pytest.approx(1.7236, abs=1e-4)  # the notebook's step 1


def test_every_kernel_matches_the_scalar_op_on_arrays():
    """Each op's array kernel (from its templates) against its scalar
    forward and derivative, element by element."""
    rng = random.Random(7)
    for op in OPS.values():
        for arity in sorted({op.min_arity, min(op.min_arity + 1, op.max_arity or op.min_arity + 1)}):
            points = []
            while len(points) < 20:
                args = tuple(rng.uniform(0.2, 2.0) for _ in range(arity))
                points.append(args)
            columns = [np.array(column) for column in zip(*points)]
            found = kernel(op, arity)
            out = found.forward(*columns)
            upstream = np.full(len(points), 1.5)
            parts = found.backward(upstream, *columns, out)
            for i, args in enumerate(points):
                value = op.forward(*args)
                assert out[i] == pytest.approx(value, rel=1e-15), (op.name, args)
                for part, local in zip(parts, op.derivative(args, value)):
                    part = np.broadcast_to(part, (len(points),))
                    assert part[i] == pytest.approx(1.5 * local, rel=1e-13), (op.name, args)


def test_a_long_product_uses_the_generic_kernel():
    arity = 40  # beyond the op table's templates
    columns = [np.array([1.0 + i / 100, 2.0]) for i in range(arity)]
    found = kernel(OPS["mul"], arity)
    out = found.forward(*columns)
    parts = found.backward(np.ones(2), *columns, out)
    for row in range(2):
        args = tuple(float(c[row]) for c in columns)
        assert out[row] == pytest.approx(OPS["mul"].forward(*args), rel=1e-14)
        for part, local in zip(parts, OPS["mul"].derivative(args, out[row])):
            assert part[row] == pytest.approx(local, rel=1e-13)


def test_nodes_without_data_stay_plain_numbers():
    spec = runner.load_spec(str(CIRCUITS / "svm-cost.yaml"))
    circuit = compile_spec(spec)
    tape = BatchedTape(circuit, [circuit.index[c] for c in spec.netlist.data.columns])
    assert not tape.per_row[circuit.index["w0"]]
    assert tape.per_row[circuit.index["score"]] and tape.per_row[circuit.index["cost"]]


def test_a_non_finite_value_names_the_gate_and_the_row():
    source = ("inputs: {w: 1}\ndata:\n  columns: [x]\n  rows: [[1], [2], [-3]]\n"
              "gates:\n  f: {op: log, in: [x]}\n  g: \"w * f\"\n")
    with pytest.raises(NumericalError) as caught:
        run_source(source)
    message = str(caught.value)
    assert "'f'" in message and "data row 3" in message


def test_minibatches_cover_every_row_once_per_epoch_in_a_seeded_order():
    spec = runner.load_spec_text("inputs: {w: 1}\ndata:\n  columns: [x]\n  rows: [[0], [1], [2], [3], [4], "
                                 "[5], [6], [7], [8], [9]]\ngates:\n  f: \"w * x\"\n", "t.yaml")
    objective = DataObjective(compile_spec(spec), spec.netlist.data, None, None)
    objective.start_batches(3, seed=5)
    seen = [objective.rows.tolist()]
    for _ in range(7):
        objective.next_batch()
        seen.append(objective.rows.tolist())
    # the reference: random.Random(seed) shuffles the rows each epoch, cut in batches of 3
    rng, expected = random.Random(5), []
    for _ in range(2):
        order = list(range(10))
        rng.shuffle(order)
        expected += [order[i:i + 3] for i in range(0, 10, 3)]
    assert seen == expected
    assert sorted(sum(seen[:4], [])) == list(range(10))


def test_step_size_decays_linearly_from_step_size_to_step_size_end():
    # loss = mean(w * x) with x = 1: the gradient is always 1, so each step moves w by its step size
    result = run_source("inputs: {w: 0}\ndata:\n  columns: [x]\n  rows: [[1], [1]]\ngates:\n  f: \"w * x\"\n"
                        "loss: {of: f}\noptimize: {step_size: 1.0, step_size_end: 0.1, iterations: 4}\n")
    ws = [row.inputs["w"] for row in result.optimization.trace]
    moves = [before - after for before, after in zip(ws, ws[1:])]
    assert moves == pytest.approx([1.0, 0.7, 0.4, 0.1], rel=1e-12)


def test_sign_metrics_by_hand():
    score = np.array([2.0, -1.0, 0.5, -0.2, 0.0])
    label = np.array([1.0, 1.0, -1.0, -1.0, 1.0])
    # predicted +1, -1, +1, -1, -1: right, wrong, wrong, right, wrong
    assert classify("accuracy", score, label) == pytest.approx(2 / 5)
    assert classify("errors", score, label) == 3
    assert classify("precision", score, label) == pytest.approx(1 / 2)  # of 2 predicted +1, 1 is +1
    assert classify("recall", score, label) == pytest.approx(1 / 3)  # of 3 labelled +1, 1 found
    assert classify("precision", -np.ones(2), np.ones(2)) == 0.0  # nothing predicted +1


def test_plain_specs_do_not_import_numpy():
    code = ("import sys, runner\nrunner.run_spec(runner.load_spec('circuits/neuron.yaml'))\n"
            "print('numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_the_scalar_objective_is_untouched_by_the_data_hooks():
    result = run_source(CIRCUITS / "neuron.yaml")
    objective = Objective(result.circuit)
    objective.start_batches(2, 0)
    objective.next_batch()
    assert objective.metrics() is None and objective.final_value(1.5) == 1.5
    assert math.isfinite(objective.value())
