"""`circuit-run --check`: verdict lines, failure tables, tolerances, JSON, exit codes.

Expected numbers are derived by hand in each test (f = x*y: df/dx = y), never
taken from the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import invoke as run

ROOT = Path(__file__).resolve().parents[2]
CIRCUITS = sorted(str(p) for p in (ROOT / "circuits").glob("*.yaml"))

# f = x * y at (3, 4): f = 12, df/dx = 4, df/dy = 3 (by hand)
PRODUCT = """\
inputs: {{x: 3, y: 4}}
gates:
  f: {{op: mul, in: [x, y]}}
expect:
{expect}
"""


@pytest.fixture
def spec(tmp_path: Path):
    def write(expect: str, name: str = "product.yaml") -> str:
        path = tmp_path / name
        path.write_text(PRODUCT.format(expect=expect) if expect is not None else
                        PRODUCT.format(expect="").split("expect:")[0], encoding="utf-8")
        return str(path)
    return write


def test_project_circuits_all_pass():
    result = run("--check", *CIRCUITS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["PASS"] * len(CIRCUITS)
    assert result.stderr == f"{len(CIRCUITS)} specs: {len(CIRCUITS)} passed, 0 failed\n"


def test_pass_line_counts_entries(spec):
    path = spec("  output: 12\n  grads: {x: 4, y: 3}")
    result = run("--check", path)
    assert result.exit_code == 0
    assert result.stdout == f"PASS {path} (3 checked)\n"  # one spec: no summary line


def test_failure_table_names_entry_and_numbers(spec):
    path = spec("  output: 12\n  grads: {x: 5, y: 3}")
    result = run("--check", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {path} (3 checked)"
    assert lines[1].split() == ["entry", "expected", "actual", "difference", "allowed"]
    # default tolerance: abs 1e-9 + rel 1e-9 * 5
    assert lines[2].split() == ["grads.x", "5", "4", "1", "6e-09"]
    assert len(lines) == 3  # the passing entries are not listed


def test_entry_tolerance_overrides_spec_tolerance(spec):
    # |4 - 4.5| = 0.5: fails the spec's abs 0.1, passes the entry's own abs 0.6
    expect = "  grads:\n    x: {value: 4.5, abs: 0.6}\n    y: 3.5\n  tolerance: {abs: 0.1, rel: 0}"
    result = run("--check", spec(expect))
    assert result.exit_code == 1
    failing = [line.split()[0] for line in result.stdout.splitlines()[2:]]
    assert failing == ["grads.y"]


@pytest.mark.parametrize("rel, passes", [(0.1, True), (0.099, False)])
def test_relative_tolerance_boundary(spec, rel, passes):
    # expected 10, actual 12: |12 - 10| = 2 <= 1 + rel * 10 exactly when rel >= 0.1
    result = run("--check", spec(f"  output: {{value: 10, abs: 1, rel: {rel}}}"))
    assert (result.exit_code == 0) is passes, result.stdout


def test_spec_without_expect_fails_with_reason(spec):
    path = spec(None)
    result = run("--check", path)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"FAIL {path} (0 checked)\n")
    assert "no 'expect' block" in result.stdout


def test_hidden_difference_shows_all_digits(spec):
    # 12 + 1e-12 and 12 look alike at 10 significant digits
    result = run("--check", spec("  output: {value: 12.000000000001, abs: 0, rel: 0}"))
    assert result.exit_code == 1
    assert "12.000000000001" in result.stdout and " 12.0 " in result.stdout


def test_many_files_every_spec_reported_highest_code_wins(spec, tmp_path):
    good = spec("  output: 12", "good.yaml")
    bad = spec("  output: 13", "bad.yaml")
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("inputs: {x: 1}\ngates:\n  f: {op: mull, in: [x, x]}\nexpect: {output: 1}\n")
    result = run("--check", good, bad, str(invalid))
    assert result.exit_code == 2
    verdicts = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert [v.split()[:2] for v in verdicts] == [["PASS", good], ["FAIL", bad], ["FAIL", str(invalid)]]
    assert result.stderr.splitlines()[-1] == "3 specs: 1 passed, 2 failed"
    assert f"{invalid}:3:11: error:" in result.stderr and "did you mean 'mul'" in result.stderr


def test_json_check_member(spec):
    bad = spec("  output: 12\n  grads: {x: 5}", "bad.yaml")
    good = spec("  output: 12", "good.yaml")
    result = run("--check", "--format", "json", bad, good)
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["check"] == {"passed": False, "checked": 2, "failures": [
        {"path": "grads.x", "expected": 5.0, "actual": 4.0, "difference": 1.0,
         "allowed": 1e-9 + 1e-9 * 5}]}
    assert second["check"] == {"passed": True, "checked": 1, "failures": []}


def test_json_without_check_has_null_member(spec):
    result = run("--format", "json", spec("  output: 12"))
    assert json.loads(result.stdout)["check"] is None


def test_json_never_writes_infinity(spec):
    # |1e308 - (-1.2e308)| overflows to inf; JSON must stay valid (null there)
    text = "inputs: {x: -1.2e308}\ngates:\n  f: {op: neg, in: [x]}\n"
    path = Path(spec("  output: 1")).with_name("huge.yaml")
    path.write_text(text.replace("neg", "add").replace("[x]", "[x, 0]") + "expect: {output: 1.0e308}\n")
    result = run("--check", "--format", "json", str(path))
    assert result.exit_code == 1
    failure = json.loads(result.stdout)["check"]["failures"][0]
    assert failure["difference"] is None and failure["expected"] == 1e308


def test_csv_check_report_goes_to_stderr(spec):
    result = run("--check", "--format", "csv", spec("  output: 13"))
    assert result.exit_code == 1
    assert result.stdout.startswith("name,op,in,value,grad\n")
    assert result.stderr.startswith("FAIL ")


# --------------------------------------------------------------------------
# expect.optimized: final gradients, steps and the stop reason.
# f = x * y from (3, 4), two ascent steps of 0.1 (by hand):
#   step 1: x = 3 + 0.1*4 = 3.4, y = 4 + 0.1*3 = 4.3
#   step 2: x = 3.4 + 0.1*4.3 = 3.83, y = 4.3 + 0.1*3.4 = 4.64
# so at the end df/dx = y = 4.64 and df/dy = x = 3.83; 2 steps, all iterations done.
TWO_STEPS = """\
inputs: {{x: 3, y: 4}}
gates:
  f: {{op: mul, in: [x, y]}}
