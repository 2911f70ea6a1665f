"""`--gradcheck`: analytic gradients against central differences, kinks flagged.

References are hand-derived (d sin x = cos x, d x^3 = 3x^2, the neuron's
s(1-s) chain) or computed in the test from the function itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from runner import compile_spec, load_spec_text
from runner.results.gradcheck import ATOL, EPS, RTOL, gradcheck
from runner.ops import OPS
from helpers import invoke as run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def write(tmp_path: Path):
    def _write(text: str, name: str = "spec.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return _write


def rows(stdout: str) -> dict[str, list[str]]:
    """The gradcheck table as {input: [analytic, numerical, difference, allowed, status...]}."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["input"])
    table = {}
    for line in lines[start + 1:]:
        if not line.startswith("  ") or ":" in line:
            break
        cells = line.split()
        table[cells[0]] = cells[1:]
    return table


def gradcheck_json(*args: str) -> dict:
    result = run("--gradcheck", "--format", "json", *args)
    return json.loads(result.stdout)["gradcheck"]


def test_torch_float64_defaults():
    assert (EPS, ATOL, RTOL) == (1e-6, 1e-5, 1e-3)


def test_neuron_passes_with_hand_derived_gradients():
    report = gradcheck_json(str(ROOT / "circuits" / "neuron.yaml"))
    s = 1 / (1 + math.exp(-2.0))  # z = 1*(-1) + 2*3 - 3 = 2
    local = s * (1 - s)
    expected = {"a": -1 * local, "b": 3 * local, "c": local, "x": 1 * local, "y": 2 * local}
    assert report["passed"] is True
    for name, grad in expected.items():
        entry = report["inputs"][name]
        assert entry["status"] == "ok"
        assert entry["analytic"] == pytest.approx(grad, rel=1e-12)
        assert entry["numerical"] == pytest.approx(grad, rel=1e-7)
        assert entry["difference"] == abs(entry["analytic"] - entry["numerical"])
        assert entry["allowed"] == pytest.approx(1e-5 + 1e-3 * abs(entry["numerical"]))


def test_table_reports_both_values_and_difference(write):
    result = run("--gradcheck", write("inputs: {x: 0.5}\ngates:\n  f: {op: sin, in: [x]}\n"))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("gradcheck PASS ")
    cells = rows(result.stdout)["x"]
    assert float(cells[0]) == pytest.approx(math.cos(0.5), rel=1e-9)
    assert float(cells[1]) == pytest.approx(math.cos(0.5), rel=1e-8)
    assert cells[-1] == "ok"


def test_wrong_derivative_is_a_mismatch(write, monkeypatch):
    # a bug planted in the op table: d sin x = sin x instead of cos x
    buggy = OPS["sin"]._replace(derivative=lambda args, out: (math.sin(args[0]),))
    monkeypatch.setitem(OPS, "sin", buggy)
    result = run("--gradcheck", write("inputs: {x: 0.5, y: 2}\ngates:\n  s: {op: sin, in: [x]}\n"
                                      "  f: {op: mul, in: [s, y]}\n"))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("gradcheck FAIL ")
    table = rows(result.stdout)
    assert table["x"][-1] == "MISMATCH"
    assert float(table["x"][0]) == pytest.approx(2 * math.sin(0.5), rel=1e-9)  # the bug
    assert float(table["x"][1]) == pytest.approx(2 * math.cos(0.5), rel=1e-8)  # the truth
    assert table["y"][-1] == "ok"  # df/dy = sin x is right


@pytest.mark.parametrize("gates, inputs, gate, why", [
    ("  f: {op: relu, in: [x]}", "{x: 0, y: 1}", "f", "relu at 0"),
    ("  f: {op: abs, in: [x]}", "{x: 0, y: 1}", "f", "abs at 0"),
    ("  f: {op: max, in: [x, y]}", "{x: 3, y: 3}", "f", "max with a tie"),
    ("  f: {op: min, in: [x, y]}", "{x: -2, y: -2}", "f", "min with a tie"),
])
def test_kinks_are_flagged_not_failed(write, gates, inputs, gate, why):
    result = run("--gradcheck", write(f"inputs: {inputs}\ngates:\n{gates}\n"))
    assert result.exit_code == 0, result.stdout
    assert "gradcheck PASS" in result.stdout and "not checkable here" in result.stdout
    assert rows(result.stdout)["x"][-3:] == ["not", "differentiable", "here"]
    assert f"x: not differentiable here: gate '{gate}' is {why} (not counted as a failure)" in result.stdout


