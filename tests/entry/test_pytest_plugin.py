"""The pytest plugin, from the outside: pytester runs real pytest sessions.

In-process runs load the plugin through its `pytest11` entry point as a new
session would; runs that need fresh processes (xdist workers, the project's
own circuits run as a user would) go through `runpytest_subprocess`. The workflow follows pytest-regressions: create -> pass ->
change -> fail -> update -> pass.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
# In-process pytester runs drop the modules a run imported; PyYAML's C parser
# would then build nodes of the dropped yaml.nodes classes, which the reloaded
# reader no longer recognises. Imported here, PyYAML outlives every run.
import yaml  # noqa: F401

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

# f = x * y at (3, 4): output 12, df/dx = y = 4, df/dy = x = 3 (by hand)
PRODUCT = """\
# comment that must survive an update
inputs:
  x: {x}
  y: 4
gates:
  f: {{op: mul, in: [x, y]}}
expect:
  output: 12
  grads: {{x: 4, y: 3}}   # df/dx = y, df/dy = x
"""


def spec(x: float = 3) -> str:
    return PRODUCT.format(x=x)


# No cache files in the fixtures' folders; no hypothesis plugin, whose import
# alone costs a second per session and which these sessions do not use.
@pytest.fixture
def no_cache() -> list[str]:
    return ["-p", "no:cacheprovider", "-p", "no:hypothesispytest"]


def test_create_pass_change_fail_update_pass(pytester: pytest.Pytester, no_cache):
    path = pytester.makefile(".yaml", product=spec())
    pytester.runpytest(*no_cache).assert_outcomes(passed=1)

    path.write_text(spec(x=5))  # f = 20, df/dy = 5 now
    failed = pytester.runpytest(*no_cache)
    failed.assert_outcomes(failed=1)
    out = failed.stdout.str()
    failed.stdout.fnmatch_lines([
        "*product.yaml: expectation failed: output, grads.y*",
        "FAIL product.yaml (3 checked)",
        "*entry*expected*actual*difference*allowed",
        "*output*12*20*8*",
        "*grads.y*3*5*2*",
        "FAILED product.yaml::product - product.yaml: expectation failed: output, grads.y",
    ])
    assert "Traceback" not in out and "pytest_plugin.py" not in out and "raise " not in out

    updated = pytester.runpytest("--circuit-update", *no_cache)
    updated.assert_outcomes(passed=1)
    updated.stdout.fnmatch_lines(["*circuit-run: updated expectations*", "product.yaml",
                                  "  output: 12 -> 20", "  grads.y: 3 -> 5"])
    assert path.read_text() == spec(x=5).replace("output: 12", "output: 20").replace("y: 3}", "y: 5}")

    pytester.runpytest(*no_cache).assert_outcomes(passed=1)


def test_only_specs_with_gates_and_expect_are_collected(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", product=spec())
    pytester.makefile(".yml", short=spec())
    (pytester.path / "bom.yaml").write_bytes(  # `gates:` right after a UTF-8 BOM
        b"\xef\xbb\xbfgates: {f: {op: neg, in: [x]}}\ninputs: {x: 1}\nexpect: {output: -1}\n")
    pytester.makefile(".yaml", config="gates: 3\nsettings: {expect: 1}\n")  # expect not top level
    pytester.makefile(".yaml", no_expect="inputs: {x: 1}\ngates:\n  f: {op: neg, in: [x]}\n")
    pytester.makefile(".yaml", workflow="on: push\njobs: {test: {runs-on: ubuntu-latest}}\n")
    pytester.makefile(".yaml", broken_other="a: [unclosed\n")
    pytester.makefile(".json", product_json='{"inputs": {"x": 1}, "gates": {}, "expect": {}}')
    pytester.makefile(".json", package='{"name": "app", "scripts": {"test": "jest"}}')
    pytester.makefile(".json", nested='{"config": {"gates": 1, "expect": 2}}')  # not top-level keys
    pytester.makefile(".json", broken_json='{"gates": {"f": "x"}, "expect": {')  # collected: fails with its position
    result = pytester.runpytest("--collect-only", "-q", *no_cache)
    assert sorted(line for line in result.outlines if "::" in line) == [
        "bom.yaml::bom", "broken_json.json::broken_json", "product.yaml::product",
        "product_json.json::product_json", "short.yml::short"]


def test_json_spec_create_pass_change_fail_update_pass(pytester: pytest.Pytester, no_cache):
    """The pytest-regressions workflow on a JSON spec (f = x * y at (3, 4): 12, df/dx = 4, df/dy = 3)."""
    text = '{\n  "inputs": {"x": 3, "y": 4},\n  "gates": {"f": {"op": "mul", "in": ["x", "y"]}},\n' \
           '  "expect": {"output": 12, "grads": {"x": 4, "y": 3}}\n}\n'
    path = pytester.makefile(".json", product=text)
    pytester.runpytest(*no_cache).assert_outcomes(passed=1)
    path.write_text(text.replace('"x": 3,', '"x": 5,'))  # f = 20, df/dy = 5
    failed = pytester.runpytest(*no_cache)
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*product.json: expectation failed: output, grads.y*"])
    pytester.runpytest("--circuit-update", *no_cache).assert_outcomes(passed=1)
    assert path.read_text() == text.replace('"x": 3,', '"x": 5,').replace('"output": 12', '"output": 20.0') \
        .replace('"y": 3}', '"y": 5.0}')
    pytester.runpytest(*no_cache).assert_outcomes(passed=1)


def test_circuit_round_writes_what_the_tolerance_needs(pytester: pytest.Pytester, no_cache):
    """73 * 0.1 is 7.300000000000001; under abs 5e-4 the update writes 7.3 (and 0.1 for df/dx = y)."""
    path = pytester.makefile(".yaml", product="inputs: {x: 73, y: 0.1}\ngates:\n  f: {op: mul, in: [x, y]}\n"
                                              "expect:\n  output: 1\n  grads: {x: 0}\n"
                                              "  tolerance: {abs: 5.0e-4, rel: 0}\n")
    pytester.runpytest("--circuit-update", "--circuit-round", *no_cache).assert_outcomes(passed=1)
    assert "  output: 7.3\n  grads: {x: 0.1}\n" in path.read_text()


def test_broken_json_spec_fails_with_its_position(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".json", broken='{"inputs": {"x": 1}, "gates": {"f": {"op": "neg", "in": ["x"]}}, "expect": {,}}')
    result = pytester.runpytest(*no_cache)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["broken.json:1:*: error: invalid JSON*"])


def test_flow_style_spec_is_collected(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", flow="{inputs: {x: 2}, gates: {f: {op: square, in: [x]}}, expect: {output: 4}}\n")
    pytester.runpytest(*no_cache).assert_outcomes(passed=1)


def test_spec_that_fails_to_load_is_a_failed_item_with_position(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", typo="inputs: {x: 1}\ngates:\n  f: {op: mull, in: [x, x]}\nexpect: {output: 1}\n")
    pytester.makefile(".yaml", syntax="inputs: {x: 1\ngates:\n  f: {op: neg, in: [x]}\nexpect: {output: 1}\n")
    result = pytester.runpytest(*no_cache)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "typo.yaml:3:11: error: gates.f.op: unknown op 'mull' (did you mean 'mul'?)*",
        "syntax.yaml:2:*: error: invalid YAML:*",
    ])
    assert "Traceback" not in result.stdout.str()


def test_numerical_error_is_a_failed_item(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", logneg="inputs: {x: -1}\ngates:\n  f: {op: log, in: [x]}\nexpect: {output: 0}\n")
    result = pytester.runpytest(*no_cache)
    result.assert_outcomes(failed=1)
    # the same line as circuit-run prints, at the gate's position
    result.stdout.fnmatch_lines(["logneg.yaml:3:3: error: numerical error: gate 'f' (log)*"])


def test_spec_with_empty_expectations_fails_like_check(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", empty="inputs: {x: 1}\ngates:\n  f: {op: neg, in: [x]}\nexpect:\n")
    result = pytester.runpytest(*no_cache)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no 'expect' block*"])


def test_keyword_selection(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", neuron=spec(), other=spec(x=5))
    pytester.runpytest("-k", "neuron", *no_cache).assert_outcomes(passed=1, deselected=1)


def test_exitfirst(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", a_bad=spec(x=5), b_bad=spec(x=6), c_good=spec())
    result = pytester.runpytest("-x", *no_cache)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stopping after 1 failures*"])


def test_junitxml_names_items_and_carries_the_table(pytester: pytest.Pytester, no_cache):
    pytester.makefile(".yaml", good=spec(), bad=spec(x=5))
    pytester.runpytest("--junitxml=report.xml", *no_cache).assert_outcomes(passed=1, failed=1)
    cases = {case.get("name"): case for case in ET.parse(pytester.path / "report.xml").iter("testcase")}
    assert set(cases) == {"good", "bad"}
    assert cases["good"].find("failure") is None
    failure = cases["bad"].find("failure")
    assert failure.get("message").startswith("bad.yaml: expectation failed: output, grads.y")
    assert "FAIL bad.yaml (3 checked)" in failure.text and "grads.y" in failure.text


def test_xdist_gives_the_same_verdicts_as_check(pytester: pytest.Pytester, no_cache):
    pytest.importorskip("xdist")
    names = {"s1": spec(), "s2": spec(x=5), "s3": spec(), "s4": spec(x=7)}
    pytester.makefile(".yaml", **names)
    result = pytester.runpytest_subprocess("-n", "2", *no_cache)
    result.assert_outcomes(passed=2, failed=2)
    failed_in_pytest = sorted(line.split("::")[0].split()[-1] for line in result.outlines
                              if line.startswith("FAILED"))
    cli = subprocess.run([sys.executable, "-m", "runner", "--check", *sorted(f"{n}.yaml" for n in names)],
                         cwd=pytester.path, capture_output=True, text=True)
    assert cli.returncode == 1
    failed_in_cli = sorted(line.split()[1] for line in cli.stdout.splitlines() if line.startswith("FAIL "))
    assert failed_in_pytest == failed_in_cli == ["s2.yaml", "s4.yaml"]


def test_xdist_update(pytester: pytest.Pytester, no_cache):
    pytest.importorskip("xdist")
    pytester.makefile(".yaml", u1=spec(x=5), u2=spec(x=6))
    result = pytester.runpytest_subprocess("-n", "2", "--circuit-update", *no_cache)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(["*circuit-run: updated expectations*", "u1.yaml", "u2.yaml",
                                        "  output: 12 -> 24"])
    assert "output: 24" in (pytester.path / "u2.yaml").read_text()  # 6 * 4
    cli = subprocess.run([sys.executable, "-m", "runner", "--check", "u1.yaml", "u2.yaml"],
                         cwd=pytester.path, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stdout


def test_project_circuits_pass_through_the_plugin(pytester: pytest.Pytester, no_cache):
    """Dogfooding: the repository's own circuits/ as pytest items, via the entry point."""
    circuits = sorted((ROOT / "circuits").glob("*.yaml"))
    result = pytester.runpytest_subprocess(str(ROOT / "circuits"), "-v", *no_cache)
    result.assert_outcomes(passed=len(circuits))
    for path in circuits:
        result.stdout.fnmatch_lines([f"*{path.name}::{path.stem} PASSED*"])


