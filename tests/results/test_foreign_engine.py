"""--engine MODULE:CLASS on real engines: micrograd from PyPI, a correct
engine and one with the classic mistakes (tests/engines/), and engines that
hang, crash, print or cannot be used at all."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from helpers import CIRCUITS, ROOT

import runner
from runner.ops import OPS
from runner.results.conformance import cases
from runner.results.engine_check import check_circuit, check_spec
from runner.results.foreign_engine import EngineError, ForeignEngine

MICROGRAD = "micrograd.engine:Value"
CORRECT = "engines.correct:Value"
BUGGY = "engines.buggy:Value"
ENGINES = ROOT / "tests" / "engines"


def rows(result) -> dict[str, tuple[str, str]]:
    """case -> (verdict, detail) from the table."""
    found = {}
    for line in result.stdout.splitlines():
        verdict, name, detail = (line.split(None, 2) + [""])[:3]
        found[name] = (verdict, detail)
    return found


def statuses(result, *wanted: str) -> set[str]:
    return {name for name, (verdict, _) in rows(result).items() if verdict in wanted}


@pytest.fixture(scope="module")
def micrograd_suite():
    from helpers import invoke

    return invoke("--engine", MICROGRAD, "--conformance")


def test_micrograd_supports_the_arithmetic_and_relu_and_lacks_the_rest(micrograd_suite):
    assert micrograd_suite.exit_code == 1
    lacking = {"exp", "log", "sigmoid", "tanh", "sin", "cos", "max", "min"}
    skipped = statuses(micrograd_suite, "skipped")
    assert skipped == {case.name for case in cases()
                       if any(f"-{op}" in case.name for op in lacking) or "abs" in case.name}
    for name in skipped:
        detail = rows(micrograd_suite)[name][1]
        assert detail.startswith("Value has no method ") or detail.startswith("Value has no __abs__ (abs(a))")


def test_micrograd_findings_are_reported_as_rows_not_crashes(micrograd_suite):
    table = rows(micrograd_suite)
    assert statuses(micrograd_suite, "error") == {"op-pow", "const-pow-left", "chain-1000", "chain-10000"}
    # its recursive topological sort runs out of stack on a deep chain
    for name in ("chain-1000", "chain-10000"):
        assert table[name][1].startswith("RecursionError: maximum recursion depth exceeded")
        assert table[name][1].endswith("(in backward())")
    assert table["op-pow"][1].startswith("AssertionError: only supporting int/float powers")
    assert table["const-pow-left"][1].startswith("TypeError: unsupported operand type(s) for ** or pow(): 'int'")
    # inner nodes keep their gradients, so a second backward() adds them up again: a gets 1 + 2b
    assert statuses(micrograd_suite, "FAIL") == {"backward-twice"}
    assert table["backward-twice"][1] == ("after a second backward(), grads.a is -0.4, after the first 0.2: "
                                          "neither the same nor twice")
    assert {"chain-10", "fan-out-5", "reuse-add-self", "const-sub-left", "const-div-left", "kink-relu-0",
            "op-relu-negative"} <= statuses(micrograd_suite, "pass")
    assert micrograd_suite.stderr == \
        "50 cases: 28 pass, 1 FAIL, 17 skipped, 4 error (engine micrograd.engine:Value)\n"


def test_a_correct_engine_passes_every_case(cli):
    result = cli("--engine", CORRECT, "--conformance")
    assert result.exit_code == 0, result.stdout
    assert statuses(result, "pass") == {case.name for case in cases()}
    table = rows(result)
    assert table["tie-max"][1] == "a=0.5, b=0.5: a subgradient at this kink"
    assert table["backward-twice"][1] == "the second backward() gives the same gradients"


def test_the_classic_mistakes_are_caught_by_the_right_cases(cli):
    result = cli("--engine", BUGGY, "--conformance")
    assert result.exit_code == 1
    table = rows(result)
    # `=` instead of `+=` in add's backward: whatever reads a node twice through an add
    assert statuses(result, "FAIL") == {"reuse-add-self", "fan-out-5", "reuse-diamond", "backward-twice",
                                        "const-sub-left"}
    assert table["reuse-add-self"][1] == "grads.a: engine 1, circuit-run 2 (allowed 3e-09)"
    assert table["fan-out-5"][1].startswith("grads.a: engine 1, circuit-run 7.2 ")
    assert "reuse-mul-self" in statuses(result, "pass")  # mul's backward is right
    # the wrong __rsub__ computes a - 2 for 2 - a
    assert table["const-sub-left"][1].startswith("output: engine -0.5, circuit-run 0.5 ")
    assert "const-sub-right" in statuses(result, "pass")
    # no __radd__: 2 + a cannot even be computed
    assert table["const-add-left"] == ("error", "TypeError: unsupported operand type(s) for +: 'int' and 'Value' "
                                                "(in gate 'f' (add))")
    assert "const-add-right" in statuses(result, "pass")
    # its iterative sort handles the deep chains
    assert {"chain-10", "chain-1000", "chain-10000"} <= statuses(result, "pass")


def test_accumulating_gradients_like_pytorch_passes_backward_twice(cli):
    result = cli("--engine", "engines.correct:Accumulating", "--conformance")
    assert result.exit_code == 0
    assert rows(result)["backward-twice"] == ("pass", "the second backward() adds the gradients again (they "
                                                      "double, as PyTorch accumulates)")


def test_a_tie_that_hands_out_more_than_the_whole_gradient_fails(cli):
    result = cli("--engine", "engines.broken:GenerousMax", "--conformance")
    assert statuses(result, "FAIL") == {"tie-max", "tie-max-3", "tie-min", "tie-min-3"}
    assert rows(result)["tie-max"] == ("FAIL", "a=1, b=1: they add up to 2, not 1")
    assert {"op-max", "op-max-3", "op-min"} <= statuses(result, "pass")  # no tie there


def test_the_worker_spells_only_ops_of_the_table_and_imports_nothing_of_circuit_run():
    import ast

    from runner.results import engine_worker

    assert set(engine_worker.OPERATORS) | set(engine_worker.UNARY) | {engine_worker.SQRT[0]} <= set(OPS)
    tree = ast.parse((ROOT / "runner" / "results" / "engine_worker.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))
    assert imported <= {"__future__", "difflib", "importlib", "json", "os", "sys", "threading", "time", "typing"}


def test_every_op_of_the_table_has_a_case():
    names = {case.name for case in cases()}
    assert {f"op-{op}" for op in OPS} <= names
    assert {"const-add-left", "const-mul-left", "const-mul-right", "const-sub-left", "const-div-left",
            "reuse-mul-self", "reuse-add-self", "fan-out-5", "tie-max", "tie-min", "backward-twice",
            "chain-10", "chain-1000", "chain-10000"} <= names


# ---- specs -----------------------------------------------------------------

def test_micrograd_on_the_example_circuits(cli, monkeypatch):
    monkeypatch.chdir(CIRCUITS.parent)
    specs = sorted(str(path.relative_to(CIRCUITS.parent)) for path in CIRCUITS.glob("*.yaml")
                   if "\ndata:" not in path.read_text())  # --engine refuses specs with data
    result = cli("--engine", MICROGRAD, *specs)
    assert result.exit_code == 0, result.stdout
    table = rows(result)
    assert table["circuits/mlp.yaml"] == ("pass", "output and 339 gradients agree with circuit-run; "
                                                  "3 expect entries")
    assert table["circuits/neuron.yaml"] == ("skipped", "Value has no method sigmoid(): gate 'f'")
    custom_ops = {"circuits/softplus.yaml", "circuits/swish.yaml", "circuits/smooth-hinge.yaml"}
    assert statuses(result, "skipped") == {"circuits/max-gate.yaml", "circuits/neuron.yaml",
                                           "circuits/neuron-formula.yaml"} | custom_ops


def test_a_wrong_expect_entry_fails_against_the_engine_too(cli, write):
    path = write("s.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, x]}\n"
                           "expect:\n  output: 9\n  grads: {x: 5}\n")
    result = cli("--engine", CORRECT, path)
    assert result.exit_code == 1
    assert rows(result)[path] == ("FAIL", "grads.x: engine 6, expect 5 (allowed 6e-09)")
    (row,) = [json.loads(line) for line in cli("--engine", CORRECT, "--format", "json", path).stdout.splitlines()]
    assert row["status"] == "fail" and row["engine"] == CORRECT and row["case"] == path
    assert row["failures"] == [{"path": "grads.x", "expected": 5.0, "actual": 6.0, "difference": 1.0,
                                "allowed": pytest.approx(6e-09), "against": "expect"}]


def test_a_deep_spec_reports_micrograds_recursion_error_and_the_next_spec_still_runs(cli, write):
    gates = "".join(f"  c{i}: {{op: mul, in: [c{i - 1}, 1]}}\n" for i in range(1, 2001))
    deep = write("deep.yaml", "inputs: {c0: 0.5}\ngates:\n" + gates)
    small = write("small.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, 2]}\n")
    result = cli("--engine", MICROGRAD, deep, small)
    assert result.exit_code == 1
    table = rows(result)
    assert table[deep][0] == "error" and table[deep][1].startswith("RecursionError:")
    assert table[small][0] == "pass"


def test_a_spec_circuit_run_cannot_run_is_reported_as_usual_and_the_others_still_run(cli, write):
    broken = write("broken.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, zz]}\n")
    negative = write("log.yaml", "inputs: {x: -1}\ngates:\n  f: {op: log, in: [x]}\n")
    fine = write("fine.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, x]}\n")
    result = cli("--engine", CORRECT, broken, negative, fine)
    assert result.exit_code == 3  # the highest: log(-1) is a numerical error
    assert f"{broken}:3:24: error: gates.f.in[1]: unknown node 'zz'" in result.stderr
    assert f"{negative}:3:3: error: numerical error: gate 'f' (log)" in result.stderr
    assert list(rows(result)) == [fine]


def test_set_changes_both_runs_and_leaves_the_expect_block_out(cli, write):
    path = write("s.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, x]}\nexpect: {output: 9}\n")
    result = cli("--engine", CORRECT, "--set", "x=4", "--format", "json", path)
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and row["status"] == "pass" and row["checked"] == 2


def test_a_value_the_engine_gets_wrong_names_the_first_wrong_gate(cli, write):
    path = write("s.yaml", "inputs: {x: 3}\ngates:\n  d: {op: sub, in: [10, x]}\n  f: {op: mul, in: [d, 2]}\n")
    result = cli("--engine", BUGGY, path)
    assert rows(result)[path] == ("FAIL", "output: engine -14, circuit-run 14 (allowed 1.5e-08); first wrong "
                                          "value: gate 'd' (sub): engine -7, circuit-run 7; 1 more")


def test_a_custom_op_is_skipped_with_the_reason():
    spec = runner.load_spec_text("inputs: {x: 0.5}\ngates:\n  f: {op: exp, in: [x]}\n")
    run = runner.run_spec(spec)
    step = run.circuit.tape[0]
    custom = OPS["exp"]._replace(name="softplus")  # what a spec's own op looks like on the tape
    run.circuit.tape[0] = step._replace(op=custom)
    with ForeignEngine(CORRECT) as engine:
        result = check_circuit(engine, "s.yaml", run)
    assert (result.status, result.detail) == ("skipped", "custom op 'softplus' (gate 'f'): only circuit-run "
                                                         "knows its derivative")


def test_the_example_with_a_custom_op_is_skipped(cli, monkeypatch):
    monkeypatch.chdir(CIRCUITS.parent)
    result = cli("--engine", CORRECT, "circuits/softplus.yaml", "circuits/add-gate.yaml")
    assert result.exit_code == 0
    assert rows(result)["circuits/softplus.yaml"] == ("skipped", "custom op 'softplus' (gate 'f'): only "
                                                                 "circuit-run knows its derivative")


def test_an_engine_beside_a_package_named_runner_is_found(cli, tmp_path, monkeypatch):
    """The worker is circuit-run's, not a `runner` package in the current directory."""
    (tmp_path / "runner").mkdir()
    (tmp_path / "runner" / "__init__.py").write_text("raise ImportError('the user\'s own runner')\n")
    (tmp_path / "mygrad.py").write_text((ENGINES / "correct.py").read_text())
    (tmp_path / "s.yaml").write_text("inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, x]}\n")
    monkeypatch.chdir(tmp_path)
    result = cli("--engine", "mygrad:Value", "s.yaml")
    assert result.exit_code == 0 and rows(result)["s.yaml"][0] == "pass"


