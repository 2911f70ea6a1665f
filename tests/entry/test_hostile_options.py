"""Hostile command lines (issue 17 and the CLI bugs of issue 12): each ends in
a result or a clear error with its documented exit code, never a traceback,
and nothing is written where it must not be."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.errors import EXIT_SPEC_ERROR

SQUARE = "inputs: {x: 3}\ngates: {f: {op: square, in: [x]}}\n"


# ---- non-finite option values (issue 17, item 4) -----------------------------------

@pytest.mark.parametrize("option", ["--gradcheck-eps", "--gradcheck-atol", "--gradcheck-rtol", "--numerical-h",
                                    "--step-size", "--tolerance"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "infinity"])
def test_non_finite_option_values_are_usage_errors(cli, write, option, value):
    path = write("s.yaml", SQUARE)
    result = cli("--gradcheck", "--numerical", "--format", "json", f"{option}={value}", path)
    assert result.exit_code == EXIT_SPEC_ERROR
    assert result.stdout == ""
    assert f"Invalid value for '{option}': must be a finite number" in result.stderr


@pytest.mark.parametrize("option,value,fragment", [
    ("--gradcheck-eps", "0", "greater than 0"), ("--numerical-h", "-1e-6", "greater than 0"),
    ("--gradcheck-atol", "-1", "at least 0"), ("--gradcheck-rtol", "abc", "is not a number")])
def test_out_of_range_option_values_are_usage_errors(cli, write, option, value, fragment):
    result = cli("--gradcheck", f"{option}={value}", write("s.yaml", SQUARE))
    assert result.exit_code == EXIT_SPEC_ERROR and fragment in result.stderr


def test_zero_tolerances_are_still_allowed(cli, write):
    (doc,) = cli.json("--gradcheck", "--gradcheck-atol", "0", "--gradcheck-rtol", "0.5", write("s.yaml", SQUARE))
    assert doc["gradcheck"]["atol"] == 0.0 and doc["gradcheck"]["rtol"] == 0.5


# ---- output paths: --trace names, {name}, the specs themselves ------------------------

OPTIMIZING = "name: {name}\ninputs: {{x: 3}}\ngates: {{f: {{op: square, in: [x]}}}}\n" \
             "optimize: {{goal: minimize, iterations: 2}}\n"


@pytest.mark.parametrize("target", [".jsonl", ".csv", "traces/.json", ".JSONL"])
def test_a_trace_name_that_is_only_an_extension_is_refused(cli, write, tmp_path, monkeypatch, target):
    """Issue 17, item 3: `.jsonl` passed the command line's check, then open_trace raised ValueError."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "traces").mkdir()
    result = cli("--trace", target, write("s.yaml", OPTIMIZING.format(name="s")))
    assert result.exit_code == EXIT_SPEC_ERROR and result.stdout == ""
    assert "Invalid value for '--trace'" in result.stderr and "has no name before its extension" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["s.yaml", "traces"]


@pytest.mark.parametrize("name", ["../../escaped", "/etc/passwd", "..", ".hidden", "a/b", "a\\b", "a\0b",
                                  "a\nb", "\u202e\u2028x", "\x1b[31m", "x" * 300])
def test_a_spec_name_stays_one_file_name_inside_the_trace_directory(cli, write, tmp_path, name):
    """Issue 17, item 5: every {name} path gets the same sanitized name;
    nothing is written outside the directory the template names."""
    spec = write("s.yaml", OPTIMIZING.format(name=json.dumps(name)))
    box = tmp_path / "out" / "traces"
    box.mkdir(parents=True)
    result = cli("--trace", str(box / "{name}.jsonl"), "--graph", str(box / "{name}.dot"), spec)
    assert result.exit_code == 0, result.stderr
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.name != "s.yaml")
    assert [p.parent for p in written] == [box, box]
    stems = {p.stem for p in written}
    assert len(stems) == 1
    (stem,) = stems
    assert 0 < len(stem) <= 100 and not stem.startswith(".")
    assert all(c.isalnum() or c in "-_." for c in stem)


def test_the_sanitized_name_is_the_same_for_every_output(tmp_path):
    from runner.present.output_paths import OutputPaths, safe_name

    paths = OutputPaths([("trace", "t/{name}.csv"), ("graph", "g/{name}.dot"), ("plot", "{name}.png")], [])
    assert paths.resolve("../a b", "s.yaml") == [("trace", "t/_._a_b.csv"), ("graph", "g/_._a_b.dot"),
                                                 ("plot", "_._a_b.png")]
    assert safe_name("..") == "_." and safe_name("") == safe_name(None) == "circuit"
    assert safe_name("été-1.x") == "été-1.x"


