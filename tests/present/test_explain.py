"""--explain: every gradient's chain-rule terms, checked against hand derivations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.present.explain import render_text, to_json, walk
from helpers import FAN_OUT, run_source

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"



def run(source: str | Path):
    return run_source(source, run_optimization=False)


def terms(result) -> dict[str, list[tuple]]:
    """node -> [(from, position, upstream, local, product)]"""
    return {step.node: [(t.gate, t.position, t.upstream, t.local, t.product) for t in step.terms]
            for step in walk(result)}


def test_add_multiply_matches_the_hand_derivation():
    # f = q * z, q = x + y at x=-2, y=5, z=-4: q = 3.
    # df/dq = 1 * z = -4; df/dz = 1 * q = 3; df/dx = df/dy = -4 * 1 = -4.
    result = run(CIRCUITS / "add-multiply.yaml")
    steps = walk(result)
    assert [s.node for s in steps] == ["f", "q", "x", "y", "z"]
    assert [s.role for s in steps] == ["output", "gate", "input", "input", "input"]
    assert terms(result) == {
        "f": [],
        "q": [("f", 0, 1.0, -4.0, -4.0)],
        "x": [("q", 0, -4.0, 1.0, -4.0)],
        "y": [("q", 1, -4.0, 1.0, -4.0)],
        "z": [("f", 1, 1.0, 3.0, 3.0)],
    }
    assert [s.grad for s in steps] == [1.0, -4.0, -4.0, -4.0, 3.0]


def test_add_multiply_text_is_the_seed_walkthrough():
    text = render_text(run(CIRCUITS / "add-multiply.yaml"))
    lines = [line.strip() for line in text.splitlines()]
    assert lines[1:6] == [
        "df/df = 1  (the output: backprop starts here)",
        "df/dq = df/df · ∂f/∂q = 1 · -4 = -4",
        "df/dx = df/dq · ∂q/∂x = -4 · 1 = -4",
        "df/dy = df/dq · ∂q/∂y = -4 · 1 = -4",
        "df/dz = df/df · ∂f/∂z = 1 · 3 = 3",
    ]
    assert "constants" not in text and "unused" not in text


def test_neuron_matches_the_hand_derivation():
    # f = s(z), z = ax + by + c = -1 + 6 - 3 = 2, s'(z) = s(1 - s)
    s = 1 / (1 + math.exp(-2))
    ds = s * (1 - s)
    result = run(CIRCUITS / "neuron.yaml")
    assert [st.node for st in walk(result)] == ["f", "z", "axpby", "by", "ax", "a", "b", "c", "x", "y"]
    expected = {
        "z": [("f", 0, 1.0, ds)],
        "axpby": [("z", 0, ds, 1.0)],
        "by": [("axpby", 1, ds, 1.0)],
        "ax": [("axpby", 0, ds, 1.0)],
        "a": [("ax", 0, ds, -1.0)],  # d(ax)/da = x
        "x": [("ax", 1, ds, 1.0)],  # d(ax)/dx = a
        "b": [("by", 0, ds, 3.0)],  # d(by)/db = y
        "y": [("by", 1, ds, 2.0)],  # d(by)/dy = b
        "c": [("z", 1, ds, 1.0)],
    }
    got = terms(result)
    for node, want in expected.items():
        assert len(got[node]) == len(want), node
        for (gate, pos, up, local, product), (wgate, wpos, wup, wlocal) in zip(got[node], want):
            assert (gate, pos) == (wgate, wpos), node
            assert up == pytest.approx(wup, rel=1e-12) and local == pytest.approx(wlocal, rel=1e-12)
            assert product == pytest.approx(wup * wlocal, rel=1e-12)
    # the guide's published (rounded) numbers
    grads = {st.node: st.grad for st in walk(result)}
    for name, published in {"a": -0.105, "b": 0.315, "c": 0.105, "x": 0.105, "y": 0.210}.items():
        assert abs(grads[name] - published) < 5e-4


def test_fan_out_shows_every_term_and_their_sum():
    # f = x*x + x + 2 at x = 3: df/dx = 2x + 1 = 7, from three wires:
    # 1 * 1 (f's own x), and 1 * x = 3 twice (m = x * x uses x twice)
    result = run(FAN_OUT)
    assert terms(result)["x"] == [("f", 1, 1.0, 1.0, 1.0), ("m", 0, 1.0, 3.0, 3.0), ("m", 1, 1.0, 3.0, 3.0)]
    x = next(s for s in walk(result) if s.node == "x")
    assert x.grad == 7.0
    text = render_text(result)
    assert ("  df/dx = df/df · ∂f/∂x + df/dm · ∂m/∂x[1] + df/dm · ∂m/∂x[2] = 1 · 1 + 1 · 3 + 1 · 3"
            " = 1 + 3 + 3 = 7") in text.splitlines()
    assert "a[k]: a as the gate's k-th input" in text
    assert "  constants get no gradient: 2" in text.splitlines()
    assert "  unused (they do not feed f, gradient 0): w, u" in text.splitlines()
    # the constant 2 gets no term, the unused nodes none either
    assert all(t[0] != "u" for ts in terms(result).values() for t in ts)
    unused = {s.node: s for s in walk(result) if s.unused}
    assert set(unused) == {"w", "u"} and all(s.grad == 0.0 and not s.terms for s in unused.values())


def test_sums_agree_with_central_differences_on_every_seed_circuit():
    for path in sorted(CIRCUITS.glob("*.yaml")):
        if "\ndata:" in path.read_text():
            continue  # at a data row: tests/present/test_data_output.py
        result = run(path)
        numerical = result.circuit.numerical_gradient(1e-6, central=True)
        sums = {s.node: s.grad for s in walk(result)}
        for name, estimate in numerical.items():
            assert sums[name] == pytest.approx(estimate, abs=1e-5), (path.name, name)
        # and replaying backprop gives the engine's numbers bit for bit
        assert sums == result.grads, path.name


def test_constant_exponent_of_a_negative_base_is_skipped_not_nan():
    # pow's exponent derivative is undefined at a negative base, but 2 is a constant
    result = run("inputs: {x: -3}\ngates:\n  f: {op: pow, in: [x, 2]}\n")
    assert terms(result)["x"] == [("f", 0, 1.0, -6.0, -6.0)]
    json.dumps(to_json(result), allow_nan=False)  # raises on NaN


def test_max_tie_splits_the_gradient():
    result = run("inputs: {x: 2, y: 2}\ngates:\n  f: {op: max, in: [x, y]}\n")
    assert terms(result)["x"] == [("f", 0, 1.0, 0.5, 0.5)]
    assert terms(result)["y"] == [("f", 1, 1.0, 0.5, 0.5)]


def test_ascii_form():
    text = render_text(run(CIRCUITS / "add-multiply.yaml"), ascii=True)
    assert "  df/dx = df/dq * dq/dx = -4 * 1 = -4" in text.splitlines()
    text.encode("ascii")


# ---- the command line ------------------------------------------------------

def test_cli_explain_follows_the_table():
    result = CliRunner().invoke(main, ["--explain", str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 0, result.output
    table, _, explanation = result.output.partition("chain rule:")
    assert "name" in table and "grad" in table
    assert "df/dq = df/df · ∂f/∂q = 1 · -4 = -4" in explanation


def test_cli_explain_falls_back_to_ascii_where_the_console_cannot_show_unicode():
    result = CliRunner(charset="ascii").invoke(main, ["--explain", str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 0, result.output
    assert "df/dx = df/dq * dq/dx = -4 * 1 = -4" in result.output


def test_cli_json_explain_member():
    result = CliRunner().invoke(main, ["--format", "json", "--explain", str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    explain = document["explain"]
    assert [e["node"] for e in explain] == ["f", "q", "x", "y", "z"]
    assert explain[0] == {"node": "f", "role": "output", "grad": 1.0, "terms": []}
    assert explain[1]["terms"] == [{"from": "f", "input": 0, "upstream": 1.0, "local": -4.0, "product": -4.0}]
    assert explain[4] == {"node": "z", "role": "input", "grad": 3.0,
                          "terms": [{"from": "f", "input": 1, "upstream": 1.0, "local": 3.0, "product": 3.0}]}
    # `input` indexes the gate's `in` list
    assert document["nodes"]["f"]["in"][explain[4]["terms"][0]["input"]] == "z"


def test_cli_json_without_explain_has_no_member():
    result = CliRunner().invoke(main, ["--format", "json", str(CIRCUITS / "add-multiply.yaml")])
    assert "explain" not in json.loads(result.output)


def test_cli_json_explain_marks_unused(tmp_path):
    spec = tmp_path / "fan.yaml"
    spec.write_text(FAN_OUT)
    result = CliRunner().invoke(main, ["--format", "json", "--explain", str(spec)])
    assert result.exit_code == 0
    explain = json.loads(result.stdout)["explain"]
    assert [e for e in explain if e.get("unused")] == [
        {"node": "w", "role": "input", "grad": 0.0, "terms": [], "unused": True},
        {"node": "u", "role": "gate", "grad": 0.0, "terms": [], "unused": True}]


def test_cli_explain_with_csv_is_a_usage_error():
    result = CliRunner().invoke(main, ["--format", "csv", "--explain", str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 2
    assert "--explain works with --format table or json" in result.output