def test_project_test_run_collects_no_yaml(no_cache):
    """The plugin must not turn fixtures under tests/ into items of this project's own run."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *no_cache],
                            cwd=ROOT, capture_output=True, text=True)
    items = [line for line in result.stdout.splitlines() if "::" in line]
    assert items, result.stdout + result.stderr
    assert not [line for line in items if line.split("::")[0].endswith((".yaml", ".yml", ".json"))]
    # ... although the plugin would collect (and fail) the fixture if asked to
    fixture = ROOT / "tests" / "ci-fixtures" / "wrong-expect.yaml"
    alone = subprocess.run([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", *no_cache, str(fixture)],
                           cwd=ROOT, capture_output=True, text=True)
    assert alone.returncode == 1 and "wrong-expect.yaml::wrong-expect" in alone.stdout


def test_a_spec_with_data_and_its_csv_file_is_checked(pytester: pytest.Pytester, no_cache):
    root = Path(__file__).resolve().parents[2] / "circuits"
    (pytester.path / "data").mkdir()
    (pytester.path / "data" / "moons.csv").write_text((root / "data" / "moons.csv").read_text())
    (pytester.path / "moons.yaml").write_text((root / "moons.yaml").read_text())
    (pytester.path / "svm.yaml").write_text((root / "svm-cost.yaml").read_text().replace(
        "cost: [0.44, 1.37, 0.0]", "cost: [0.44, 1.3, 0.0]"))
    outcome = pytester.runpytest(*no_cache)
    outcome.assert_outcomes(passed=1, failed=1)
    assert "values.cost[1]" in outcome.stdout.str()
