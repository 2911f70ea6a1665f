"""`--update-expect`: rewrites only the failing numbers, byte for byte elsewhere.

Every expected file text is written out by hand in the test: the original
with exactly the intended substrings replaced.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from runner.results import update_expect
from runner.cli import main
from runner.results.update_expect import format_number

ROOT = Path(__file__).resolve().parents[2]

# f = x * y at (3, 4); one ascent step of 0.01 gives (3.04, 4.03), f = 12.2512.
# Comments, odd spacing, quoting and key order that an update must not touch.
SPEC = """\
# a product  -- keep this comment
inputs:
  x: 3        # trailing comment
  "y": 4
gates:
  f: {op: mul,   in: [x, y]}
optimize: {step_size: 0.01, iterations: 1}
expect:
  grads:   {x: 5, y: 3}      # x is wrong on purpose
  output:
    value: 11.5   # wrong, with its own tolerance
    abs: 0.1
  optimized:
    inputs: {x: 3.04, y: 9}
  tolerance: {abs: 1.0e-6, rel: 0}
# the end
"""

UPDATED = (SPEC.replace("{x: 5, y: 3}", "{x: 4, y: 3}")
           .replace("value: 11.5", "value: 12")
           .replace("{x: 3.04, y: 9}", "{x: 3.04, y: 4.03}"))


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def write(tmp_path: Path):
    def _write(text: str | bytes, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path
    return _write


def test_only_failing_values_change_byte_for_byte(write):
    path = write(SPEC)
    assert run("--check", str(path)).exit_code == 1
    result = run("--update-expect", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == UPDATED.encode()
    assert result.stdout == (f"updated {path} (3 of 5 entries)\n"
                             "  output: 11.5 -> 12\n  grads.x: 5 -> 4\n  optimized.inputs.y: 9 -> 4.03\n")
    assert run("--check", str(path)).exit_code == 0


def test_second_update_changes_nothing(write):
    path = write(UPDATED)
    result = run("--update-expect", str(path))
    assert result.stdout == f"unchanged {path} (5 checked, all within tolerance)\n"
    assert path.read_bytes() == UPDATED.encode()


def test_passing_rounded_entries_are_kept():
    # neuron.yaml pins published, rounded numbers with a tolerance: nothing to update
    original = (ROOT / "circuits" / "neuron.yaml").read_bytes()
    result = run("--update-expect", "--format", "json", str(ROOT / "circuits" / "neuron.yaml"))
    assert json.loads(result.stdout)["updated"] is False
    assert (ROOT / "circuits" / "neuron.yaml").read_bytes() == original


def test_crlf_and_bom_survive(write):
    path = write(b"\xef\xbb\xbf" + SPEC.replace("\n", "\r\n").encode())
    assert run("--update-expect", str(path)).exit_code == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + UPDATED.replace("\n", "\r\n").encode()


def test_missing_block_is_created_with_tolerance(write):
    head = SPEC.split("expect:")[0]
    path = write(head)
    result = run("--update-expect", str(path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"created expect block in {path} (6 entries)\n")
    x, y = 3 + 0.01 * 4, 4 + 0.01 * 3  # one ascent step, gradients (4, 3) by hand
    expected_block = ("expect:\n"
                      "  output: 12\n"
                      "  grads: {x: 4, y: 3}\n"
                      "  optimized:\n"
                      f"    output: {x * y!r}\n"
                      f"    inputs: {{x: {x!r}, y: {y!r}}}\n"
                      "  tolerance: {abs: 1.0e-09, rel: 1.0e-09}\n")
    assert path.read_text() == head + expected_block
    assert run("--check", str(path)).exit_code == 0


def test_created_block_follows_the_files_indentation(write):
    path = write("inputs:\n    x: 2\ngates:\n    f: {op: square, in: [x]}\n")
    run("--update-expect", str(path))
    assert path.read_text().endswith("expect:\n    output: 4\n    grads: {x: 4}\n"
                                     "    tolerance: {abs: 1.0e-09, rel: 1.0e-09}\n")


def test_empty_expect_key_is_filled_as_a_block_like_the_file(write):
    """A block-style file gets a block under `expect:`, as a missing key gets one;
    the comment stays on the key's line."""
    path = write("inputs: {x: 2}\ngates:\n  f: {op: square, in: [x]}\nexpect:   # fill me\nname: sq\n")
    run("--update-expect", str(path))
    assert path.read_text() == ("inputs: {x: 2}\ngates:\n  f: {op: square, in: [x]}\n"
                                "expect:   # fill me\n  output: 4\n  grads: {x: 4}\n"
                                "  tolerance: {abs: 1.0e-09, rel: 1.0e-09}\nname: sq\n")


