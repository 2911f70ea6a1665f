"""Hostile and malformed specs: each ends in the right exit code and message.

`tests/corpus/manifest.yaml` states, for every file in `tests/corpus/`, the
exit code and the exact error lines (position and a message fragment) that
`circuit-run FILE` must print, or for valid files the numbers it must give.
Each file runs through click's CliRunner, and a few through a real
`python -m runner` process. Files that would be too big to commit (100 MB,
10,000 levels deep, 10,000-gate cycles) are generated into tmp_path here,
and run in a child process whose peak memory is measured.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from runner.cli import main
from runner.limits import Limits
from runner.present.errors import printable
from runner.loading.document import load_file

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
MANIFEST = load_file(str(CORPUS / "manifest.yaml")).data  # our own loader: duplicates fail
MARKER = "circuit-run-pwned-marker"  # what the !!python/... payloads would create
SECONDS = 5.0  # every corpus file is answered well within this
MB = 1024 * 1024


class Outcome:
    def __init__(self, code: int, stdout: str, stderr: str, seconds: float):
        self.code, self.stdout, self.stderr, self.seconds = code, stdout, stderr, seconds


def run_cli(*args: str, stdin: bytes | None = None) -> Outcome:
    """In-process, as a user would run it; a Python exception is a failure."""
    start = time.perf_counter()
    result = CliRunner().invoke(main, list(args), input=stdin)
    seconds = time.perf_counter() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"circuit-run raised {result.exception!r}") from result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr, seconds)


# Runs a command and reports its peak memory. The measuring is done from a
# fresh little process, because a child's ru_maxrss counts the memory its
# parent had when it forked (here: the whole test session).
_PEAK = ("import os, subprocess, sys\n"
         "child = subprocess.Popen(sys.argv[1:])\n"
         "_, status, usage = os.wait4(child.pid, 0)\n"
         "sys.stderr.write(f'PEAK-KB {usage.ru_maxrss}\\n')\n"
         "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run_process(*args: str, cwd: Path, stdin=None, timeout: float = 60) -> tuple[Outcome, int]:
    """`python -m runner ARGS` in a child process; returns its outcome and
    its peak resident memory in bytes."""
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", _PEAK, sys.executable, "-m", "runner", *args],
                             cwd=cwd, stdin=stdin, capture_output=True, timeout=timeout,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    stderr, _, peak = process.stderr.decode().rpartition("PEAK-KB ")
    assert process.returncode >= 0, f"killed by signal {-process.returncode}"
    return Outcome(process.returncode, process.stdout.decode(), stderr, seconds), int(peak) * 1024


def assert_clean(outcome: Outcome, source: str) -> None:
    """No traceback, every stderr line a diagnostic about this file."""
    assert "Traceback" not in outcome.stdout + outcome.stderr, outcome.stderr
    line_form = re.compile(re.escape(source) + r"(:\d+:\d+)?: (error|warning|note): \S")
    for line in outcome.stderr.splitlines():
        assert line_form.match(line), f"not a diagnostic line: {line!r}"


def assert_as_stated(outcome: Outcome, source: str, expected: dict) -> None:
    spec = source
    if "in" in expected:  # the errors are in the spec's data file
        source = str(Path(source).parent / expected["in"])
    assert_clean(outcome, source)
    assert outcome.code == expected["exit"], outcome.stderr
    lines = outcome.stderr.splitlines()
    errors = [line for line in lines if ": error: " in line]
    if expected["exit"] != 0:
        if expected.get("partial"):  # a diverged optimization still reports its finite rows
            assert '"stop": "diverged"' in outcome.stdout
        else:  # no results, but a JSON line with the same errors, so CI gets one line per spec
            (report,) = [json.loads(line) for line in outcome.stdout.splitlines()]
            assert report["spec"] == spec and report["exit_code"] == expected["exit"]
            assert len(report["errors"]) == len(errors)
            for record, line in zip(report["errors"], errors):
                at = f":{record['line']}:{record['column']}" if record["line"] else ""
                assert line == printable(f"{source}{at}: error: {record['message']}"), (line, record)
        stated = expected["errors"]
        assert len(errors) == len(stated), "\n".join(errors)
        for line, (at, fragment) in zip(errors, stated):
            prefix = f"{source}:{at}: error: " if at else f"{source}: error: "
            assert line.startswith(prefix), f"{line!r} does not start with {prefix!r}"
            assert fragment in line[len(prefix):], f"{fragment!r} not in {line!r}"
        return
    assert errors == []
    warnings = [line for line in lines if ": warning: " in line]
    assert len(warnings) == expected.get("warnings", 0), warnings
    report = json.loads(outcome.stdout)
    assert math.isclose(report["output"]["value"], expected["output"], rel_tol=1e-12, abs_tol=1e-12)
    for kind, field in (("grads", "grad"), ("values", "value")):
        for name, number in expected.get(kind, {}).items():
            actual = report["nodes"][name][field]
            assert math.isclose(actual, number, rel_tol=1e-12, abs_tol=1e-12), (kind, name, actual)


# --------------------------------------------------------------------------
# The committed corpus

def test_manifest_lists_every_corpus_file():
    files = {path.name for path in CORPUS.iterdir() if path.is_file()} - {"manifest.yaml"}  # data/: CSVs
    assert files == set(MANIFEST), (files ^ set(MANIFEST))
    for name, expected in MANIFEST.items():
        assert expected["exit"] in (0, 1, 2, 3), name
        assert ("errors" in expected) == (expected["exit"] != 0), name
        assert "output" in expected or expected["exit"] != 0, name


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload that ran would leave MARKER here
    path = str(CORPUS / name)
    outcome = run_cli("--format", "json", path)
    assert_as_stated(outcome, path, MANIFEST[name])
    assert outcome.seconds < SECONDS
    assert not (tmp_path / MARKER).exists()


IN_A_REAL_PROCESS = [
    "tag-python-os-system.yaml", "tag-python-os-system-top.yaml", "tag-python-object-new.yaml",
    "alias-billion-laughs.yaml", "enc-utf16.yaml", "enc-lone-surrogate.json",
    "type-input-5000-digits.yaml", "num-log-negative.yaml", "valid-yaml12-names.yaml", "formula-import.yaml",
]


@pytest.mark.parametrize("name", IN_A_REAL_PROCESS)
def test_corpus_file_in_a_real_process(name, tmp_path):
    path = str(CORPUS / name)
    outcome, _ = run_process("--format", "json", path, cwd=tmp_path)
    assert_as_stated(outcome, path, MANIFEST[name])
    assert not (tmp_path / MARKER).exists()


def test_the_python_tag_payload_is_real(tmp_path, monkeypatch):
    """The marker check above could pass vacuously if the payload were
    broken; PyYAML's unsafe loader shows it does run a command."""
    monkeypatch.chdir(tmp_path)
    yaml.unsafe_load((CORPUS / "tag-python-os-system.yaml").read_text())
    assert (tmp_path / MARKER).exists()


