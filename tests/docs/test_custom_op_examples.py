"""The custom-op examples (softplus, the smoothed hinge, swish) against
closed forms and central differences written here, independently of the engine."""

from __future__ import annotations

import math

import pytest

import runner
from helpers import CIRCUITS
from reference import central_difference


def sigmoid(z: float) -> float:
    return 0.5 * (1.0 + math.tanh(z / 2.0))


def run(name: str) -> runner.RunResult:
    return runner.run_spec(runner.load_spec(str(CIRCUITS / f"{name}.yaml")))


def test_softplus_example():
    def f(w, x, b):
        return math.log1p(math.exp(w * x + b))

    result = run("softplus")
    point = [2.0, 0.5, -0.5]
    assert result.output == pytest.approx(f(*point), rel=1e-14)
    for index, name in enumerate("wxb"):
        assert result.grads[name] == pytest.approx(central_difference(f, point, index), rel=1e-7)


def _smooth_hinge(m: float) -> float:
    """The textbook piecewise definition (the example writes it with min and max)."""
    if m >= 1:
        return 0.0
    if m <= 0:
        return 0.5 - m
    return (1 - m) ** 2 / 2


POINTS = [((1.2, 0.7), 1), ((-0.3, 0.5), -1), ((2.0, 0.4), 1)]


def test_smooth_hinge_example():
    def loss(a, b, c):
        return sum(_smooth_hinge(label * (a * x + b * y + c)) for (x, y), label in POINTS)

    result = run("smooth-hinge")
    point = [1.0, -2.0, -1.0]
    assert result.output == pytest.approx(loss(*point), abs=1e-12)
    for index, name in enumerate("abc"):
        assert result.grads[name] == pytest.approx(central_difference(loss, point, index), rel=1e-7)


def test_smooth_hinge_op_on_every_piece_and_its_joins():
    spec = runner.load_spec(str(CIRCUITS / "smooth-hinge.yaml"))
    op = spec.netlist.ops["smooth_hinge"]
    for m in (-3.0, -0.5, 0.0, 0.3, 0.999, 1.0, 2.5):
        assert op.forward(m) == pytest.approx(_smooth_hinge(m), abs=1e-15)
        assert op.derivative((m,), op.forward(m))[0] == pytest.approx(
            central_difference(_smooth_hinge, [m], 0), abs=1e-6)


def test_swish_example_and_its_descent():
    def f(w, b, x=1.5):
        z = w * x + b
        return z * sigmoid(z)

    result = run("swish")
    assert result.output == pytest.approx(f(0.8, -0.2), rel=1e-14)
    assert result.grads["w"] == pytest.approx(central_difference(f, [0.8, -0.2], 0), rel=1e-7)
    assert result.grads["b"] == pytest.approx(central_difference(f, [0.8, -0.2], 1), rel=1e-7)
    w, b = 0.8, -0.2
    for _ in range(30):  # plain gradient descent, with swish's textbook derivative
        z = w * 1.5 + b
        slope = sigmoid(z) + z * sigmoid(z) * (1 - sigmoid(z))
        w, b = w - 0.1 * slope * 1.5, b - 0.1 * slope
    final = result.optimization.final_inputs
    assert final["w"] == pytest.approx(w, rel=1e-12) and final["b"] == pytest.approx(b, rel=1e-12)
    assert result.optimization.final_output == pytest.approx(f(w, b), rel=1e-12)