def test_expect_null_is_filled_as_a_block_with_the_files_indentation(write):
    path = write("inputs:\n    x: 2\ngates:\n    f: {op: square, in: [x]}\nexpect: null")
    run("--update-expect", str(path))
    assert path.read_text() == ("inputs:\n    x: 2\ngates:\n    f: {op: square, in: [x]}\nexpect:\n"
                                "    output: 4\n    grads: {x: 4}\n    tolerance: {abs: 1.0e-09, rel: 1.0e-09}\n")
    assert run("--check", str(path)).exit_code == 0


def test_empty_expect_with_trailing_spaces_and_crlf(write):
    path = write(b"inputs: {x: 2}\r\ngates:\r\n  f: {op: square, in: [x]}\r\nexpect:   \r\nname: sq\r\n")
    run("--update-expect", str(path))
    assert path.read_bytes() == (b"inputs: {x: 2}\r\ngates:\r\n  f: {op: square, in: [x]}\r\nexpect:\r\n"
                                 b"  output: 4\r\n  grads: {x: 4}\r\n  tolerance: {abs: 1.0e-09, rel: 1.0e-09}\r\n"
                                 b"name: sq\r\n")


def test_empty_expect_in_a_one_line_spec_stays_one_line(write):
    path = write("{inputs: {x: 2}, gates: {f: {op: square, in: [x]}}, expect: }\n")
    run("--update-expect", str(path))
    assert path.read_text() == ("{inputs: {x: 2}, gates: {f: {op: square, in: [x]}}, expect: {output: 4, "
                                "grads: {x: 4}, tolerance: {abs: 1.0e-09, rel: 1.0e-09}} }\n")


# --------------------------------------------------------------------------
# --round: the shortest decimal within half the tolerance

@pytest.mark.parametrize("value,allowed,expected", [
    (7.300000000000001, 5e-4, 7.3), (7.2996, 5e-4, 7.2996), (2.1, 0.01, 2.1), (3.14159265, 0.01, 3.14),
    (3.14159265, 0.0, 3.14159265), (-0.000123456, 1e-6, -0.000123), (123456.7, 100, 123500.0)])
def test_rounded_is_the_shortest_decimal_within_half_the_tolerance(value, allowed, expected):
    result = update_expect.rounded(value, allowed)
    assert result == expected
    assert abs(result - value) <= allowed / 2 or result == value
    # no decimal with fewer significant digits is close enough (checked by brute force, digit by digit)
    digits = next(d for d in range(1, 18) if float(f"{result:.{d}g}") == result)
    for shorter in range(1, digits):
        assert abs(float(f"{value:.{shorter}g}") - value) > allowed / 2


def test_update_expect_round_writes_what_the_tolerance_needs(write):
    path = write("inputs: {x: 73, y: 0.1}\ngates:\n  f: {op: mul, in: [x, y]}\n"
                 "expect:\n  output: 1\n  grads: {x: 0}\n  tolerance: {abs: 5.0e-4, rel: 0}\n")
    assert 73 * 0.1 == 7.300000000000001
    result = run("--update-expect", "--round", str(path))
    assert result.exit_code == 0
    assert path.read_text() == ("inputs: {x: 73, y: 0.1}\ngates:\n  f: {op: mul, in: [x, y]}\n"
                                "expect:\n  output: 7.3\n  grads: {x: 0.1}\n  tolerance: {abs: 5.0e-4, rel: 0}\n")
    assert run("--check", str(path)).exit_code == 0


def test_without_round_numbers_keep_every_digit(write):
    path = write("inputs: {x: 73, y: 0.1}\ngates:\n  f: {op: mul, in: [x, y]}\n"
                 "expect:\n  output: 1\n  tolerance: {abs: 5.0e-4, rel: 0}\n")
    run("--update-expect", str(path))
    assert "output: 7.300000000000001\n" in path.read_text()


def test_a_created_block_is_rounded_to_the_default_tolerance(write):
    path = write("inputs: {x: 73, y: 0.1}\ngates:\n  f: {op: mul, in: [x, y]}\n")
    run("--update-expect", "--round", str(path))
    assert path.read_text().endswith("expect:\n  output: 7.3\n  grads: {x: 0.1, y: 73}\n"
                                     "  tolerance: {abs: 1.0e-09, rel: 1.0e-09}\n")


