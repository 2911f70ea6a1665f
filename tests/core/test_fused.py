"""The fused path (dense layers as matrix products, core/fused.py) against
the plain batched path it accelerates: same loss, gradients and metrics."""

from __future__ import annotations

import pytest

import runner
from helpers import CIRCUITS, run_source

from runner.core.compiler import compile_spec
from runner.core.data_objective import DataObjective

pytest.importorskip("numpy")


def both(spec):
    """A plain and a fused objective of the same spec."""
    plain = DataObjective(compile_spec(spec), spec.netlist.data, spec.loss, spec.metrics)
    fused = DataObjective(compile_spec(spec), spec.netlist.data, spec.loss, spec.metrics)
    fused.accelerate()
    return plain, fused


def assert_same(plain, fused):
    value, grads = plain.value_and_grad()
    fused_value, fused_grads = fused.value_and_grad()
    assert fused_value == pytest.approx(value, rel=1e-12)
    assert fused.names == plain.names
    for name, a, b in zip(plain.names, grads, fused_grads):
        assert b == pytest.approx(a, rel=1e-10, abs=1e-14), name
    assert fused.metrics() == plain.metrics()


@pytest.mark.parametrize("name,layers", [("moons", 3), ("two-layer-net", 2), ("svm-train", 1), ("svm-cost", 1)])
def test_examples_fuse_and_agree(name, layers):
    spec = runner.load_spec(str(CIRCUITS / f"{name}.yaml"))
    plain, fused = both(spec)
    assert len(fused.fused.layers) == layers
    assert_same(plain, fused)


MIXED = """\
inputs: {a: 0.3, b: -0.7, c: 0.1, d: 0.9, e: -0.2}
data:
  columns: [x, y, t]
  rows: [[0.5, -1.0, 1], [1.5, 0.25, -1], [-0.75, 2.0, 1], [2.0, -0.5, -1]]
gates:
  p: "a*x + b*y"               # a neuron without bias or activation
  q: "tanh(c*x + d*y + e)"     # with bias and tanh: another layer (its pattern differs)
  r: "a*x + b*y + e"           # reads the same inputs as p, but with a bias: a layer of its own
  s: "x*y + a*p"               # x*y has no parameter: not a neuron
  u: "d*q + c*p + 0.5*r"       # 0.5*r has a constant, not a parameter: only d*q + c*p is a neuron
  shared: "a*x + c*y"          # a neuron like p (same inputs): p's layer; read twice, which is fine
  v: "shared * 2 + shared"
  score: "u + s + v"
  hinge: "max(0, 1 - t*score)"
loss: {of: hinge, l2: {weight: 0.01}}
metrics:
  accuracy: {score: score, label: t}
  recall: {score: p, label: t}    # a metric on a neuron's output
"""


def test_shapes_that_must_stay_plain_agree_too():
    spec = runner.load_spec_text(MIXED, "mixed.yaml")
    plain, fused = both(spec)
    outs = {fused.circuit.names[layer.outs[0]] for layer in fused.fused.layers}
    assert {"p", "q", "r"} <= outs
    assert "v" not in outs and "s" not in outs and "u" not in outs
    assert_same(plain, fused)


def test_a_fused_training_run_follows_the_plain_one():
    spec = runner.load_spec(str(CIRCUITS / "moons.yaml"))
    settings = spec.optimize.model_copy(update={"iterations": 20})
    from runner.optimization.optimizer import optimize

    plain, fused = both(spec)
    plain.accelerate = lambda: False  # keep the plain path through the run
    first = optimize(plain, settings)
    second = optimize(fused, settings)
    assert fused.fused is not None and plain.fused is None
    for a, b in zip(first.trace, second.trace):
        assert b.output == pytest.approx(a.output, rel=1e-9)
    assert second.final_metrics == first.final_metrics


def test_reports_after_training_come_from_the_plain_path():
    result = run_source(CIRCUITS / "moons.yaml")
    assert result.objective.fused is not None  # the run used it
    assert result.values["h1.n0.1"].shape == (100,)  # a node inside a fused neuron still has its rows
