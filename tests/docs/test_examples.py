"""The example circuits retell the seed; their numbers are checked here
against closed forms written independently of the engine."""

from __future__ import annotations

import math

import pytest

import runner
from helpers import CIRCUITS

EXAMPLES = sorted(CIRCUITS.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_loads_runs_and_passes_its_expectations(path):
    spec = runner.load_spec(str(path))
    assert spec.expect is not None, f"{path.name} needs an expect block"
    assert spec.description, f"{path.name} should say what it shows"
    result = runner.run_spec(spec, check=True)
    assert result.check.passed, result.check.as_dict()
    assert path.read_text().lstrip().startswith("# yaml-language-server: $schema=")


def run(name: str) -> runner.RunResult:
    return runner.run_spec(runner.load_spec(str(CIRCUITS / f"{name}.yaml")))


def test_multiply_gate_one_step_uphill():
    result = run("multiply-gate")
    assert result.output == 12.0 and result.grads == {"x": 4.0, "y": 3.0, "f": 1.0}
    final = result.optimization.final_inputs
    assert final == {"x": 3.0 + 0.01 * 4, "y": 4.0 + 0.01 * 3}
    assert result.optimization.final_output == pytest.approx(12.2512, abs=1e-12)


def test_random_local_search_matches_karpathys_loop():
    import random

    rng, x, y = random.Random(0), -2.0, 3.0
    best = x * y
    for _ in range(100):
        x_try, y_try = x + 0.01 * rng.uniform(-1, 1), y + 0.01 * rng.uniform(-1, 1)
        if x_try * y_try > best:
            x, y, best = x_try, y_try, x_try * y_try
    result = run("multiply-gate-random")
    assert result.optimization.final_inputs == {"x": x, "y": y}
    assert result.optimization.final_output == best
    assert all(row.grads is None for row in result.optimization.trace)


def test_add_and_max_gates():
    add, mx = run("add-gate"), run("max-gate")
    assert (add.output, add.grads["x"], add.grads["y"]) == (7.0, 1.0, 1.0)
    assert (mx.output, mx.grads["x"], mx.grads["y"]) == (4.0, 0.0, 1.0)


def test_add_multiply_chain_rule():
    result = run("add-multiply")
    assert result.output == -12.0
    assert {k: result.grads[k] for k in "xyz"} == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert result.optimization.final_inputs["z"] == -4.0  # fixed input
    assert result.optimization.final_output == pytest.approx((-2.04 + 4.96) * -4, abs=1e-12)


def test_neuron_matches_the_closed_form():
    result = run("neuron")
    s = 1 / (1 + math.exp(-2.0))
    local = s * (1 - s)
    assert result.output == pytest.approx(s, rel=1e-15)
    expected = {"a": -1 * local, "b": 3 * local, "c": local, "x": 1 * local, "y": 2 * local}
    for name, value in expected.items():
        assert result.grads[name] == pytest.approx(value, rel=1e-12)
    # Karpathy's one step: every input moves by 0.01 * its gradient -> 0.8825
    moved = {k: v + 0.01 * expected[k] for k, v in {"a": 1, "b": 2, "c": -3, "x": -1, "y": 3}.items()}
    z = moved["a"] * moved["x"] + moved["b"] * moved["y"] + moved["c"]
    assert result.optimization.final_output == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-12)
    assert abs(result.optimization.final_output - 0.8825) < 1e-4  # the published value


def test_distance_ridge_numerical_ascent_closed_form():
    # Forward differences of 100 - (x - y)^2: gx = -2d - h, gy = 2d - h with d = x - y.
    # Each step: d <- d (1 - 4 step); x + y <- x + y - 2 step h.
    step, h, n = 0.01, 1e-4, 100
    d = -1.0 * (1 - 4 * step) ** n
    total = 7.0 - 2 * step * h * n
    result = run("distance-ridge")
    final = result.optimization.final_inputs
    assert final["x"] == pytest.approx((total + d) / 2, abs=1e-9)
    assert final["y"] == pytest.approx((total - d) / 2, abs=1e-9)
    assert result.optimization.final_output == pytest.approx(100 - d * d, abs=1e-9)
    assert len(result.optimization.trace) == n + 1
