"""Optimization semantics of SPEC.md, against plain loops written here."""

from __future__ import annotations

import math

import pytest

import runner
from runner.spec.models import Optimize


def compiled(inputs, gates, **optimize):
    spec = runner.Spec.model_validate({"inputs": inputs, "gates": gates, "optimize": optimize})
    return runner.compile_spec(spec), spec.optimize


BOWL = {"dx": {"op": "sub", "in": ["x", 1]}, "dy": {"op": "sub", "in": ["y", -2]},
        "sx": {"op": "square", "in": ["dx"]}, "sy": {"op": "square", "in": ["dy"]},
        "f": {"op": "add", "in": ["sx", "sy"]}}  # (x - 1)^2 + (y + 2)^2


def test_minimize_bowl_with_analytic_gradient():
    circuit, settings = compiled({"x": 4, "y": 3}, BOWL, goal="minimize", step_size=0.1, iterations=30)
    result = runner.optimize(circuit, settings)
    x, y = 4.0, 3.0
    for _ in range(30):
        x, y = x - 0.1 * 2 * (x - 1), y - 0.1 * 2 * (y + 2)
    assert result.final_inputs["x"] == pytest.approx(x, rel=1e-12)
    assert result.final_inputs["y"] == pytest.approx(y, rel=1e-12)
    assert [row.iteration for row in result.trace] == list(range(31))
    assert result.trace[0].grads == {"x": 6.0, "y": 10.0}
    assert result.steps == 30 and result.stop == "iterations"


def test_fixed_inputs_do_not_move():
    circuit, settings = compiled({"x": 4, "y": {"value": 3, "trainable": False}}, BOWL,
                                 goal="minimize", step_size=0.1, iterations=5)
    result = runner.optimize(circuit, settings)
    assert result.final_inputs["y"] == 3.0
    assert set(result.trace[-1].inputs) == {"x"}


def test_tolerance_stops_after_first_small_change():
    circuit, settings = compiled({"x": 4, "y": 3}, BOWL, goal="minimize", step_size=0.1,
                                 iterations=10_000, tolerance=1e-6)
    result = runner.optimize(circuit, settings)
    outputs = [row.output for row in result.trace]
    assert result.stop == "tolerance" and result.steps == len(outputs) - 1 < 10_000
    assert abs(outputs[-1] - outputs[-2]) < 1e-6
    assert all(abs(a - b) >= 1e-6 for a, b in zip(outputs[:-2], outputs[1:-1]))


def test_numerical_method_uses_forward_differences():
    circuit, settings = compiled({"x": 3, "y": 4}, {"f": {"op": "mul", "in": ["x", "x", "y"]}},
                                 method="numerical", h=0.01, step_size=0.001, iterations=2)
    result = runner.optimize(circuit, settings)
    x, y, h = 3.0, 4.0, 0.01
    f = lambda x, y: x * x * y  # noqa: E731
    for _ in range(2):
        base = f(x, y)
        gx, gy = (f(x + h, y) - base) / h, (f(x, y + h) - base) / h
        x, y = x + 0.001 * gx, y + 0.001 * gy
    assert result.final_inputs == pytest.approx({"x": x, "y": y}, rel=1e-12)
    assert result.trace[0].grads["x"] == pytest.approx(4 * (6 + h), rel=1e-9)


def test_random_search_is_reproducible_and_never_worse():
    def run(seed):
        circuit, settings = compiled({"x": 4, "y": 3}, BOWL, goal="minimize", method="random",
                                     step_size=0.5, iterations=200, seed=seed)
        return runner.optimize(circuit, settings)

    a, b, c = run(1), run(1), run(2)
    assert a.final_inputs == b.final_inputs and a.final_inputs != c.final_inputs
    outputs = [row.output for row in a.trace]
    assert all(later <= earlier for earlier, later in zip(outputs, outputs[1:]))
    assert outputs[-1] < outputs[0] / 10


def test_zero_iterations_has_only_the_start_row():
    circuit, settings = compiled({"x": 4, "y": 3}, BOWL, iterations=0)
    result = runner.optimize(circuit, settings)
    assert len(result.trace) == 1 and result.steps == 0 and result.final_output == 34.0


def test_divergence_keeps_the_finite_trace_and_names_the_gate():
    circuit, settings = compiled({"x": 2}, {"f": {"op": "exp", "in": ["x"]}, "g": {"op": "exp", "in": ["f"]}},
                                 step_size=100.0, iterations=50)
    result = runner.optimize(circuit, settings)
    assert result.stop == "diverged" and result.error is not None
    assert result.error.iteration is not None and result.error.iteration >= 1
    assert result.error.gate in {"f", "g"}
    assert len(result.trace) == result.error.iteration  # rows 0 .. iteration-1 are finite
    assert all(math.isfinite(row.output) for row in result.trace)


def test_defaults_follow_the_spec():
    settings = Optimize()
    assert (settings.goal, settings.method, settings.step_size, settings.iterations, settings.h,
            settings.seed, settings.tolerance) == ("maximize", "analytic", 0.01, 100, 1e-4, 0, None)


def test_tolerance_with_random_search_is_an_error(cli, write):
    path = write("r.yaml", "inputs: {x: 1}\ngates: {f: {op: neg, in: [x]}}\noptimize: {method: random, tolerance: 0.1}\n")
    result = cli(path)
    assert result.exit_code == 2
    assert f"{path}:3:39: error: optimize.tolerance: random search has no tolerance stop" in result.stderr
