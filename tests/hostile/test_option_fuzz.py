"""Bounded fuzz of the command line's options (issue 17): the property tests
of test_properties.py mutate spec text; these draw what a command line can
carry around a valid spec.

1. Number options get any text: finite numbers from 5e-324 to 1.8e308 of
   either sign, nan, inf, garbage. The run ends in a documented exit code,
   never a traceback, and JSON output is whole lines of valid JSON (no NaN,
   no line cut off by an error).
2. A spec's `name` is any text and output paths hold `{name}`: every file a
   run writes is the template with one harmless file-name component for the
   name, inside the directory the template names, and the spec is untouched.
3. Wide gates: fan-in and fan-out up to a few thousand; the table and the
   chain-rule walkthrough stay proportional to the spec (no padding to the
   widest cell, no line longer than a bound).

Example counts are fixed so the file runs in well under 30 seconds.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.cli import main
from runner.present.output_paths import MAX_NAME, safe_name

SPEC = {"inputs": {"x": 1.5, "y": -0.5}, "gates": {"p": {"op": "mul", "in": ["x", "y"]},
                                                  "f": {"op": "tanh", "in": ["p"]}},
        "optimize": {"iterations": 3, "step_size": 0.1}}
DOCUMENTED = {0, 1, 2, 3}

NUMBER_OPTIONS = ["--gradcheck-eps", "--gradcheck-atol", "--gradcheck-rtol", "--numerical-h", "--step-size",
                  "--tolerance", "--every", "--seed", "--iterations", "--max-nodes", "--max-depth"]
SPECIAL = ["nan", "NaN", "inf", "-inf", "+inf", "infinity", "1e400", "-1e400", "0", "-0", "0.0", "1e-320",
           "5e-324", "1.7976931348623157e308", "-1.7976931348623157e308", "", " ", "1,5", "0x10", "1_000",
           "١", "\x00", "--", "-1"]


def number_text():
    finite = st.floats(allow_nan=False, allow_infinity=False).map(repr)
    small_int = st.integers(-5, 50).map(str)
    return st.one_of(st.sampled_from(SPECIAL), finite, small_int, st.text(max_size=6))


def _run(args: list[str], cwd: Path):
    """circuit-run in-process in `cwd`; an exception other than SystemExit fails the test."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(NUMBER_OPTIONS), number_text(), min_size=1, max_size=3),
       flags=st.sets(st.sampled_from(["--gradcheck", "--numerical", "--check", "--explain"])))
def test_number_options_end_in_a_documented_code_and_whole_json(tmp_path, values, flags):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(SPEC))
    if values.get("--iterations", "").strip().lstrip("+").isdigit() and int(values["--iterations"]) > 50:
        values["--iterations"] = "50"  # a long run is not a hang
    args = ["--format", "json", *sorted(flags), *(f"{option}={text}" for option, text in values.items()), str(spec)]
    result = _run(args, tmp_path)
    assert result.exit_code in DOCUMENTED, (args, result.output)
    if result.exit_code == 2 and "Invalid value" in result.stderr:
        assert result.stdout == ""  # a usage error runs nothing
    for line in result.stdout.splitlines():
        document = json.loads(line, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
        assert isinstance(document, dict) and "spec" in document
    gradcheck = [json.loads(line).get("gradcheck") for line in result.stdout.splitlines()]
    for check in filter(None, gradcheck):
        assert all(math.isfinite(check[key]) for key in ("eps", "atol", "rtol"))
        assert check["passed"] is False or check["inputs"], "a gradcheck that checked nothing cannot pass"


NAMES = st.one_of(st.text(max_size=40), st.sampled_from(["..", ".", "../../escaped", "/etc/passwd", "a/b/../c",
                                                         "a\x00b", "\n", "\u2028", "\x1b[31m", "-", "~", "x" * 300,
                                                         "CON", ".jsonl", "{name}"]))
TEMPLATES = st.sampled_from(["{name}.jsonl", "out/{name}.csv", "out/{name}.json", "{name}{name}.jsonl",
                             "out/{name}-trace.jsonl"])
GRAPHS = st.sampled_from([None, "{name}.dot", "out/{name}.dot", "out/g-{name}.dot"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(name=NAMES, trace=TEMPLATES, graph=GRAPHS)
def test_name_paths_stay_where_the_template_puts_them(tmp_path_factory, name, trace, graph):
    box = tmp_path_factory.mktemp("box")
    work = box / "work"
    (work / "out").mkdir(parents=True)
    spec = work / "spec.json"
    text = json.dumps({**SPEC, "name": name})
    spec.write_text(text)
    args = ["--trace", trace, *(["--graph", graph] if graph else []), "spec.json"]
    result = _run(args, work)
    assert result.exit_code in DOCUMENTED, result.output
    component = safe_name(name)
    assert component and "/" not in component and "\x00" not in component and not component.startswith(".")
    assert len(component) <= MAX_NAME and component.isprintable()
    expected = {trace.replace("{name}", component)} | ({graph.replace("{name}", component)} if graph else set())
    written = {str(path.relative_to(work)) for path in box.rglob("*") if path.is_file()} - {"spec.json"}
    assert written <= expected, (written, expected)
    if result.exit_code == 0:
        assert written == expected
    assert spec.read_text() == text


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 3000), op=st.sampled_from(["add", "mul", "max", "min"]),
       repeat=st.booleans(), explain=st.booleans())
def test_wide_gates_print_in_proportion_to_the_spec(tmp_path, n, op, repeat, explain):
    inputs = {f"x{i}": 0.5 + (i % 7) / 10 for i in range(n)}
    refs = list(inputs) + (["x0"] if repeat else [])
    gates = {f"s{i}": {"op": "sin", "in": ["x0"]} for i in range(n)}  # fan-out n from x0
    gates["wide"] = {"op": op, "in": refs}  # fan-in n
    gates["f"] = {"op": "add", "in": ["wide", *(f"s{i}" for i in range(n))]}
    spec = tmp_path / "wide.json"
    spec.write_text(json.dumps({"inputs": inputs, "gates": gates, "output": "f"}))
    result = _run([*(["--explain"] if explain else []), str(spec)], tmp_path)
    assert result.exit_code in (0, 3), result.output
    lines = result.stdout.splitlines()
    longest = max(map(len, lines))
    # the walkthrough writes x0's n terms (and f's) on one line each; the table has no such line
    assert longest <= (120 * n + 400 if explain else 200), longest
    assert len(result.stdout) <= 700 * n + 5000, len(result.stdout)
