"""Optimizers, bounds, overrides, divergence and the optimization examples.

References are independent of runner/optimizer.py: two-step examples worked
out by hand, and a re-implementation of the update rules as torch.optim's
documentation writes them (SGD with momentum, Adam with bias correction),
run on functions whose gradients are written out here by hand.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import SpecError, compile_spec, load_spec, load_spec_text, optimize, run_spec
from runner.cli import main

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"

MUL = """
inputs: {x: 3, y: 4}
gates: {f: {op: mul, in: [x, y]}}
"""

ROSENBROCK = """
inputs: {x: -1.2, y: 1}
gates:
  a: {op: sub, in: [1, x]}
  a2: {op: square, in: [a]}
  x2: {op: square, in: [x]}
  gap: {op: sub, in: [y, x2]}
  gap2: {op: square, in: [gap]}
  t: {op: mul, in: [100, gap2]}
  f: {op: add, in: [a2, t]}
"""

NEURON = """
inputs: {a: 1, b: 2, c: -3, x: -1, y: {value: 3, trainable: false}}
gates:
  ax: {op: mul, in: [a, x]}
  by: {op: mul, in: [b, y]}
  s: {op: add, in: [ax, by, c]}
  f: {op: sigmoid, in: [s]}
"""


def mul_f(v):
    return v["x"] * v["y"], {"x": v["y"], "y": v["x"]}


def rosenbrock_f(v):
    x, y = v["x"], v["y"]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2, {"x": -2 * (1 - x) - 400 * x * (y - x * x),
                                                   "y": 200 * (y - x * x)}


def neuron_f(v):
    s = v["a"] * v["x"] + v["b"] * 3 + v["c"]
    sig = 1 / (1 + math.exp(-s))
    d = sig * (1 - sig)
    return sig, {"a": v["x"] * d, "b": 3 * d, "c": d, "x": v["a"] * d}


FUNCTIONS = {"mul": (MUL, mul_f, {"x": 3.0, "y": 4.0}),
             "rosenbrock": (ROSENBROCK, rosenbrock_f, {"x": -1.2, "y": 1.0}),
             "neuron": (NEURON, neuron_f, {"a": 1.0, "b": 2.0, "c": -3.0, "x": -1.0})}


def torch_reference(f, start, *, goal, optimizer, lr, steps, momentum=0.9, beta1=0.9, beta2=0.999,
                    eps=1e-8, bounds=None):
    """The update rules of the torch.optim docs' pseudo-code, with `maximize`
    negating the gradient; then a clamp into the bounds. Returns the inputs of
    every state."""
    params = dict(start)
    buf, m, v = {}, {}, {}
    history = [dict(params)]
    for t in range(1, steps + 1):
        _, grads = f(params)
        for name in params:
            g = grads[name]
            if goal == "maximize":
                g = -g
            if optimizer == "sgd":
                params[name] -= lr * g
            elif optimizer == "momentum":
                buf[name] = g if t == 1 else momentum * buf[name] + g
                params[name] -= lr * buf[name]
            else:
                m[name] = beta1 * m.get(name, 0.0) + (1 - beta1) * g
                v[name] = beta2 * v.get(name, 0.0) + (1 - beta2) * g * g
                m_hat = m[name] / (1 - beta1 ** t)
                v_hat = v[name] / (1 - beta2 ** t)
                params[name] -= lr * m_hat / (math.sqrt(v_hat) + eps)
            low, high = (bounds or {}).get(name, (None, None))
            if low is not None:
                params[name] = max(params[name], low)
            if high is not None:
                params[name] = min(params[name], high)
        history.append(dict(params))
    return history


def run(text: str, optimize_block: str):
    spec = load_spec_text(text + "optimize: " + optimize_block)
    return optimize(compile_spec(spec), spec.optimize)


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return abs(a - b) <= abs_ + rel * abs(b)


# --------------------------------------------------------------------------
# Two steps by hand: f = x * y from (3, 4), maximize, step 0.01

@pytest.mark.parametrize("optimizer, step1, step2", [
    # grads (4, 3): x += 0.04, y += 0.03; then grads (4.03, 3.04)
    ("sgd", (3.04, 4.03), (3.0803, 4.0604)),
    # v = g = (4, 3); then v = 0.9 * (4, 3) + (4.03, 3.04) = (7.63, 5.74)
    ("momentum", (3.04, 4.03), (3.1163, 4.0874)),
    # step 1: m_hat = g, v_hat = g^2, so each input moves by 0.01 * g / (|g| + 1e-8);
    # step 2 (g = (4.01, 3.01)): m = 0.9 * 0.4 + 0.1 * 4.01 = 0.761, v = 0.999 * 0.016 + 0.001 * 4.01^2
    # = 0.0320641, x += 0.01 * (0.761 / 0.19) / (sqrt(0.0320641 / 0.001999) + 1e-8)
    ("adam", (3.009999999975, 4.009999999966667), (3.0200006429842, 4.0200008534986)),
])
def test_two_steps_by_hand(optimizer, step1, step2):
    result = run(MUL, f"{{optimizer: {optimizer}, step_size: 0.01, iterations: 2}}")
    rows = [(row.inputs["x"], row.inputs["y"]) for row in result.trace]
    assert rows[0] == (3.0, 4.0)
    for got, want in zip(rows[1:], [step1, step2]):
        assert close(got[0], want[0], 0, 1e-12) and close(got[1], want[1], 0, 1e-12), (got, want)


def test_minimize_mirrors_maximize_by_hand():
    # minimizing x * y from (3, 4) with momentum: v = (4, 3), then 0.9 v + (3.97, 2.96)
    result = run(MUL, "{goal: minimize, optimizer: momentum, step_size: 0.01, iterations: 2}")
    assert close(result.trace[1].inputs["x"], 2.96) and close(result.trace[1].inputs["y"], 3.97)
    assert close(result.trace[2].inputs["x"], 2.96 - 0.01 * (3.6 + 3.97))
    assert close(result.trace[2].inputs["y"], 3.97 - 0.01 * (2.7 + 2.96))


# --------------------------------------------------------------------------
# Against torch's published formulas, on several functions and settings

CASES = [
    ("mul", "maximize", "sgd", 0.01, {}),
    ("mul", "minimize", "momentum", 0.01, {"momentum": 0.5}),
    ("mul", "maximize", "adam", 0.1, {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
    ("rosenbrock", "minimize", "sgd", 0.0005, {}),
    ("rosenbrock", "minimize", "momentum", 0.0005, {}),
    ("rosenbrock", "minimize", "momentum", 0.001, {"momentum": 0.0}),
    ("rosenbrock", "minimize", "adam", 0.05, {}),
    ("rosenbrock", "maximize", "adam", 0.01, {"beta1": 0.0}),
    ("neuron", "maximize", "momentum", 0.5, {"momentum": 0.99}),
    ("neuron", "minimize", "adam", 0.02, {"beta2": 0.9}),
]


@pytest.mark.parametrize("name, goal, optimizer, lr, extra", CASES)
def test_matches_torch_formulas(name, goal, optimizer, lr, extra):
    text, f, start = FUNCTIONS[name]
    settings = ", ".join([f"goal: {goal}", f"optimizer: {optimizer}", f"step_size: {lr}", "iterations: 200",
                          *(f"{key}: {value}" for key, value in extra.items())])
    result = run(text, "{" + settings + "}")
    reference = torch_reference(f, start, goal=goal, optimizer=optimizer, lr=lr, steps=200, **extra)
    assert len(result.trace) == 201
    for row, want in zip(result.trace, reference):
        for input_name, value in want.items():
            assert close(row.inputs[input_name], value, 1e-9, 1e-12), (row.iteration, input_name)
        assert close(row.output, f(want)[0], 1e-9, 1e-12)
        for input_name, grad in f(want)[1].items():
            assert close(row.grads[input_name], grad, 1e-8, 1e-10)


def test_numerical_method_uses_the_optimizer_too():
    # forward differences of x * y are exact up to h: df/dx ~ y, so adam on the numerical
    # gradient follows the analytic run closely
    numerical = run(MUL, "{method: numerical, optimizer: adam, step_size: 0.1, iterations: 20}")
    reference = torch_reference(mul_f, {"x": 3.0, "y": 4.0}, goal="maximize", optimizer="adam",
                                lr=0.1, steps=20)
    assert abs(numerical.trace[-1].inputs["x"] - reference[-1]["x"]) < 1e-5
    plain = run(MUL, "{method: numerical, step_size: 0.1, iterations: 20}")
    assert abs(plain.trace[-1].inputs["x"] - reference[-1]["x"]) > 0.1  # sgd goes elsewhere


# --------------------------------------------------------------------------
# Bounds

def test_bounds_clamp_after_each_step():
    text = """