def test_relu_at_zero_disagrees_yet_is_not_a_bug(write):
    # relu at 0: analytic 0 (the table's choice), central difference (eps - 0) / 2eps = 0.5
    report = gradcheck_json(write("inputs: {x: 0}\ngates:\n  f: {op: relu, in: [x]}\n"))
    entry = report["inputs"]["x"]
    assert (entry["analytic"], entry["numerical"], entry["status"]) == (0.0, pytest.approx(0.5), "kink")
    assert report["passed"] is True


def test_kink_only_flags_inputs_that_reach_it(write):
    # relu(x) at 0 plus y^2: y's derivative exists and is checked normally
    spec = write("inputs: {x: 0, y: 1.5}\ngates:\n  r: {op: relu, in: [x]}\n"
                 "  q: {op: square, in: [y]}\n  f: {op: add, in: [r, q]}\n")
    report = gradcheck_json(spec)
    assert report["inputs"]["x"]["status"] == "kink"
    assert report["inputs"]["y"]["status"] == "ok"
    assert report["inputs"]["y"]["numerical"] == pytest.approx(3.0, rel=1e-8)


def test_kink_within_eps_flagged_and_gone_with_smaller_eps(write):
    # abs(w) at w = 1e-7: differentiable (slope 1), but w +- 1e-6 straddles 0
    spec = write("inputs: {w: 1.0e-7}\ngates:\n  f: {op: abs, in: [w]}\n")
    near = gradcheck_json(spec)["inputs"]["w"]
    assert near["status"] == "kink" and "within eps" in near["note"]
    assert near["numerical"] == pytest.approx(0.1)  # (1.1e-6 - 0.9e-6) / 2e-6
    small = gradcheck_json("--gradcheck-eps", "1e-9", spec)["inputs"]["w"]
    assert small["status"] == "ok" and small["numerical"] == pytest.approx(1.0, rel=1e-6)


def test_tolerance_options_decide_the_verdict(write):
    # f = x^3 at 1 with eps 0.01: central difference 3 + eps^2 = 3.0001
    spec = write("inputs: {x: 1}\ngates:\n  f: {op: pow, in: [x, 3]}\n")
    estimate = (1.01 ** 3 - 0.99 ** 3) / 0.02
    loose = run("--gradcheck", "--gradcheck-eps", "0.01", spec)
    assert loose.exit_code == 0  # 1e-4 <= 1e-5 + 1e-3 * 3.0001
    strict = run("--gradcheck", "--gradcheck-eps", "0.01", "--gradcheck-atol", "0",
                 "--gradcheck-rtol", "1e-5", spec)
    assert strict.exit_code == 1  # 1e-4 > 0 + 1e-5 * 3.0001
    assert float(rows(strict.stdout)["x"][1]) == pytest.approx(estimate, rel=1e-9)


def test_estimate_outside_domain_is_not_a_failure(write):
    # log(x) at x = 5e-7: x - eps is negative, so there is no central difference
    report = gradcheck_json(write("inputs: {x: 5.0e-7}\ngates:\n  f: {op: log, in: [x]}\n"))
    entry = report["inputs"]["x"]
    assert entry["status"] == "undefined" and entry["numerical"] is None
    assert "x = -5e-07" in entry["note"]
    assert report["passed"] is True


def test_gradcheck_and_check_together_and_optimization_untouched():
    path = str(ROOT / "circuits" / "multiply-gate.yaml")
    result = run("--gradcheck", "--check", "--format", "json", path)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["check"]["passed"] and document["gradcheck"]["passed"]
    # one ascent step from (3, 4): (3 + 0.01*4) * (4 + 0.01*3) = 12.2512
    assert document["optimization"]["final"]["output"] == pytest.approx(3.04 * 4.03)
    table = run("--gradcheck", "--check", path).stdout
    assert table.startswith(f"PASS {path}") and f"gradcheck PASS {path}" in table


def test_json_member_absent_without_gradcheck():
    result = run("--format", "json", str(ROOT / "circuits" / "add-gate.yaml"))
    assert "gradcheck" not in json.loads(result.stdout)


def test_api_restores_the_circuit():
    circuit = compile_spec(load_spec_text("inputs: {x: 2, y: -3}\ngates:\n  f: {op: mul, in: [x, y]}\n"))
    circuit.forward()
    result = gradcheck(circuit)
    assert result.passed and [e.status for e in result.inputs] == ["ok", "ok"]
    assert circuit.input_values() == {"x": 2.0, "y": -3.0}
    assert circuit.value("f") == -6.0


def test_numerical_error_at_start_exits_3(write):
    result = run("--gradcheck", write("inputs: {x: -1}\ngates:\n  f: {op: log, in: [x]}\n"))
    assert result.exit_code == 3
    assert "numerical error" in result.stderr