def test_round_needs_update_expect(write):
    result = CliRunner().invoke(main, ["--round", str(write("inputs: {x: 1}\ngates: {f: {op: neg, in: [x]}}\n"))])
    assert result.exit_code == 2 and "--round goes with --update-expect" in result.output


# --------------------------------------------------------------------------
# optimized.steps and optimized.stop

TOLERANCE_RUN = ("inputs: {x: 3, y: 4}\ngates:\n  d: {op: sub, in: [x, y]}\n  d2: {op: square, in: [d]}\n"
                 "  f: {op: sub, in: [100, d2]}\n"
                 "optimize: {step_size: 0.01, iterations: 100000, tolerance: 1.0e-9}\n")


def test_a_created_block_pins_steps_and_stop_of_a_run_that_ended_early(write):
    path = write(TOLERANCE_RUN)
    result = run("--update-expect", str(path))
    assert "optimized.steps: 224" in result.output and "optimized.stop: tolerance" in result.output
    assert yaml.safe_load(path.read_text())["expect"]["optimized"]["steps"] == 224  # by hand: see circuits/
    assert run("--check", str(path)).exit_code == 0


def test_a_run_of_all_its_iterations_does_not_pin_them(write):
    path = write("inputs: {x: 3}\ngates: {f: {op: square, in: [x]}}\noptimize: {iterations: 3}\n")
    run("--update-expect", str(path))
    assert set(yaml.safe_load(path.read_text())["expect"]["optimized"]) == {"output", "inputs"}


def test_wrong_steps_and_stop_are_rewritten(write):
    original = TOLERANCE_RUN + "expect:\n  optimized:\n    steps: 100   # how many\n    stop: iterations\n"
    path = write(original)
    result = run("--update-expect", str(path))
    assert result.exit_code == 0, result.output
    assert "optimized.stop: iterations -> tolerance" in result.output
    assert path.read_text() == original.replace("steps: 100", "steps: 224").replace("stop: iterations",
                                                                                    "stop: tolerance")


def test_a_rounded_json_block_keeps_steps_a_whole_number(write):
    text = json.dumps({"inputs": {"x": 3, "y": 4},
                       "gates": {"d": {"op": "sub", "in": ["x", "y"]}, "d2": {"op": "square", "in": ["d"]},
                                 "f": {"op": "sub", "in": [100, "d2"]}},
                       "optimize": {"step_size": 0.01, "iterations": 100000, "tolerance": 1e-9}}, indent=2)
    path = write(text, "spec.json")
    assert run("--update-expect", "--round", str(path)).exit_code == 0
    assert '"steps": 224,' in path.read_text()
    assert json.loads(path.read_text())["expect"]["optimized"]["stop"] == "tolerance"
    assert run("--check", str(path)).exit_code == 0


def test_wrong_stop_is_rewritten_in_json(write):
    spec = {"inputs": {"x": 3, "y": 4}, "gates": {"d": {"op": "sub", "in": ["x", "y"]},
                                                  "d2": {"op": "square", "in": ["d"]},
                                                  "f": {"op": "sub", "in": [100, "d2"]}},
            "optimize": {"step_size": 0.01, "iterations": 100000, "tolerance": 1e-9},
            "expect": {"optimized": {"stop": "stalled", "steps": 224}}}
    path = write(json.dumps(spec, indent=2), "spec.json")
    assert run("--update-expect", str(path)).exit_code == 0
    assert path.read_text() == json.dumps(spec, indent=2).replace('"stalled"', '"tolerance"')


def test_block_with_only_a_tolerance_gets_entries(write):
    path = write("inputs: {x: 2}\ngates:\n  f: {op: square, in: [x]}\nexpect:\n  tolerance: {abs: 0.5}\n")
    run("--update-expect", str(path))
    assert path.read_text().endswith("expect:\n  output: 4\n  grads: {x: 4}\n  tolerance: {abs: 0.5}\n")


def test_one_line_flow_spec(write):
    path = write("{inputs: {x: 2}, gates: {f: {op: square, in: [x]}}}\n")
    run("--update-expect", str(path))
    assert path.read_text() == ("{inputs: {x: 2}, gates: {f: {op: square, in: [x]}}, expect: {output: 4, "
                                "grads: {x: 4}, tolerance: {abs: 1.0e-09, rel: 1.0e-09}}}\n")