inputs: {x: {value: 1, min: 0, max: 1.5}, y: {value: 4, min: 3.99}}
gates: {f: {op: mul, in: [x, y]}}
"""
    spec = load_spec_text(text + "optimize: {goal: minimize, optimizer: momentum, step_size: 0.1, iterations: 30}")
    result = run_spec(spec).optimization
    reference = torch_reference(mul_f, {"x": 1.0, "y": 4.0}, goal="minimize", optimizer="momentum", lr=0.1,
                                steps=30, bounds={"x": (0, 1.5), "y": (3.99, None)})
    for row, want in zip(result.trace, reference):
        assert close(row.inputs["x"], want["x"]) and close(row.inputs["y"], want["y"])
    assert all(0 <= row.inputs["x"] <= 1.5 and row.inputs["y"] >= 3.99 for row in result.trace)
    assert result.final_inputs["y"] == 3.99  # pinned at its bound


def test_bounds_hold_for_random_search():
    text = "inputs: {x: {value: 0.5, min: 0, max: 1}}\ngates: {f: {op: neg, in: [x]}}\n"
    result = run(text, "{method: random, step_size: 0.3, iterations: 50}")
    xs = [row.inputs["x"] for row in result.trace]
    assert min(xs) >= 0 and xs[-1] == 0.0  # minimizing -x would run off; maximizing -x stops at 0


@pytest.mark.parametrize("inputs, at, fragment", [
    ("{x: {value: 1, min: 2}}", "2}", "min 2.0 is above the input's value 1.0"),
    ("{x: {value: 1, max: 0.5}}", "0.5", "max 0.5 is below the input's value 1.0"),
    ("{x: {min: 3, max: 2}}", "2}", "max 2.0 is below min 3.0"),  # and 'value' is missing
])
def test_bounds_must_contain_the_value(inputs, at, fragment):
    line = "inputs: " + inputs
    with pytest.raises(SpecError) as err:
        load_spec_text(line + "\ngates: {f: {op: neg, in: [x]}}\n")
    problem = next(p for p in err.value.problems if "missing" not in p.message)
    assert (problem.line, problem.column) == (1, line.index(at) + 1), problem
    assert fragment in problem.message


# --------------------------------------------------------------------------
# Which settings go with which optimizer

@pytest.mark.parametrize("block, at, fragment", [
    ("{momentum: 0.5}", "0.5", "'momentum' is a setting of optimizer momentum, but the optimizer is sgd"),
    ("{optimizer: adam, momentum: 0.5}", "0.5", "but the optimizer is adam"),
    ("{optimizer: momentum, beta1: 0.5}", "0.5", "'beta1' is a setting of optimizer adam"),
    ("{method: random, optimizer: sgd}", "sgd", "random search uses no optimizer"),
    ("{optimizer: adam, beta2: 1}", "1}", "must be at least 0 and below 1"),
    ("{optimizer: adam, eps: 0}", "0}", "must be greater than 0"),
    ("{optimizer: nesterov}", "nesterov", "expected one of sgd, momentum, adam"),
])
def test_optimizer_settings_are_checked(block, at, fragment):
    line = "optimize: " + block
    with pytest.raises(SpecError) as err:
        load_spec_text(MUL.lstrip("\n") + line + "\n")
    problem = err.value.problems[0]
    assert (problem.line, problem.column) == (3, line.index(at) + 1), problem
    assert fragment in problem.message


# --------------------------------------------------------------------------
# Divergence

DIVERGES = """
inputs: {x: 1, k: {value: 2, trainable: false}}
gates:
  e: {op: exp, in: [x]}
  f: {op: mul, in: [e, k]}
