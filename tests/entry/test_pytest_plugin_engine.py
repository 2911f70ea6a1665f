"""The pytest plugin's --circuit-engine: a learner's repository (an engine
module and a spec next to it) runs the conformance suite in its own CI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # noqa: F401 - see below

# pytester restores sys.modules after each in-process session, but PyYAML's C
# parser keeps the node classes of the first import: a session that imported
# yaml for the first time leaves the next one with classes isinstance() does
# not recognize. Imported here, yaml outlives every session.

pytest_plugins = ["pytester"]

ENGINES = Path(__file__).resolve().parents[1] / "engines"
CASES = 50  # the conformance suite's size (test_foreign_engine checks its contents)

# f = x * y at (3, 4): output 12, df/dx = 4, df/dy = 3 (by hand)
PRODUCT = """\
inputs: {x: 3, y: 4}
gates:
  f: {op: mul, in: [x, y]}
expect:
  output: 12
  grads: {x: 4, y: 3}
"""


@pytest.fixture
def repo(pytester: pytest.Pytester):
    """A learner's repository: an engine module and a spec."""
    pytester.makefile(".yaml", product=PRODUCT)

    def with_engine(source: str) -> pytest.Pytester:
        (pytester.path / "mygrad.py").write_text((ENGINES / source).read_text())
        return pytester

    return with_engine


NO_CACHE = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def test_a_correct_engine_passes_the_suite_and_the_spec(repo):
    result = repo("correct.py").runpytest("--circuit-engine", "mygrad:Value", *NO_CACHE)
    result.assert_outcomes(passed=CASES + 2)  # the spec's own check, and the spec with the engine


def test_the_buggy_engines_mistakes_fail_their_cases(repo):
    result = repo("buggy.py").runpytest("--circuit-engine", "mygrad:Value", "-rfs", *NO_CACHE)
    result.assert_outcomes(passed=29, failed=8, skipped=15)
    result.stdout.fnmatch_lines_random([
        "reuse-add-self: FAIL grads.a: engine 1, circuit-run 2 (allowed 3e-09)",
        "const-add-left: error TypeError: unsupported operand type(s) for +: 'int' and 'Value' (in gate 'f' (add))",
        "const-sub-left: FAIL output: engine -0.5, circuit-run 0.5 (allowed 1.5e-09); 1 more",
        "FAILED circuit-run-conformance::reuse-add-self - *",
        "SKIPPED [[]1[]] circuit-run-conformance:1: Value has no method log(): gate 'f'",
    ])
    assert "Traceback" not in result.stdout.str()


def test_cases_are_selected_by_name(repo):
    result = repo("buggy.py").runpytest("--circuit-engine", "mygrad:Value", "-k", "chain or product", "-v",
                                        *NO_CACHE)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines_random(["circuit-run-conformance::chain-10000 PASSED*",
                                        "product.yaml::product?engine? PASSED*"])


def test_a_spec_the_engine_cannot_run_is_skipped_with_the_reason(pytester: pytest.Pytester):
    pytester.makefile(".yaml", neuron="inputs: {x: 0.5}\ngates:\n  f: {op: sigmoid, in: [x]}\n"
                                      "expect: {output: 0.6224593312}\n")
    result = pytester.runpytest("--circuit-engine", "micrograd.engine:Value", "-k", "neuron", "-rs", *NO_CACHE)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] neuron.yaml:1: Value has no method sigmoid(): gate 'f'"])


def test_an_engine_that_cannot_be_imported_fails_its_items_with_the_reason(repo):
    result = repo("correct.py").runpytest("--circuit-engine", "mygrad:Valu", "-k", "chain", *NO_CACHE)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*circuit-run: error: --engine mygrad:Valu: 'mygrad' has no attribute 'Valu' "
                                 "(did you mean 'Value'?)"])


def test_a_malformed_engine_name_is_a_usage_error(pytester: pytest.Pytester):
    result = pytester.runpytest("--circuit-engine", "mygrad", *NO_CACHE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --circuit-engine: expected MODULE:CLASS (for example "
                                 "micrograd.engine:Value), got 'mygrad'"])


def test_the_suite_runs_under_xdist(repo):
    result = repo("buggy.py").runpytest_subprocess("--circuit-engine", "mygrad:Value", "-n", "2", *NO_CACHE)
    result.assert_outcomes(passed=29, failed=8, skipped=15)


def test_a_spec_with_data_is_skipped_under_the_engine(repo):
    """Until --engine runs data, a data spec's engine item is skipped, not failed (the refusal is
    stood in for by a conftest: specs with data are another branch's work)."""
    pytester = repo("correct.py")
    pytester.makeconftest("""
        import runner.results.engine_check as engine_check

        def refuse(engine, spec, source, overrides=None):
            raise engine_check.DataRefused(source, [engine_check.Problem(0, 0, "no data under --engine")])

        engine_check.check_spec = refuse
    """)
    result = pytester.runpytest_subprocess("--circuit-engine", "mygrad:Value", "-k", "product", "-rs", *NO_CACHE)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] product.yaml:1: no data under --engine"])