def test_a_spec_with_data_is_refused():
    class WithData:  # what a spec with a data: section will carry
        data = {"columns": ["x"], "rows": [[1.0]]}

    with ForeignEngine(CORRECT) as engine, pytest.raises(runner.SpecError) as caught:
        check_spec(engine, WithData(), "s.yaml")
    assert caught.value.lines() == ["s.yaml: error: --engine runs circuits over inputs only; this spec has a "
                                    "'data:' section, which --engine does not support yet"]
    assert caught.value.exit_code == 2


def test_an_engine_that_computes_no_gradients_fails_on_the_first_input(cli, write):
    path = write("s.yaml", "inputs: {x: 3, y: 2}\ngates:\n  f: {op: mul, in: [x, y]}\n")
    result = cli("--engine", "engines.broken:Lazy", path)
    assert rows(result)[path] == ("FAIL", "grads.x: engine 0, circuit-run 2 (allowed 3e-09); 1 more")


def test_a_gradient_of_none_counts_as_zero(cli, write):
    path = write("s.yaml", "inputs: {x: 3, unused: 1}\ngates:\n  f: {op: mul, in: [x, x]}\n"
                           "expect: {output: 9, grads: {x: 6, unused: 0}}\n")
    result = cli("--engine", "engines.broken:NoneForUnused", path)
    assert rows(result)[path] == ("pass", "output and 2 gradients agree with circuit-run; 3 expect entries")