@pytest.mark.parametrize("option,suffix", [("--trace", ".json"), ("--graph", ".dot"), ("--plot", ".png"),
                                           ("--html", ".html")])
def test_an_output_that_is_one_of_the_specs_is_refused(cli, tmp_path, option, suffix):
    """Issue 17, item 6: `--trace '{name}.json' a.json b.json` replaced both specs with traces."""
    specs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}{suffix}"
        path.write_text(json.dumps({"name": name, "inputs": {"x": 3}, "gates": {"f": {"op": "square", "in": ["x"]}},
                                    "optimize": {"iterations": 2}}))
        specs.append(path)
    before = [path.read_bytes() for path in specs]
    result = cli(option, str(tmp_path / f"{{name}}{suffix}"), *map(str, specs))
    assert result.exit_code == EXIT_SPEC_ERROR
    assert [path.read_bytes() for path in specs] == before
    for path in specs:
        assert f"{path}: error: {option} {path}: that is the spec {path}, which would be overwritten" \
            in result.stderr


def test_an_output_that_links_to_a_spec_is_refused(cli, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(OPTIMIZING.format(name="s"))
    (tmp_path / "link.jsonl").symlink_to(spec)
    result = cli("--trace", str(tmp_path / "link.jsonl"), str(spec))
    assert result.exit_code == EXIT_SPEC_ERROR and "which would be overwritten" in result.stderr
    assert spec.read_text() == OPTIMIZING.format(name="s")


# ---- several files for one option (issue 12, bug 7) --------------------------------

def test_several_graphs_and_traces_are_all_written(cli, write, tmp_path):
    spec = write("s.yaml", OPTIMIZING.format(name="s"))
    result = cli("--graph", str(tmp_path / "a.dot"), "--graph", str(tmp_path / "b.dot"),
                 "--trace", str(tmp_path / "t.jsonl"), "--trace", str(tmp_path / "t.csv"), spec)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.dot").read_text() == (tmp_path / "b.dot").read_text()
    assert "digraph circuit {" in (tmp_path / "a.dot").read_text()
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 3
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "iteration,output,inputs.x,grads.x"


def test_two_outputs_into_one_file_are_refused(cli, write, tmp_path):
    result = cli("--graph", str(tmp_path / "a.dot"), "--graph", str(tmp_path / "a.dot"),
                 write("s.yaml", OPTIMIZING.format(name="s")))
    assert result.exit_code == EXIT_SPEC_ERROR and "--graph writes the same file" in result.stderr
    assert not (tmp_path / "a.dot").exists()


# ---- Ctrl-C (issue 12, bug 1) ---------------------------------------------------------

LONG_RUN = "inputs: {x: 1, y: 2}\ngates: {f: {op: mul, in: [x, y]}}\n" \
           "optimize: {step_size: 1.0e-6, iterations: 100000000}\n"


def _ctrl_c_at(monkeypatch, iteration: int) -> None:
    """Press Ctrl-C (a real SIGINT to this process) when the run keeps row `iteration`."""
    from runner.optimization import trace

    keep = trace.KeepSummary.add

    def add(self, row):
        keep(self, row)
        if row.iteration == iteration:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(trace.KeepSummary, "add", add)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_shows_the_rows_so_far_and_exits_130(cli, write, tmp_path, monkeypatch):
    _ctrl_c_at(monkeypatch, 57)
    spec = write("long.yaml", LONG_RUN)
    other = write("other.yaml", SQUARE)
    result = cli("--trace", str(tmp_path / "{name}.json"), spec, other)
    assert result.exit_code == 130
    assert "57 steps (interrupted at step 57)" in result.stdout
    assert result.stdout.rstrip().splitlines()[-3:][0].split()[:2] == ["input", "start"]
    assert any(line.split()[:1] == ["57"] for line in result.stdout.splitlines())  # the last row is shown
    assert result.stderr == f"{spec}: interrupted at step 57 (the rows so far are shown)\n"
    assert "circuit other" not in result.stdout  # the command stops there
    trace = json.loads((tmp_path / "long.json").read_text())
    assert trace["stop"] == "interrupted" and trace["steps"] == 57
    assert [row["iteration"] for row in trace["trace"]] == list(range(58))


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_under_check_is_not_a_pass(cli, write, monkeypatch):
    _ctrl_c_at(monkeypatch, 3)
    spec = write("long.yaml", LONG_RUN + "expect: {output: 2}\n")
    result = cli("--check", spec)
    assert result.exit_code == 130
    assert result.stdout.startswith(f"FAIL {spec} (1 checked)\n  the optimization did not run to the end "
                                    "(interrupted at step 3)")


def test_ctrl_c_outside_the_optimization_ends_quietly_with_130(cli, write, monkeypatch):
    import runner.spec.validate as validate

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(validate, "load_spec", interrupted)
    result = cli(write("s.yaml", SQUARE))
    assert result.exit_code == 130
    assert result.stderr == "circuit-run: interrupted\n" and "Aborted" not in result.output


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_on_a_real_process(write, tmp_path):
    spec = write("long.yaml", LONG_RUN)
    trace = tmp_path / "t.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "runner", "--trace", str(trace), spec],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not trace.exists() or trace.stat().st_size < 10_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    (line,) = stderr.splitlines()
    steps = int(line.split("interrupted at step ")[1].split()[0])
    assert f"{steps} steps (interrupted at step {steps})" in stdout
    rows = trace.read_text().splitlines()
    assert json.loads(rows[-1])["iteration"] == steps and len(rows) == steps + 1


# ---- stdout that cannot be written (issue 17, item 11; issue 12, bug 9) ---------------------

def _chain(tmp_path, n: int = 20_000) -> str:
    gates = {f"g{i}": {"op": "add", "in": ["x", f"g{i - 1}" if i else "x"]} for i in range(n)}
    path = tmp_path / "chain.json"
    path.write_text(json.dumps({"inputs": {"x": 0.5}, "gates": gates}))
    return str(path)


@pytest.mark.parametrize("fmt", ["csv", "table", "json"])
def test_a_closed_pipe_ends_quietly_as_for_any_unix_filter(tmp_path, fmt):
    """`circuit-run --format csv big.json | head -1` exited 1 ("a check failed")."""
    process = subprocess.Popen([sys.executable, "-m", "runner", "--format", fmt, _chain(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(10)
    process.stdout.close()  # the reader goes away, as `head` does
    stderr = process.stderr.read()
    process.wait(timeout=60)
    # 128 + SIGPIPE, as a shell reports a filter killed by it; 0 when the reader
    # left during the last write (the kernel then reports a short write, not an error)
    assert process.returncode in (141, 0)
    assert stderr == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("options", [["--format", "csv"], [], ["--format", "json"], ["--schema"],
                                     ["--update-expect", "--format", "json"]])
def test_a_full_disk_is_an_error_with_exit_code_2(tmp_path, options):
    spec = tmp_path / "s.yaml"
    spec.write_text(SQUARE)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "runner", *options, str(spec)], stdout=full,
                              stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2
    assert done.stderr == "circuit-run: error: cannot write the output: No space left on device\n"


def test_every_exit_code_is_in_the_one_table_and_in_the_help(cli):
    from runner import errors

    constants = {value for name, value in vars(errors).items() if name.startswith("EXIT_") and isinstance(value, int)}
    assert constants == set(errors.EXIT_CODES)
    help_text = cli("--help").stdout
    for code, (brief, _) in errors.EXIT_CODES.items():
        assert f"{code:<3} {brief}" in help_text
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for code, (_, meaning) in errors.EXIT_CODES.items():
        assert f"| {code} | {meaning.replace('|', chr(92) + '|')} |" in readme


# ---- names that try to forge lines or drive the terminal (issue 17, item 9) ----------------

FORGED = "z\nforged.yaml:9:9: error: injected\u001b[31m"
_DIAGNOSTIC = re.compile(r"^.*?(:\d+:\d+)?: (error|warning|note): ")
_RAW = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202e]")


def test_printable_escapes_as_repr_does_and_keeps_ordinary_text():
    from runner.present.errors import printable

    assert printable(FORGED) == "z\\nforged.yaml:9:9: error: injected\\x1b[31m"
    assert printable("a\u2028b\u2029c\u202ed\te\x00\x7f\x85") == "a\\u2028b\\u2029c\\u202ed\\te\\x00\\x7f\\x85"
    assert printable("été ∂f/∂x · 'quoted' C:\\dir") == "été ∂f/∂x · 'quoted' C:\\dir"


@pytest.mark.parametrize("text", [
    f"inputs:\n  {json.dumps(FORGED)}: 1\n  x: 2\ngates: {{f: {{op: neg, in: [x]}}}}\n",
    f"inputs: {{x: 1}}\ngates: {{f: {{op: neg, in: [{json.dumps(FORGED)}]}}}}\n",
    f"inputs: {{x: 1}}\ngates: {{f: {{op: {json.dumps(FORGED)}, in: [x]}}}}\n",
    f"inputs: {{x: 1}}\ngates: {{f: {{op: neg, in: [x]}}}}\noutput: {json.dumps(FORGED)}\n",
    f"inputs: {{x: 1}}\ngates: {{f: {{op: neg, in: [x]}}}}\nexpect: {{grads: {{{json.dumps(FORGED)}: 1}}}}\n",
    f"inputs: {{x: 1}}\ngates: {{f: {{op: neg, in: [x]}}}}\n{json.dumps(FORGED)}: 1\n",
    f"inputs: {{x: 1}}\ngates: {{f: {{op: neg, in: [x]}}}}\nmodules: {{m: {{inputs: [a], gates: {{b: a}}}}}}\n"
    f"{json.dumps(FORGED)}: 1\n",
    f"inputs: {{x: 1}}\ngates: {{f: {json.dumps('x + ' + FORGED)}}}\n",
])
def test_echoed_names_cannot_forge_a_line_or_reach_the_terminal(cli, write, text):
    path = write("s.yaml", text)
    result = cli(path)
    assert result.exit_code == EXIT_SPEC_ERROR
    assert not _RAW.search(result.stderr.replace("\n", ""))
    lines = result.stderr.splitlines()
    assert all(line.startswith(f"{path}:") and _DIAGNOSTIC.match(line) for line in lines), lines
    assert not any(line.startswith("forged.yaml") for line in lines)


def test_set_names_and_file_names_are_escaped_too(cli, tmp_path):
    path = tmp_path / "a\nforged.yaml:1:1: error: x\u2028.yaml"
    path.write_text(SQUARE)
    result = cli("--set", "q\u001b[2J=1", str(path))
    assert result.exit_code == EXIT_SPEC_ERROR
    assert result.stderr.count("\n") == 1 and not _RAW.search(result.stderr[:-1])
    assert "--set q\\x1b[2J: the spec has no input" in result.stderr
    check = cli("--check", str(path))
    assert check.stdout.count("\n") == 2 and "a\\nforged.yaml" in check.stdout


# ---- --format csv with several specs (issue 12, bug 3) -----------------------------------

def test_csv_of_several_specs_names_the_circuit_on_every_row(cli, write):
    import csv
    import io

    first = write("a.yaml", 'name: "odd, \\"name\\"\\n2"\ninputs: {x: 3}\ngates: {f: {op: square, in: [x]}}\n')
    second = write("b.yaml", "inputs: {x: 1, y: 2}\ngates: {g: {op: add, in: [x, y]}}\n")
    result = cli("--format", "csv", "--numerical", first, second)
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["circuit", "spec", "name", "op", "in", "value", "grad", "numerical_grad"]
    assert [row[:4] for row in rows[1:]] == [
        ['odd, "name"\n2', first, "x", "input"], ['odd, "name"\n2', first, "f", "square"],
        ["b", second, "x", "input"], ["b", second, "y", "input"], ["b", second, "g", "add"]]
    assert all(len(row) == 8 for row in rows)


def test_csv_of_one_spec_is_unchanged(cli):
    from helpers import CIRCUITS

    result = cli("--format", "csv", str(CIRCUITS / "add-multiply.yaml"))
    assert result.stdout == ("name,op,in,value,grad\nx,input,,-2.0,-4.0\ny,input,,5.0,-4.0\nz,input,,-4.0,3.0\n"
                             "q,add,x y,3.0,-4.0\nf,mul,q z,-12.0,1.0\n")


def test_open_traces_value_error_is_an_error_not_a_traceback(cli, write, monkeypatch):
    """Behind the command line's own check of the name: open_trace's ValueError
    (issue 17, item 3) is reported as the spec's error, exit 2."""
    from runner.present import trace_files

    opened = []

    def open_trace(path, header):
        opened.append(path)
        raise ValueError(f"end the file name with .csv, .jsonl, .json, not {path!r}")

    monkeypatch.setattr(trace_files, "open_trace", open_trace)
    spec = write("s.yaml", OPTIMIZING.format(name="s"))
    result = cli("--trace", "t.jsonl", spec)
    assert result.exit_code == EXIT_SPEC_ERROR and opened == ["t.jsonl"]
    assert result.stderr == f"{spec}: error: --trace: end the file name with .csv, .jsonl, .json, not 't.jsonl'\n"