optimize: {{step_size: 0.1, iterations: 2}}
expect:
  optimized:
{optimized}
"""


def _optimized(tmp_path: Path, optimized: str) -> str:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_STEPS.format(optimized=optimized))
    return str(path)


def test_final_grads_steps_and_stop_pass_when_right(tmp_path):
    path = _optimized(tmp_path, "    grads: {x: 4.64, y: 3.83}\n    steps: 2\n    stop: iterations\n"
                                "  tolerance: {abs: 1.0e-12}")
    result = run("--check", path)
    assert result.exit_code == 0 and result.stdout == f"PASS {path} (3 checked)\n"


def test_final_grads_are_taken_where_the_run_ended(tmp_path):
    path = _optimized(tmp_path, "    grads: {x: 4, y: 3}")  # the gradients at the start: wrong here
    result = run("--check", path)
    assert result.exit_code == 1
    rows = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()[2:]}
    assert rows["optimized.grads.x"] == ["4", "4.64"] and rows["optimized.grads.y"] == ["3", "3.83"]


def test_final_grads_of_a_random_search_are_computed_at_its_end(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("inputs: {x: 3, y: 4}\ngates: {f: {op: mul, in: [x, y]}}\n"
                    "optimize: {method: random, iterations: 20, step_size: 0.5}\n"
                    "expect: {optimized: {grads: {x: 0}}}\n")
    (document,) = [json.loads(line) for line in run("--check", "-f", "json", str(path)).stdout.splitlines()]
    final_y = document["optimization"]["final"]["inputs"]["y"]
    (failure,) = document["check"]["failures"]
    assert failure["path"] == "optimized.grads.x" and failure["actual"] == final_y  # df/dx = y


def test_steps_are_compared_exactly_whatever_the_tolerance(tmp_path):
    path = _optimized(tmp_path, "    steps: 3\n  tolerance: {abs: 10}")
    result = run("--check", path)
    assert result.exit_code == 1
    assert "optimized.steps" in result.stdout and result.stdout.split("optimized.steps")[1].split()[:2] == ["3", "2"]


def test_a_different_stop_fails_with_both_reasons(tmp_path):
    path = _optimized(tmp_path, "    stop: tolerance")
    result = run("--check", path)
    assert result.exit_code == 1
    assert "  optimized.stop: expected 'tolerance', got 'iterations'" in result.stdout
    (document,) = [json.loads(line) for line in run("--check", "-f", "json", path).stdout.splitlines()]
    assert {"path": None, "message": "optimized.stop: expected 'tolerance', got 'iterations'"} in \
        document["check"]["failures"]


def test_the_fast_path_keeps_the_new_entries():
    """A plain spec goes through fast_path.py; it must not drop what it does not build."""
    import runner

    spec = runner.load_spec_text(TWO_STEPS.format(optimized="    steps: 2\n    stop: iterations\n"
                                                            "    grads: {x: 4.64}"))
    assert spec.expect.optimized.steps == 2 and spec.expect.optimized.stop == "iterations"
    assert spec.expect.optimized.grads["x"].value == 4.64


def test_the_tolerance_example_pins_its_224_steps():
    """circuits/distance-ridge-tolerance.yaml: 0.96^n first lets a step gain less than 1e-9 at n = 224."""
    import runner

    spec = runner.load_spec(str(ROOT / "circuits" / "distance-ridge-tolerance.yaml"))
    assert spec.expect.optimized.steps == 224 and spec.expect.optimized.stop == "tolerance"
    gains = [(0.96 ** (n - 1)) ** 2 * (1 - 0.96 ** 2) for n in range(1, 400)]
    assert next(n for n, gain in enumerate(gains, 1) if gain < 1e-9) == 224