def test_numbers_that_are_not_finite_are_null_in_json():
    from runner.present.engine_report import row_json
    from runner.results.engine_check import CaseResult
    from runner.results.expectations import Comparison

    failure = ("circuit-run", Comparison("grads.x", 2.0, float("nan"), 1e-9, 1e-9))
    row = json.loads(row_json(CaseResult("s.yaml", "fail", "grads.x", [failure], 2), "m:C"))
    assert row["failures"][0]["actual"] is None and row["failures"][0]["expected"] == 2.0


# ---- engines that misbehave ---------------------------------------------------

def test_a_backward_that_hangs_is_stopped_and_the_next_case_runs(cli, write):
    first = write("a.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, 2]}\n")
    second = write("b.yaml", "inputs: {x: 3}\ngates:\n  f: {op: add, in: [x, 2]}\n")
    result = cli("--engine", "engines.broken:Hangs", "--engine-timeout", "0.5", first, second)
    assert result.exit_code == 1
    expected = ("error", "Timeout: did not finish within 0.5 s; stopped (in backward())")
    assert rows(result)[first] == rows(result)[second] == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker through /proc")
def test_the_worker_ends_when_circuit_run_is_killed_while_a_case_hangs(write):
    import signal
    import subprocess
    import time

    path = write("a.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, 2]}\n")
    command = subprocess.Popen([sys.executable, "-m", "runner", "--engine", "engines.broken:Hangs",
                                "--engine-timeout", "300", path], cwd=ROOT / "tests",
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        worker = _child_of(command.pid, within=30)
        assert worker is not None, "the worker did not start"
        assert _spins(worker, within=60), "the worker never reached the hanging backward()"
        os.kill(command.pid, signal.SIGKILL)  # no chance to clean up
        command.wait()
        assert _ends(worker, within=10), "the worker outlived circuit-run"
    finally:
        command.kill()
        if worker is not None and not _ends(worker, within=0):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker through /proc")
def test_ctrl_c_while_a_case_hangs_ends_both_processes_with_exit_130(write):
    import signal
    import subprocess

    path = write("a.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, 2]}\n")
    command = subprocess.Popen([sys.executable, "-m", "runner", "--engine", "engines.broken:Hangs",
                                "--engine-timeout", "300", path], cwd=ROOT / "tests", text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    worker = None
    try:
        worker = _child_of(command.pid, within=30)
        assert worker is not None and _spins(worker, within=60)
        os.killpg(command.pid, signal.SIGINT)  # what a terminal sends: to the whole group
        out, err = command.communicate(timeout=30)
        assert (command.returncode, out, err) == (130, "", "circuit-run: interrupted\n")
        assert _ends(worker, within=10)
    finally:
        command.kill()
        if worker is not None and not _ends(worker, within=0):
            os.kill(worker, signal.SIGKILL)


def _child_of(pid: int, within: float):
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    return None


def _spins(pid: int, within: float) -> bool:
    """Whether the process has used a second of CPU time (importing takes a fraction; the
    hanging backward() takes all it gets)."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") >= 1.0:  # utime + stime
            return True
        time.sleep(0.1)
    return False


def _ends(pid: int, within: float) -> bool:
    import time

    deadline = time.monotonic() + within
    while True:  # looked at once at least
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":  # ended, not reaped
                return True
        except FileNotFoundError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def test_an_engine_that_kills_its_process_is_reported(cli, write):
    path = write("a.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, 2]}\n")
    result = cli("--engine", "engines.broken:Crashes", path, path)
    assert result.exit_code == 1
    assert list(rows(result).values()) == [("error", "Crash: the engine's process ended with exit code 7 "
                                                     "(in backward())")]
    assert result.stdout.count("\n") == 2  # both runs of the spec reported


@pytest.mark.parametrize("engine", ["engines.broken:Chatty", "engines.broken:ReadsStdin"])
def test_the_engines_own_input_and_output_do_not_disturb_the_replies(cli, write, engine):
    path = write("a.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, x]}\n")
    result = cli("--engine", engine, path, path)
    assert result.exit_code == 0 and rows(result)[path][0] == "pass"


def test_gates_of_numbers_only_are_made_from_an_object(cli, write):
    """exp(2) is written Value(2).exp(); 1 + 2 as Value(1) + 2; f = (1+2)*x + e^2 + max(1, 2)."""
    path = write("c.yaml", "inputs: {x: 3}\ngates:\n  k: {op: add, in: [1, 2]}\n  f: {op: mul, in: [k, x]}\n"
                           "  g: {op: exp, in: [2]}\n  h: {op: max, in: [1, 2]}\n  o: {op: add, in: [f, g, h]}\n")
    alone = write("d.yaml", "inputs: {x: 3}\ngates:\n  f: {op: add, in: [1, 2]}\n")  # the output itself
    result = cli("--engine", CORRECT, "--format", "json", path, alone)
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["pass", "pass"]
    assert result.exit_code == 0


@pytest.mark.parametrize("target,message", [
    ("no_such_engine:Value", "--engine no_such_engine:Value: cannot import module 'no_such_engine': no module "
                             "named 'no_such_engine' (looked in the current directory and on Python's path)"),
    ("engines.fails_on_import:Value", "--engine engines.fails_on_import:Value: importing module "
                                      "'engines.fails_on_import' failed: RuntimeError: this engine cannot be imported"),
    ("micrograd.engine:Valu", "--engine micrograd.engine:Valu: 'micrograd.engine' has no attribute 'Valu' "
                              "(did you mean 'Value'?)"),
    ("engines.broken:not_a_class", "--engine engines.broken:not_a_class: 'engines.broken:not_a_class' is not a "
                                   "class (it is an instance of int)"),
    ("os:path", "--engine os:path: 'os:path' is not a class (it is a module)"),
    ("engines.broken:NoBackward", "--engine engines.broken:NoBackward: class 'NoBackward' has no backward() method"),
    ("engines.exits_on_import:Value", "--engine engines.exits_on_import:Value: importing the class ended its "
                                      "process (exit code 4)"),
])
def test_an_unusable_engine_is_a_clear_error(cli, target, message):
    result = cli("--engine", target, "--conformance")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"circuit-run: error: {message}\n"


def test_an_import_that_hangs_is_stopped():
    with pytest.raises(EngineError) as caught:
        ForeignEngine("engines.slow_import:Value", timeout=0.5, import_timeout=1).start()
    assert caught.value.lines() == ["circuit-run: error: --engine engines.slow_import:Value: importing the class "
                                    "did not finish within 1 s"]


def test_an_engine_error_from_the_api_is_a_circuit_run_error():
    with pytest.raises(EngineError) as caught:
        ForeignEngine("no_such_engine:Value").start()
    assert isinstance(caught.value, runner.CircuitRunError) and caught.value.exit_code == 2


@pytest.mark.parametrize("args,fragment", [
    (["--engine", "micrograd", "--conformance"], "expected MODULE:CLASS (for example micrograd.engine:Value), "
                                                 "got 'micrograd'"),
    (["--engine", "./mygrad.py:Value", "x.yaml"], "expected MODULE:CLASS, got './mygrad.py:Value': give the "
                                                  "file's module name, as in an import: mygrad:Value"),
    (["--conformance"], "--conformance checks another engine: give it with --engine MODULE:CLASS"),
    (["--engine", MICROGRAD, "--conformance", "x.yaml"], "give no SPEC files with it"),
    (["--engine", MICROGRAD, "--check", "x.yaml"], "--engine cannot be combined with --check"),
    (["--engine", MICROGRAD, "--format", "csv", "x.yaml"], "--engine cannot be combined with --format csv"),
    (["--engine", MICROGRAD, "--html", "p.html", "x.yaml"], "--engine cannot be combined with "
                                                            "--trace/--graph/--html/--plot"),
])
def test_usage_errors(cli, args, fragment):
    result = cli(*args)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def test_json_is_one_object_per_case(cli):
    result = cli("--engine", MICROGRAD, "--conformance", "--format", "json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["case"] for line in lines] == [case.name for case in cases()]
    assert {line["status"] for line in lines} == {"pass", "fail", "skipped", "error"}
    chain = next(line for line in lines if line["case"] == "chain-1000")
    assert chain["status"] == "error" and chain["detail"].startswith("RecursionError")
    assert set(chain) == {"engine", "case", "status", "detail", "checked", "failures"}
    assert result.exit_code == 1


def test_json_gives_a_spec_that_cannot_run_its_errors_line(cli, write):
    """One line per spec under --engine too (issue 12: -f json printed no line for an invalid spec)."""
    bad = write("bad.yaml", "inputs: {x: 1}\ngates: {f: {op: nope, in: [x]}}\n")
    result = cli("--engine", MICROGRAD, "--format", "json", str(CIRCUITS / "add-gate.yaml"), bad)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[1]["spec"] == bad and lines[1]["exit_code"] == 2
    assert lines[1]["errors"][0]["line"] == 2 and "unknown op 'nope'" in lines[1]["errors"][0]["message"]
