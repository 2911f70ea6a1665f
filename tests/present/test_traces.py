"""Trace files, the terminal summary of long runs, and the progress bar."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.optimization.trace import TraceRow
from runner.present.progress import Progress, progress_wanted
from runner.optimization.trace import KeepEvery, KeepSummary
from runner.present.trace_files import row_json

# f = 3x with x from 1 and step 0.5: x_n = 1 + 1.5 n, f_n = 3 + 4.5 n, df/dx = 3
LINE = """
inputs: {x: 1, k: {value: 3, trainable: false}}
gates: {f: {op: mul, in: [x, k]}}
optimize: {step_size: 0.5, iterations: 1000}
"""


def x_at(n: int) -> float:
    return 1 + 1.5 * n


@pytest.fixture
def spec(tmp_path) -> str:
    path = tmp_path / "line.yaml"
    path.write_text(LINE)
    return str(path)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


# --------------------------------------------------------------------------
# Trace files

@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_jsonl_trace_has_every_row_whatever_the_format(spec, tmp_path, fmt):
    trace = tmp_path / "t.jsonl"
    result = invoke(spec, "--trace", str(trace), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(rows) == 1001
    assert [row["iteration"] for row in rows] == list(range(1001))
    for row in rows[::97]:
        n = row["iteration"]
        assert row["inputs"] == {"x": x_at(n)} and row["grads"] == {"x": 3.0}
        assert abs(row["output"] - 3 * x_at(n)) < 1e-9


def test_csv_trace_has_a_header_naming_inputs_and_gradients(spec, tmp_path):
    trace = tmp_path / "t.csv"
    assert invoke(spec, "--trace", str(trace), "--iterations", "10").exit_code == 0
    rows = list(csv.reader(trace.open()))
    assert rows[0] == ["iteration", "output", "inputs.x", "grads.x"]
    assert len(rows) == 12
    assert [float(cell) for cell in rows[11]] == [10, 3 * x_at(10), x_at(10), 3.0]


def test_csv_trace_of_random_search_has_no_gradient_columns(tmp_path):
    trace = tmp_path / "t.csv"
    circuits = Path(__file__).resolve().parents[2] / "circuits"
    assert invoke(str(circuits / "multiply-gate-random.yaml"), "--trace", str(trace)).exit_code == 0
    rows = list(csv.reader(trace.open()))
    assert rows[0] == ["iteration", "output", "inputs.x", "inputs.y"] and len(rows) == 102


def test_json_trace_is_one_document_like_the_json_output(spec, tmp_path):
    trace = tmp_path / "t.json"
    result = invoke(spec, "--trace", str(trace), "--format", "json", "--iterations", "20")
    document = json.loads(trace.read_text())
    output = json.loads(result.stdout)["optimization"]
    assert document["circuit"] == "line" and document["stop"] == "iterations" and document["steps"] == 20
    assert document["trace"] == output["trace"] and document["final"] == output["final"]
    assert document["final"]["inputs"] == {"x": x_at(20), "k": 3.0}


def test_row_json_is_what_json_dumps_gives():
    rows = [TraceRow(7, 1e-300, {"a": -0.0, "b_2": 1.5e16}, {"a": 3.0, "b_2": -1e-5}),
            TraceRow(0, 2.0, {"x": 0.1}, None)]
    for row in rows:
        assert json.loads(row_json(row)) == row.as_dict()
        assert row_json(row) == json.dumps(row.as_dict())


@pytest.mark.parametrize("args, message", [
    (["--trace", "t.txt"], "end the file name with .csv, .jsonl, .json"),
])
def test_unknown_trace_extension_is_a_usage_error(spec, args, message):
    result = invoke(spec, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_several_specs_need_a_name_placeholder(spec, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(LINE)
    result = invoke(spec, str(other), "--trace", str(tmp_path / "t.jsonl"))
    assert result.exit_code == 2 and "{name}" in result.stderr
    result = invoke(spec, str(other), "--iterations", "3", "--trace", str(tmp_path / "{name}.jsonl"))
    assert result.exit_code == 0
    for name in ("line", "other"):
        assert len((tmp_path / f"{name}.jsonl").read_text().splitlines()) == 4


def test_trace_of_a_spec_without_optimization_warns(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("inputs: {x: 1}\ngates: {f: {op: neg, in: [x]}}\n")
    result = invoke(str(path), "--trace", str(tmp_path / "t.jsonl"))
    assert result.exit_code == 0 and "no optimize block" in result.stderr
    assert not (tmp_path / "t.jsonl").exists()


def test_unwritable_trace_file_is_an_error(spec, tmp_path):
    result = invoke(spec, "--trace", str(tmp_path / "missing-dir" / "t.jsonl"))
    assert result.exit_code == 2 and "cannot write the trace file" in result.stderr


def test_killed_run_leaves_every_finished_row(tmp_path):
    """A real process, killed with SIGKILL mid-run: every line on disk is a whole row."""
    spec = tmp_path / "long.yaml"
    spec.write_text(LINE.replace("iterations: 1000", "iterations: 100000000"))
    trace = tmp_path / "t.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "runner", str(spec), "--trace", str(trace), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not trace.exists() or trace.stat().st_size < 20_000):
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    text = trace.read_text()
    assert text.endswith("\n")
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) > 50
    assert [row["iteration"] for row in rows] == list(range(len(rows)))
    assert rows[-1]["inputs"]["x"] == x_at(len(rows) - 1)


def test_memory_stays_flat_with_a_trace_file(spec, tmp_path):
    """10x the iterations must not mean 10x the memory: the table keeps a sample."""
    def peak(iterations: int) -> int:
        tracemalloc.start()
        result = invoke(spec, "--iterations", str(iterations), "--trace", str(tmp_path / "t.jsonl"))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert result.exit_code == 0
        return top

    small, large = peak(2_000), peak(20_000)
    # keeping every row would cost ~18,000 rows * several hundred bytes = megabytes more
    assert large - small < 200_000, (small, large)


# --------------------------------------------------------------------------
# Which rows the summary keeps

def rows(n: int):
    return (TraceRow(i, float(i), {"x": float(i)}, {"x": 1.0}) for i in range(n))


def test_summary_keeps_first_evenly_spaced_and_last_rows():
    keep = KeepSummary()
    for row in rows(100_001):
        keep.add(row)
    kept = [row.iteration for row in keep.rows()]
    assert kept[:5] == [0, 1, 2, 3, 4] and kept[-5:] == [99_996, 99_997, 99_998, 99_999, 100_000]
    middle = kept[5:-5]
    assert middle == list(range(10_000, 100_000, 10_000))
    assert len(keep.middle) <= 20 and len(keep.first) <= 25


@pytest.mark.parametrize("n", [1, 2, 25, 26, 101, 12_345, 1_000_001])
def test_summary_is_bounded_and_evenly_spaced_for_any_length(n):
    keep = KeepSummary()
    for row in rows(n):
        keep.add(row)
    kept = [row.iteration for row in keep.rows()]
    assert kept == sorted(set(kept)) and kept[-1] == n - 1 and kept[0] == 0
    assert len(kept) <= 30
    if n <= 25:
        assert kept == list(range(n))
    middle = [i for i in kept if 4 < i < n - 5]
    gaps = {b - a for a, b in zip(middle, middle[1:])}
    assert len(gaps) <= 1  # evenly spaced


def test_every_keeps_multiples_and_the_last_row():
    keep = KeepEvery(300)
    for row in rows(1001):
        keep.add(row)
    assert [row.iteration for row in keep.rows()] == [0, 300, 600, 900, 1000]


# --------------------------------------------------------------------------
# The table

def shown_iterations(table: str) -> list[int]:
    """The iteration column of the trace table (rows: iteration, output, x, grad x)."""
    return [int(cells[0]) for cells in map(str.split, table.splitlines())
            if len(cells) == 4 and cells[0].isdigit()]


def test_long_run_table_shows_sampled_rows_and_a_caption(spec):
    result = invoke(spec, "--iterations", "100000")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    iterations = shown_iterations(result.stdout)
    assert iterations[:5] == [0, 1, 2, 3, 4] and iterations[-1] == 100_000
    assert 10_000 in iterations and 50_000 in iterations and 12_345 not in iterations
    assert "19 of 100,001 rows shown" in result.stdout
    assert sum(line.strip() == "..." for line in lines) == 2
    assert "100000 steps (all iterations done)" in result.stdout
    assert f"final output {3 * x_at(100_000):.10g} (started at 3, change {4.5 * 100_000:.10g})" in result.stdout
    assert any(line.split() == ["x", "1", f"{x_at(100_000):.10g}"] for line in lines)


def test_every_chooses_the_rows(spec):
    result = invoke(spec, "--iterations", "1000", "--every", "250")
    assert shown_iterations(result.stdout) == [0, 250, 500, 750, 1000]
    assert "..." not in result.stdout


def test_short_run_shows_every_row(spec):
    result = invoke(spec, "--iterations", "20")
    assert "rows shown" not in result.stdout and "..." not in result.stdout
    assert shown_iterations(result.stdout) == list(range(21))


def test_stop_reasons(tmp_path):
    circuits = Path(__file__).resolve().parents[2] / "circuits"
    tolerance = invoke(str(circuits / "distance-ridge-tolerance.yaml"))
    assert "224 steps (output changed by less than 1e-09)" in tolerance.stdout


# --------------------------------------------------------------------------
# Progress

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_for_tables_on_a_terminal_without_quiet():
    assert progress_wanted(quiet=False, fmt="table", stream=FakeTerminal())
    assert not progress_wanted(quiet=True, fmt="table", stream=FakeTerminal())
    assert not progress_wanted(quiet=False, fmt="json", stream=FakeTerminal())
    assert not progress_wanted(quiet=False, fmt="csv", stream=FakeTerminal())
    assert not progress_wanted(quiet=False, fmt="table", stream=io.StringIO())
    assert not progress_wanted(quiet=False, fmt="table", stream=object())


def test_progress_bar_appears_after_the_delay():
    now = [0.0]
    terminal = FakeTerminal()
    with Progress(1000, "line", delay=1.0, stream=terminal, clock=lambda: now[0]) as progress:
        for i in range(500):
            now[0] = i * 0.001  # 0.5 s: a short run draws nothing
            progress(TraceRow(i, 0.0, {}, None))
        assert not progress.shown and terminal.getvalue() == ""
        for i in range(500, 1001):
            now[0] = i * 0.01
            progress(TraceRow(i, 0.0, {}, None))
        assert progress.shown
    drawn = terminal.getvalue()
    assert "line" in drawn and "1000/1000" in drawn and "100%" in drawn and "#" * 36 in drawn


def test_no_progress_on_a_pipe(spec):
    result = invoke(spec, "--iterations", "100000")  # CliRunner's stderr is not a terminal
    assert result.stderr == ""


@pytest.mark.skipif(not Path("/usr/bin/script").exists(), reason="needs util-linux script")
@pytest.mark.parametrize("extra, bar", [([], True), (["--quiet"], False)])
def test_progress_in_a_real_terminal(tmp_path, extra, bar):
    """Run under script(1), which gives the command a pseudo-terminal; the
    bar's delay is set to 0 so a short run shows it."""
    (tmp_path / "line.yaml").write_text(LINE)
    args = [str(tmp_path / "line.yaml"), "--iterations", "3000", *extra]
    (tmp_path / "run.py").write_text("import runner.present.progress as p; p.DELAY = 0.0\n"
                                     f"from runner.cli import main; main({args!r})\n")
    typescript = tmp_path / "typescript"
    subprocess.run(["script", "-qec", f"{sys.executable} {tmp_path / 'run.py'}", str(typescript)],
                   check=True, stdout=subprocess.DEVNULL, timeout=60)
    text = typescript.read_text(errors="replace")
    assert "final output" in text
    assert ("3000/3000" in text) is bar, text[-500:]