optimize: {step_size: 1, iterations: 50}
"""


def test_divergence_keeps_the_finite_rows():
    result = run_spec(load_spec_text(DIVERGES)).optimization
    # step 1: x = 1 + 2e = 6.4366; step 2: x = 6.4366 + 2 e^6.4366 = 1254.95, and e^1254.95 overflows
    assert result.stop == "diverged" and result.steps == 1
    assert [row.iteration for row in result.trace] == [0, 1]
    assert close(result.final_inputs["x"], 1 + 2 * math.e)
    assert result.error.iteration == 2 and result.error.gate == "e"
    assert close(result.error.inputs[0][1], 1 + 2 * math.e + 2 * math.exp(1 + 2 * math.e))


def test_divergence_exits_3_and_prints_the_last_finite_inputs(tmp_path):
    spec = tmp_path / "diverges.yaml"
    spec.write_text(DIVERGES)
    trace = tmp_path / "t.jsonl"
    result = CliRunner().invoke(main, [str(spec), "--format", "json", "--trace", str(trace)])
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["optimization"]["stop"] == "diverged"
    assert [row["iteration"] for row in document["optimization"]["trace"]] == [0, 1]
    assert "optimization step 2: gate 'e' (exp) overflows" in result.stderr
    assert "inputs: x=1254.95" in result.stderr
    assert f"last finite inputs (step 1): x={1 + 2 * math.e!r}" in result.stderr
    assert [json.loads(line)["iteration"] for line in trace.read_text().splitlines()] == [0, 1]
    table = CliRunner().invoke(main, [str(spec)])
    assert table.exit_code == 3 and "diverged at step 2" in table.stdout


def test_an_overflowing_step_is_a_divergence_too():
    # df/dx = 1e10, so a step of 1e300 * 1e10 takes x itself past the largest float
    text = "inputs: {x: 2, k: {value: 1.0e+10, trainable: false}}\ngates: {f: {op: mul, in: [x, k]}}\n"
    result = run(text, "{step_size: 1.0e+300, iterations: 5}")
    assert result.stop == "diverged" and result.error.gate == "x"
    assert [row.iteration for row in result.trace] == [0] and "steps to inf" in str(result.error)


# --------------------------------------------------------------------------
# Command-line overrides

@pytest.fixture
def cli_json(tmp_path):
    def invoke(spec_text: str, *args: str):
        path = tmp_path / "spec.yaml"
        path.write_text(spec_text)
        result = CliRunner().invoke(main, [str(path), "--format", "json", *args])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["optimization"]
    return invoke


def test_overrides_replace_the_spec_settings(cli_json):
    text = MUL + "optimize: {step_size: 0.01, iterations: 1}\n"
    run_ = cli_json(text, "--iterations", "3", "--step-size", "0.5", "--goal", "minimize",
                    "--optimizer", "momentum")
    assert (run_["iterations"], run_["step_size"], run_["goal"], run_["optimizer"]) == (3, 0.5, "minimize",
                                                                                         "momentum")
    reference = torch_reference(mul_f, {"x": 3.0, "y": 4.0}, goal="minimize", optimizer="momentum",
                                lr=0.5, steps=3)
    assert all(close(row["inputs"]["x"], want["x"]) for row, want in zip(run_["trace"], reference))


def test_method_seed_and_tolerance_overrides(cli_json):
    text = MUL + "optimize: {step_size: 0.01, iterations: 5}\n"
    random_run = cli_json(text, "--method", "random", "--seed", "3")
    assert random_run["method"] == "random" and random_run["trace"][1]["grads"] is None
    rng = random.Random(3)
    x, y = 3 + 0.01 * rng.uniform(-1, 1), 4 + 0.01 * rng.uniform(-1, 1)
    first = random_run["trace"][1]["inputs"]
    assert (first["x"], first["y"]) == ((x, y) if x * y > 12 else (3.0, 4.0))
    ridge = CIRCUITS / "distance-ridge-tolerance.yaml"
    result = CliRunner().invoke(main, [str(ridge), "--format", "json", "--tolerance", "1e-4"])
    document = json.loads(result.stdout)["optimization"]
    # the gain of step n is 0.0784 * 0.9216^(n-1); below 1e-4 first at n = 1 + ceil(ln(1e-4/0.0784)/ln 0.9216)
    assert document["stop"] == "tolerance"
    assert document["steps"] == 1 + math.ceil(math.log(1e-4 / 0.0784) / math.log(0.9216))


def test_override_without_an_optimize_block_creates_one(cli_json):
    run_ = cli_json(MUL, "--iterations", "2")
    assert run_["step_size"] == 0.01 and run_["goal"] == "maximize" and run_["steps"] == 2


def test_no_optimize_skips_the_block(tmp_path):
    result = CliRunner().invoke(main, [str(CIRCUITS / "rosenbrock.yaml"), "--format", "json", "--no-optimize"])
    assert result.exit_code == 0 and json.loads(result.stdout)["optimization"] is None


@pytest.mark.parametrize("args, fragment", [
    (["--iterations", "-1"], "--iterations"),
    (["--iterations", "2.5"], "--iterations"),
    (["--step-size", "0"], "must be a finite number greater than 0"),
    (["--step-size", "inf"], "must be a finite number greater than 0"),
    (["--tolerance", "nan"], "must be a finite number greater than 0"),
    (["--method", "newton"], "--method"),
    (["--goal", "up"], "--goal"),
    (["--seed", "x"], "--seed"),
    (["--no-optimize", "--iterations", "3"], "--no-optimize cannot be combined with --iterations"),
])
def test_invalid_overrides_are_usage_errors(args, fragment):
    result = CliRunner().invoke(main, [str(CIRCUITS / "multiply-gate.yaml"), *args])
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_override_that_clashes_with_the_spec_is_exit_2(tmp_path):
    result = CliRunner().invoke(main, [str(CIRCUITS / "rosenbrock.yaml"), "--method", "random"])
    assert result.exit_code == 2
    assert "rosenbrock.yaml: error: with the command-line settings, optimize.optimizer: random search " \
           "uses no optimizer" in result.stderr


def test_set_outside_the_bounds_is_exit_2():
    result = CliRunner().invoke(main, [str(CIRCUITS / "random-search-box.yaml"), "--set", "x=3"])
    assert result.exit_code == 2
    assert "--set x=3: outside the input's bounds (min 0, max 2)" in result.stderr


# --------------------------------------------------------------------------
# The examples in circuits/, against computations written here

def test_rosenbrock_example_matches_the_torch_formulas():
    spec = load_spec(str(CIRCUITS / "rosenbrock.yaml"))
    result = run_spec(spec, check=True)
    assert result.check.passed
    reference = torch_reference(rosenbrock_f, {"x": -1.2, "y": 1.0}, goal="minimize", optimizer="adam",
                                lr=0.05, steps=2000)[-1]
    expected = spec.expect.optimized
    assert close(expected.inputs["x"].value, reference["x"], 1e-9)
    assert close(expected.inputs["y"].value, reference["y"], 1e-9)
    assert close(expected.output.value, rosenbrock_f(reference)[0], 1e-6, 1e-15)
    assert abs(reference["x"] - 1) < 1e-3 and abs(reference["y"] - 1) < 1e-3  # it did reach the minimum


def test_ridge_tolerance_example_matches_the_closed_form():
    spec = load_spec(str(CIRCUITS / "distance-ridge-tolerance.yaml"))
    result = run_spec(spec, check=True)
    assert result.check.passed
    # d = x - y shrinks by 0.96 a step; step n gains 0.0784 * 0.9216^(n-1)
    steps = next(n for n in range(1, 10_000) if 0.0784 * 0.9216 ** (n - 1) < 1e-9)
    assert (result.optimization.steps, result.optimization.stop) == (steps, "tolerance") == (224, "tolerance")
    d = 0.96 ** steps
    expected = spec.expect.optimized
    assert abs(expected.inputs["x"].value - (3.5 - d / 2)) < 1e-12
    assert abs(expected.inputs["y"].value - (3.5 + d / 2)) < 1e-12
    assert abs(expected.output.value - (100 - d * d)) < 1e-12


def random_search(f, start, *, goal, step, iterations, seed, bounds):
    """Local search as the guide describes it, written out independently."""
    rng = random.Random(seed)
    best, value = dict(start), f(start)
    for _ in range(iterations):
        tried = {}
        for name, x in best.items():
            low, high = bounds.get(name, (-math.inf, math.inf))
            tried[name] = min(max(x + step * rng.uniform(-1, 1), low), high)
        candidate = f(tried)
        if (candidate > value) if goal == "maximize" else (candidate < value):
            best, value = tried, candidate
    return best, value


@pytest.mark.parametrize("name, f, start, goal, bounds", [
    ("random-search-box.yaml", lambda v: (v["x"] - 5) ** 2 + (v["y"] - 5) ** 2, {"x": 0.5, "y": 1.5},
     "minimize", {"x": (0, 2), "y": (0, 2)}),
    ("multiply-gate-random.yaml", lambda v: v["x"] * v["y"], {"x": -2, "y": 3}, "maximize", {}),
])
def test_random_search_examples_match_a_plain_loop(name, f, start, goal, bounds):
    spec = load_spec(str(CIRCUITS / name))
    settings = spec.optimize
    best, value = random_search(f, start, goal=goal, step=settings.step_size, iterations=settings.iterations,
                                seed=settings.seed, bounds=bounds)
    expected = spec.expect.optimized
    assert close(expected.output.value, value)
    for input_name, entry in expected.inputs.items():
        assert close(entry.value, best[input_name])
    assert run_spec(spec, check=True).check.passed


# --------------------------------------------------------------------------
# stop "stalled": a step that changes nothing, and will change nothing again

TINY = "inputs: {x: 1.0e-320}\ngates: {f: {op: mul, in: [x, x]}}\n"


def _stall_run(text: str, **settings):
    spec = load_spec_text(text)
    from runner.spec.models import Optimize

    return optimize(compile_spec(spec), Optimize(**settings))


def test_sgd_stops_at_the_first_step_lost_in_rounding():
    run = _stall_run(TINY, goal="minimize", iterations=1_000_000, step_size=0.01)
    assert run.stop == "stalled"
    last, before = run.trace[-1], run.trace[-2]
    assert last.inputs == before.inputs  # the last step changed nothing
    # and every step before it did change x (by hand: x - 0.01 * 2x rounds to x only when 0.02x < half an ulp)
    assert all(a.inputs["x"] != b.inputs["x"] for a, b in zip(run.trace[:-2], run.trace[1:-1]))
    x = before.inputs["x"]
    assert x - 0.01 * (2 * x) == x
    assert run.steps < 1000


def test_a_bound_that_holds_every_input_stalls():
    text = "inputs: {x: {value: 0.5, max: 1}}\ngates: {f: {op: mul, in: [x, 2]}}\n"
    run = _stall_run(text, iterations=1000, step_size=0.1)
    assert run.stop == "stalled"
    assert run.final_inputs["x"] == 1.0
    assert run.steps == 4  # by hand, steps of 0.1 * 2: 0.5 -> 0.7 -> 0.9 -> 1 (1.1 clamped) -> 1 (unchanged)

def test_momentum_stalls_only_once_its_velocity_stops_changing():
    text = "inputs: {x: {value: 0.5, max: 1}}\ngates: {f: {op: mul, in: [x, 2]}}\n"
    run = _stall_run(text, iterations=100_000, step_size=0.1, optimizer="momentum", momentum=0.5)
    assert run.stop == "stalled"
    # v = 0.5 v + 2 converges to 4; the run ends once it is exactly 4 in floats, long after x reached its bound
    clamped_from = next(row.iteration for row in run.trace if row.inputs["x"] == 1.0)
    assert run.steps > clamped_from + 10
    v = 0.0
    for _ in range(run.steps):
        v = 0.5 * v + 2
    assert v == 4.0


def test_adam_stalls_at_a_bound_once_its_averages_settle():
    text = "inputs: {x: {value: 0.5, max: 1}}\ngates: {f: {op: mul, in: [x, 2]}}\n"
    run = _stall_run(text, iterations=100_000, step_size=0.1, optimizer="adam")
    assert run.stop == "stalled"
    assert 1 - 0.999 ** run.steps == 1.0  # the bias corrections are exactly 1 from then on
    assert run.final_inputs["x"] == 1.0


def test_a_run_that_keeps_moving_does_not_stall():
    run = _stall_run(MUL, iterations=50, step_size=0.01)
    assert run.stop == "iterations" and run.steps == 50


def test_random_search_never_stalls():
    run = _stall_run(TINY, method="random", goal="minimize", iterations=200, step_size=1e-300)
    assert run.stop == "iterations" and run.steps == 200


def test_stalled_is_said_on_screen_and_in_json(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY + "optimize: {goal: minimize, iterations: 1000000, step_size: 0.01}\n")
    table = CliRunner().invoke(main, [str(path)])
    assert "steps (stalled: the last step changed no input)" in table.output
    document = json.loads(CliRunner().invoke(main, ["-f", "json", str(path)]).output)
    assert document["optimization"]["stop"] == "stalled"
    trace = tmp_path / "trace.json"
    CliRunner().invoke(main, ["--trace", str(trace), "--quiet", str(path)])
    assert json.loads(trace.read_text())["stop"] == "stalled"