def test_block_goes_before_a_document_end_marker(write):
    path = write("inputs: {x: 2}\ngates:\n  f: {op: square, in: [x]}\n...\n")
    run("--update-expect", str(path))
    assert path.read_text().endswith("  tolerance: {abs: 1.0e-09, rel: 1.0e-09}\n...\n")
    assert run("--check", str(path)).exit_code == 0


def test_file_without_final_newline(write):
    path = write("inputs: {x: 2}\ngates:\n  f: {op: square, in: [x]}")
    run("--update-expect", str(path))
    assert path.read_text().startswith("inputs: {x: 2}\ngates:\n  f: {op: square, in: [x]}\nexpect:\n")


def test_json_values_edited_in_place(write):
    text = ('{\n    "inputs": {"x": 3, "y": 4},\n    "gates": {"f": {"op": "mul", "in": ["x", "y"]}},\n'
            '    "expect": {"output": 12, "grads": {"x": 5, "y": {"value": 7, "abs": 0.5}}}\n}\n')
    path = write(text, "spec.json")
    assert run("--update-expect", str(path)).exit_code == 0
    assert path.read_text() == text.replace('"x": 5', '"x": 4.0').replace('"value": 7', '"value": 3.0')


def test_json_block_created_with_the_files_indentation(write):
    text = '{\n  "inputs": {"x": 2},\n  "gates": {"f": {"op": "square", "in": ["x"]}}\n}\n'
    path = write(text, "spec.json")
    run("--update-expect", str(path))
    new = path.read_text()
    assert new.startswith('{\n  "inputs": {"x": 2},\n  "gates": {"f": {"op": "square", "in": ["x"]}},\n'
                          '  "expect": {\n    "output": 4.0,\n    "grads": {\n      "x": 4.0\n    },\n')
    assert json.loads(new)["expect"]["tolerance"] == {"abs": 1e-9, "rel": 1e-9}
    assert list(json.loads(new)) == ["inputs", "gates", "expect"]
    assert run("--check", str(path)).exit_code == 0


@pytest.mark.parametrize("value, text", [(4.0, "4"), (-0.5, "-0.5"), (1e-05, "1.0e-05"),
                                         (0.1 + 0.2, "0.30000000000000004"), (2.5e20, "2.5e+20"),
                                         (1e16, "1.0e+16")])
def test_numbers_round_trip_exactly_in_yaml_1_1_and_1_2(value, text):
    assert format_number(value) == text
    assert yaml.safe_load(f"v: {text}")["v"] == value  # PyYAML is YAML 1.1


def test_alias_entries_are_refused_with_a_position(write):
    original = "inputs: {x: 3, y: 4}\ngates:\n  f: {op: mul, in: [x, y]}\nexpect:\n  grads: {x: &g 1, y: *g}\n"
    path = write(original)
    result = run("--update-expect", str(path))
    assert result.exit_code == 2
    assert f"{path}:5:" in result.stderr and "alias" in result.stderr
    assert path.read_text() == original


def test_invalid_spec_is_left_alone(write):
    original = "inputs: {x: 3}\ngates:\n  f: {op: mull, in: [x, x]}\nexpect: {output: 1}\n"
    path = write(original)
    result = run("--update-expect", str(path))
    assert result.exit_code == 2 and f"{path}:3:11: error:" in result.stderr
    assert path.read_text() == original


def test_failed_replace_leaves_original_and_no_temporary(write, monkeypatch):
    path = write(SPEC)

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(update_expect.os, "replace", refuse)
    result = run("--update-expect", str(path))
    assert result.exit_code == 2
    assert "cannot write the file: No space left on device; it was left unchanged" in result.stderr
    assert path.read_bytes() == SPEC.encode()
    assert sorted(p.name for p in path.parent.iterdir()) == ["spec.yaml"]


def test_failed_write_midway_leaves_original(write, monkeypatch):
    path = write(SPEC)

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(update_expect.os, "fsync", broken_fsync)
    assert run("--update-expect", str(path)).exit_code == 2
    assert path.read_bytes() == SPEC.encode()
    assert sorted(p.name for p in path.parent.iterdir()) == ["spec.yaml"]