# --------------------------------------------------------------------------
# Generated hostile files: too big to commit

SPEC = "inputs: {x: 1}\ngates:\n  f: {op: neg, in: [x]}\n"


def huge_file(path: Path, size: int) -> Path:
    """A valid spec followed by comment lines, `size` bytes in all."""
    line = b"# " + b"a" * 97 + b"\n"
    with open(path, "wb") as handle:
        handle.write(SPEC.encode())
        handle.write(line * ((size - len(SPEC)) // len(line)))
        handle.write(b"#" * (size - handle.tell()))
    assert path.stat().st_size == size
    return path


@pytest.fixture(scope="module")
def huge(tmp_path_factory) -> Path:
    return huge_file(tmp_path_factory.mktemp("huge") / "huge.yaml", 100 * MB)


def test_a_100_mb_file_is_refused_without_reading_it(huge, tmp_path):
    path = huge
    outcome, peak = run_process(str(path), cwd=tmp_path)
    assert_clean(outcome, str(path))
    assert outcome.code == 2
    assert f"{path}: error: the file is larger than the limit of 67,108,864 bytes" in outcome.stderr
    assert peak < 60 * MB, f"peak memory {peak / MB:.0f} MB"  # Python alone takes ~35 MB
    assert outcome.seconds < 10


def test_100_mb_on_standard_input_is_refused_after_the_limit(huge, tmp_path):
    with open(huge, "rb") as stdin:
        outcome, peak = run_process("-", cwd=tmp_path, stdin=stdin)
    assert_clean(outcome, "<stdin>")
    assert outcome.code == 2
    assert "<stdin>: error: the file is larger than the limit of 67,108,864 bytes" in outcome.stderr
    # at most the limit (64 MiB) plus one byte is ever read
    assert peak < 64 * MB + 60 * MB, f"peak memory {peak / MB:.0f} MB"


DEEP = 10_000
DEEP_FILES = {
    # name: (text, where the depth limit (64) is first passed)
    "flow.yaml": ("z: " + "[" * DEEP + "]" * DEEP + "\n" + SPEC, None),
    "block-sequence.yaml": (SPEC + "z:\n" + "- " * DEEP + "1\n", "5:127"),
    "flow-mappings.yaml": (SPEC + "z: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", "4:256"),
    "deep.json": ('{"inputs": {"x": 1}, "gates": {"f": {"op": "neg", "in": ["x"]}}, "z": '
                  + "[" * DEEP + "]" * DEEP + "}", None),
}


@pytest.mark.parametrize("name", sorted(DEEP_FILES))
def test_10000_levels_of_nesting_are_refused(name, tmp_path):
    text, at = DEEP_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    outcome = run_cli(str(path))
    assert_clean(outcome, str(path))
    assert outcome.code == 2
    assert "nested deeper than 64 levels" in outcome.stderr or \
        "nested far too deeply" in outcome.stderr, outcome.stderr
    if at:
        assert outcome.stderr.startswith(f"{path}:{at}: error: the document is nested deeper than 64")
    assert outcome.seconds < SECONDS


def test_deep_nesting_in_a_real_process_stays_small(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("z: " + "[" * 100_000 + "]" * 100_000 + "\n")
    outcome, peak = run_process(str(path), cwd=tmp_path)
    assert_clean(outcome, str(path))
    assert outcome.code == 2 and "nested" in outcome.stderr
    assert peak < 60 * MB


def test_a_10000_gate_cycle_is_found_and_shown_briefly(tmp_path):
    gates = "".join(f"  g{i}: {{op: neg, in: [g{(i + 1) % DEEP}]}}\n" for i in range(DEEP))
    path = tmp_path / "cycle.yaml"
    path.write_text("inputs: {x: 1}\ngates:\n" + gates + "  f: {op: add, in: [x, g0]}\n")
    outcome = run_cli(str(path))
    assert_clean(outcome, str(path))
    assert outcome.code == 2
    (line,) = outcome.stderr.splitlines()
    assert line.startswith(f"{path}:3:22: error: gates.g0.in[0]: gates form a cycle: g0 -> g1 -> ")
    assert "... (9990 more) -> g0" in line and len(line) < 400
    assert outcome.seconds < 10


def test_thousands_of_unknown_names_do_not_make_validation_quadratic(tmp_path):
    """Each 'did you mean' compares a name with every node; a budget keeps
    10,000 unknown references among 10,000 gates from taking hours."""
    gates = "".join(f"  g{i}: {{op: neg, in: [missing{i}]}}\n" for i in range(DEEP))
    path = tmp_path / "unknown.yaml"
    path.write_text("inputs: {x: 1}\ngates:\n" + gates)
    outcome = run_cli(str(path))
    assert_clean(outcome, str(path))
    assert outcome.code == 2
    lines = outcome.stderr.splitlines()
    assert len(lines) == DEEP
    assert lines[0].startswith(f"{path}:3:22: error: gates.g0.in[0]: unknown node 'missing0'")
    assert lines[-1] == f"{path}:{DEEP + 2}:25: error: gates.g{DEEP - 1}.in[0]: unknown node 'missing{DEEP - 1}'"
    assert outcome.seconds < 15


# --------------------------------------------------------------------------
# Limits: each setting at its boundary, in YAML and JSON where it applies

def spec_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_max_bytes_boundary(tmp_path):
    path = spec_file(tmp_path, "spec.yaml", SPEC)
    size = len(SPEC.encode())
    assert run_cli("--max-bytes", str(size), path).code == 0
    outcome = run_cli("--max-bytes", str(size - 1), path)
    assert outcome.code == 2
    assert outcome.stderr == f"{path}: error: the file is larger than the limit of {size - 1:,} bytes " \
                             "(raise it with --max-bytes if the spec is real)\n"
    stdin = run_cli("--max-bytes", str(size - 1), "-", stdin=SPEC.encode())
    assert stdin.code == 2 and "<stdin>: error: the file is larger than the limit" in stdin.stderr
    assert run_cli("--max-bytes", str(size), "-", stdin=SPEC.encode()).code == 0


# the spec's deepest node, the list `in`, is at depth 4: top, gates, f, in
@pytest.mark.parametrize("name, text, at", [
    ("spec.yaml", SPEC, "3:20"),
    ("spec.json", '{"inputs": {"x": 1},\n "gates": {"f": {"op": "neg", "in": ["x"]}}}', "2:37"),
])
def test_max_depth_boundary(tmp_path, name, text, at):
    path = spec_file(tmp_path, name, text)
    assert run_cli("--max-depth", "4", path).code == 0
    outcome = run_cli("--max-depth", "3", path)
    assert outcome.code == 2
    assert outcome.stderr.startswith(f"{path}:{at}: error: the document is nested deeper than 3 levels")


def test_max_alias_nodes_boundary(tmp_path):
    # *pair copies a list and its two names: three nodes
    path = spec_file(tmp_path, "spec.yaml", "inputs: {x: 1, y: 2}\ngates:\n"
                                            "  s: {op: add, in: &pair [x, y]}\n  f: {op: mul, in: *pair}\n")
    assert run_cli("--max-alias-nodes", "3", path).code == 0
    outcome = run_cli("--max-alias-nodes", "2", path)
    assert outcome.code == 2
    assert outcome.stderr.startswith(f"{path}:4:6: error: aliases expand to more than 2 nodes")


@pytest.mark.parametrize("name, text, at", [
    ("spec.yaml", "inputs: {x: 1, y: 2}\ngates:\n  s: {op: add, in: [x, y]}\n  f: {op: neg, in: [s]}\n"
                  "  g: {op: neg, in: [f]}\n", "2:1"),
    ("spec.json", '{"inputs": {"x": 1, "y": 2}, "gates": {"s": {"op": "add", "in": ["x", "y"]},\n'
                  ' "f": {"op": "neg", "in": ["s"]}, "g": {"op": "neg", "in": ["f"]}}}', "1:30"),
])
def test_max_nodes_boundary(tmp_path, name, text, at):
    path = spec_file(tmp_path, name, text)  # 2 inputs + 3 gates
    assert run_cli("--max-nodes", "5", path).code == 0
    outcome = run_cli("--max-nodes", "4", path)
    assert outcome.code == 2
    assert outcome.stderr == f"{path}:{at}: error: the spec has more than 4 nodes (inputs and gates); " \
                             "raise --max-nodes if it is real\n"


def test_default_limits_leave_room_for_real_specs():
    limits = Limits()
    assert limits.max_nodes >= 10_000_000  # benchmarks use 10**6-gate specs
    assert limits.max_bytes == 64 * MB
    assert limits.max_depth == 64 and limits.max_alias_nodes == 10_000


@pytest.mark.parametrize("option", ["--max-bytes", "--max-depth", "--max-alias-nodes", "--max-nodes"])
def test_limit_options_refuse_nonsense(option, tmp_path):
    path = spec_file(tmp_path, "spec.yaml", SPEC)
    outcome = run_cli(option, "-1", path)
    assert outcome.code == 2 and option in outcome.stderr and "Traceback" not in outcome.stderr
