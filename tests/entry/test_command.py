"""The command line, from the outside (click's CliRunner)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from runner import __version__
from helpers import CIRCUITS

ADD_MULTIPLY = str(CIRCUITS / "add-multiply.yaml")


def test_version_and_help(cli):
    assert cli("--version").stdout.strip() == f"circuit-run, version {__version__}"
    help_text = cli("--help").stdout
    for fragment in ("--format", "--set", "--check", "--schema", "Examples:", "Exit codes"):
        assert fragment in help_text


def test_table_shows_every_node_and_marks_the_output(cli):
    result = cli(ADD_MULTIPLY)
    assert result.exit_code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    rows = {line.split()[1] if line.strip().startswith("*") else line.split()[0]: line
            for line in lines[3:8]}
    assert set(rows) == {"x", "y", "z", "q", "f"}
    assert rows["f"].strip().startswith("*") and rows["f"].split()[-2:] == ["-12", "1"]
    assert rows["z"].split()[1:4] == ["input", "(fixed)", "-4"]
    assert "optimization: maximize" in result.stdout and "-11.68" in result.stdout


def test_json_shape_matches_the_contract(cli):
    (doc,) = cli.json(ADD_MULTIPLY)
    assert set(doc) == {"circuit", "spec", "output", "nodes", "optimization", "check"}
    assert doc["circuit"] == "add-multiply" and doc["spec"] == ADD_MULTIPLY
    assert doc["output"] == {"name": "f", "value": -12.0}
    assert doc["nodes"]["x"] == {"op": "input", "in": [], "value": -2.0, "grad": -4.0, "trainable": True}
    assert doc["nodes"]["q"] == {"op": "add", "in": ["x", "y"], "value": 3.0, "grad": -4.0}
    opt = doc["optimization"]
    assert {k: opt[k] for k in ("goal", "method", "step_size", "iterations", "steps", "stop")} == {
        "goal": "maximize", "method": "analytic", "step_size": 0.01, "iterations": 1, "steps": 1,
        "stop": "iterations"}
    assert [row["iteration"] for row in opt["trace"]] == [0, 1]
    assert opt["trace"][0] == {"iteration": 0, "output": -12.0, "inputs": {"x": -2.0, "y": 5.0},
                               "grads": {"x": -4.0, "y": -4.0}}
    assert opt["final"]["inputs"] == {"x": -2.04, "y": 4.96, "z": -4.0}
    assert opt["final"]["output"] == pytest.approx(-11.68, abs=1e-12)
    assert doc["check"] is None


def test_json_is_one_line_per_spec_with_exact_floats(cli):
    result = cli("--format", "json", ADD_MULTIPLY, str(CIRCUITS / "neuron.yaml"))
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    neuron = json.loads(lines[1])
    assert neuron["output"]["value"] == 1 / (1 + 2.718281828459045 ** -2)  # repr round-trips


def test_constants_appear_in_inputs_lists_not_as_nodes(cli, write):
    path = write("c.yaml", "inputs: {x: 3}\ngates: {f: {op: mul, in: [x, 2.5]}}\n")
    (doc,) = cli.json(path)
    assert list(doc["nodes"]) == ["x", "f"] and doc["nodes"]["f"]["in"] == ["x", 2.5]


def test_csv_is_the_node_table(cli):
    result = cli("--format", "csv", ADD_MULTIPLY)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == ["x", "y", "z", "q", "f"]
    assert rows[3] == {"name": "q", "op": "add", "in": "x y", "value": "3.0", "grad": "-4.0"}


def test_set_overrides_inputs(cli):
    (doc,) = cli.json("--set", "x=1", "--set", "z=2", ADD_MULTIPLY)
    assert doc["output"]["value"] == (1 + 5) * 2
    assert doc["nodes"]["z"]["grad"] == 6.0


@pytest.mark.parametrize("value,fragment", [("x", "expected NAME=VALUE"), ("x=abc", "is not a number"),
                                            ("x=nan", "finite"), ("=3", "expected NAME=VALUE")])
def test_set_rejects_bad_values_as_usage_errors(cli, value, fragment):
    result = cli("--set", value, ADD_MULTIPLY)
    assert result.exit_code == 2 and fragment in result.stderr


def test_set_unknown_input_suggests(cli):
    result = cli("--set", "xx=1", ADD_MULTIPLY)
    assert result.exit_code == 2
    assert f"{ADD_MULTIPLY}: error: --set xx: the spec has no input 'xx' (did you mean 'x'?)" in result.stderr


def test_set_of_a_gate_says_set_takes_inputs(cli):
    result = cli("--set", "q=3", ADD_MULTIPLY)
    assert result.exit_code == 2
    assert (f"{ADD_MULTIPLY}: error: --set q: 'q' is a gate, computed from its inputs; --set takes inputs "
            "(x, y, z)") in result.stderr


def test_numerical_h_lost_in_rounding_names_the_input_as_an_input(cli):
    result = cli("--numerical", "--numerical-h", "1e-300", ADD_MULTIPLY)
    assert result.exit_code == 3
    assert "numerical error: input 'x' cannot be nudged: h=1e-300" in result.stderr
    assert "gate" not in result.stderr


def test_no_spec_is_a_usage_error(cli):
    result = cli()
    assert result.exit_code == 2 and "give at least one SPEC" in result.stderr


def test_numerical_column(cli):
    (doc,) = cli.json("--numerical", ADD_MULTIPLY)
    assert doc["nodes"]["x"]["numerical_grad"] == pytest.approx(-4.0, abs=1e-8)
    assert doc["nodes"]["z"]["numerical_grad"] == pytest.approx(3.0, abs=1e-8)


def test_numerical_error_exits_3_and_names_the_gate(cli, write):
    path = write("n.yaml", "inputs: {x: 2}\ngates:\n  d: {op: sub, in: [x, 2]}\n  f: {op: log, in: [d]}\n")
    result = cli(path)
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.startswith(f"{path}:4:3: error: numerical error: gate 'f' (log)")
    assert "d=0.0" in result.stderr


def test_unused_nodes_give_one_warning_line(cli, write):
    gates = "\n".join(f"  u{k}: {{op: neg, in: [x]}}" for k in range(7))
    path = write("u.yaml", f"inputs: {{x: 1, lonely: 2}}\ngates:\n{gates}\n  f: {{op: exp, in: [x]}}\n")
    result = cli(path)
    assert result.exit_code == 0
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1
    assert warnings[0] == (f"{path}: warning: 8 nodes do not feed the output 'f' (gradient 0): "
                           "lonely, u0, u1, u2, u3 and 3 more")


def test_several_specs_highest_exit_code_wins_and_all_are_run(cli, write):
    bad = write("bad.yaml", "inputs: {x: 1}\n")
    numeric = write("num.yaml", "inputs: {x: 0}\ngates: {f: {op: log, in: [x]}}\n")
    result = cli("--format", "json", numeric, ADD_MULTIPLY, bad)
    assert result.exit_code == 3
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # one line per spec
    assert lines[1]["circuit"] == "add-multiply"  # the good spec still reported
    assert lines[0] == {"spec": numeric, "exit_code": 3, "errors": [
        {"line": 2, "column": 9, "message": "numerical error: gate 'f' (log) is outside its op's domain: log "
                                           "needs a > 0; inputs: x=0.0"}]}
    assert lines[2]["spec"] == bad and lines[2]["exit_code"] == 2 and lines[2]["errors"][0]["line"] is None
    assert "num.yaml:2:9: error: numerical" in result.stderr and "bad.yaml: error: missing" in result.stderr


# ---- --check --------------------------------------------------------------------

def test_check_passes_on_the_examples(cli):
    result = cli("--check", *sorted(str(p) for p in CIRCUITS.glob("*.yaml")))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(line.startswith("PASS ") for line in result.stdout.splitlines())


def test_check_fails_and_names_the_entry(cli, write):
    path = write("w.yaml", "inputs: {x: 3, y: 4}\ngates: {f: {op: mul, in: [x, y]}}\n"
                           "expect: {output: 12, grads: {x: 4, y: 4.5}}\n")
    result = cli("--check", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {path} (3 checked)"
    assert lines[2].split() == ["grads.y", "4.5", "3", "1.5", "5.5e-09"]


def test_check_without_expect_block_fails(cli, write):
    path = write("n.yaml", "inputs: {x: 3}\ngates: {f: {op: neg, in: [x]}}\n")
    result = cli("--check", path)
    assert result.exit_code == 1 and "has no 'expect' block" in result.stdout


def test_check_in_json(cli, write):
    path = write("w.yaml", "inputs: {x: 3}\ngates: {f: {op: neg, in: [x]}}\nexpect: {output: -3.5}\n")
    result = cli("--check", "--format", "json", path)
    assert result.exit_code == 1
    check = json.loads(result.stdout)["check"]
    assert check == {"passed": False, "checked": 1, "failures": [
        {"path": "output", "expected": -3.5, "actual": -3.0, "difference": 0.5, "allowed": 1e-9 + 1e-9 * 3.5}]}


def test_per_entry_tolerance(cli, write):
    path = write("t.yaml", "inputs: {x: 3}\ngates: {f: {op: neg, in: [x]}}\n"
                           "expect: {output: {value: -3.01, abs: 0.02}, grads: {x: -1.001}, "
                           "tolerance: {abs: 0.01}}\n")
    assert cli("--check", path).exit_code == 0


def test_module_entry_point_runs_without_traceback():
    result = subprocess.run([sys.executable, "-m", "runner", "--format", "json", ADD_MULTIPLY],
                            capture_output=True, text=True)
    assert result.returncode == 0 and json.loads(result.stdout)["output"]["value"] == -12.0


@pytest.mark.parametrize("text,options,code", [
    ("inputs: {x: 3}\ngates: {f: {op: neg, in: [x]}}\n", (), 0),
    ("inputs: {x: 3}\ngates: {f: {op: neg, in: [x]}}\nexpect: {output: 3}\n", ("--check",), 1),
    ("inputs: {x: 3}\ngates: {f: {op: nope, in: [x]}}\n", (), 2),
    ("inputs: {x: -1}\ngates: {f: {op: log, in: [x]}}\n", (), 3),
])
def test_the_command_exits_with_the_same_code_and_output_as_main(cli, write, text, options, code):
    """`python -m runner` (like the console script) skips the interpreter's
    teardown at exit: what it prints and its exit code are main's."""
    path = write("t.yaml", text)
    expected = cli(*options, path)
    done = subprocess.run([sys.executable, "-m", "runner", *options, path], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (code, expected.stdout)
    assert done.stderr == expected.stderr


def test_a_big_output_is_complete_at_exit(tmp_path):
    n = 20_000
    gates = {f"g{i}": {"op": "add", "in": ["x", f"g{i - 1}" if i else "x"]} for i in range(n)}
    spec = tmp_path / "chain.json"
    spec.write_text(json.dumps({"inputs": {"x": 0.5}, "gates": gates}))
    done = subprocess.run([sys.executable, "-m", "runner", "--format", "csv", str(spec)],
                          capture_output=True, text=True)
    lines = done.stdout.split("\n")
    assert done.returncode == 0 and lines[-1] == "" and len(lines) == n + 3  # header, x, gates, ""
    assert lines[-2].startswith(f"g{n - 1},add,x g{n - 2},{0.5 * (n + 1)!r},1.0")