def test_permissions_kept_and_symlink_followed(write, tmp_path):
    path = write(SPEC)
    os.chmod(path, 0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(path)
    assert run("--update-expect", str(link)).exit_code == 0
    assert link.is_symlink() and path.read_bytes() == UPDATED.encode()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_json_report_of_changes(write):
    path = write(SPEC)
    result = run("--update-expect", "--format", "json", str(path))
    report = json.loads(result.stdout)
    assert report["updated"] is True and report["checked"] == 5
    assert report["changes"][1] == {"path": "grads.x", "old": 5.0, "new": 4.0}


@pytest.mark.parametrize("extra", [["--set", "x=1"], ["--check"], ["--gradcheck"]])
def test_update_refuses_options_that_change_results(write, extra):
    path = write(SPEC)
    result = run("--update-expect", *extra, str(path))
    assert result.exit_code == 2 and "cannot be combined" in result.stderr
    assert path.read_bytes() == SPEC.encode()


def test_update_refuses_stdin():
    result = run("--update-expect", "-")
    assert result.exit_code == 2 and "standard input" in result.stderr


# ---- issue 17, items 1 and 2 ------------------------------------------------------

DIVERGING = "inputs: {x: 1}\ngates:\n  f: {op: square, in: [x]}\noutput: f\noptimize: {step_size: 1, iterations: 1000}\n"


def test_an_update_refuses_a_run_that_diverges(write):
    """A plain run of this spec exits 3 (overflow at step 324); the update
    used to record the last finite step (optimized.output: 1.66e+308)."""
    path = write(DIVERGING)
    result = run("--update-expect", str(path))
    assert result.exit_code == 3
    assert f"{path}:3:3: error: numerical error: at optimization step 324" in result.stderr
    assert "the file was left unchanged" in result.stderr
    assert path.read_text() == DIVERGING


def test_check_does_not_pass_a_run_that_diverged(write):
    expect = "expect:\n  optimized: {output: 1.6608505280233433e+308, inputs: {x: 1.2887398992905214e+154}}\n"
    path = write(DIVERGING + expect)
    result = run("--check", str(path))
    assert result.exit_code == 3
    assert result.stdout.startswith(f"FAIL {path} (2 checked)\n")
    assert "did not run to the end (diverged at step 324)" in result.stdout


def test_an_update_refuses_a_pipe(write):
    path = write(SPEC)
    done = subprocess.run([sys.executable, "-m", "runner", "--update-expect", "/dev/stdin"],
                          input=path.read_bytes(), capture_output=True)  # stdin is a pipe
    done.stderr = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "/dev/stdin: error: not a regular file" in done.stderr
    assert path.read_bytes() == SPEC.encode()


def test_a_file_name_that_nearly_fills_name_max_is_updated(tmp_path):
    path = tmp_path / ("s" * 237 + ".yaml")  # 242 bytes: ".NAME.random.tmp" would not fit in 255
    path.write_text(SPEC)
    result = run("--update-expect", str(path))
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == UPDATED
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("failure", ["mkstemp", "stat"])
def test_an_unwritable_directory_is_an_error_not_a_traceback(write, monkeypatch, failure):
    path = write(SPEC)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    if failure == "mkstemp":
        monkeypatch.setattr(update_expect.tempfile, "mkstemp", refuse)
    else:
        real_stat = update_expect.os.stat
        monkeypatch.setattr(update_expect.os, "stat", lambda p, *a, **k: refuse() if p == os.path.realpath(path)
                            else real_stat(p, *a, **k))
    result = run("--update-expect", str(path))
    assert result.exit_code == 2
    assert f"{path}: error: cannot write the file: Permission denied; it was left unchanged" in result.stderr
    assert path.read_bytes() == SPEC.encode()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_is_an_error_not_a_traceback(write, tmp_path):
    path = write(SPEC)
    os.chmod(tmp_path, 0o555)
    try:
        result = run("--update-expect", str(path))
    finally:
        os.chmod(tmp_path, 0o755)
    assert result.exit_code == 2 and "Permission denied" in result.stderr
    assert path.read_bytes() == SPEC.encode()


@pytest.mark.parametrize("example", ["module-fan-out.yaml", "add-multiply-formula.yaml"])
def test_formulas_and_modules_update_without_a_warning(write, recwarn, example):
    """The update compares the spec before and after; serializing a module
    instance or a formula mapping once raised pydantic's serializer warnings."""
    text = (ROOT / "circuits" / example).read_text().split("\nexpect:")[0] + "\n"
    path = write(text)
    result = CliRunner().invoke(main, ["--update-expect", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "created expect block" in result.output
    assert [str(w.message) for w in recwarn] == []
    assert run("--check", str(path)).exit_code == 0
