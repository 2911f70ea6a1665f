"""Invalid specs: each fixture in tests/specs/invalid/ states, in `# error:`
comment lines, every error it must produce (LINE:COL: message fragment).
The CLI must print exactly those, as FILE:LINE:COL, exit 2, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import runner
from runner.errors import SpecError

INVALID = sorted((Path(__file__).parent / "specs" / "invalid").glob("*.yaml"))
EXPECTATION = re.compile(r"^# error: (\d+):(\d+): (.+)$", re.M)


def expectations(path: Path) -> list[tuple[int, int, str]]:
    return [(int(l), int(c), m) for l, c, m in EXPECTATION.findall(path.read_text())]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_its_errors(cli, path):
    expected = expectations(path)
    assert expected, f"{path.name} states no expected error"
    result = cli(str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), result.stderr
    for (line, column, fragment), printed in zip(sorted(expected), lines):
        where = f"{path}:{line}:{column}: error: " if line else f"{path}: error: "
        assert printed.startswith(where), (printed, where)
        assert fragment in printed, (printed, fragment)


def test_errors_are_sorted_by_position(cli):
    path = Path(__file__).parent / "specs" / "invalid" / "wrong-types.yaml"
    printed = cli(str(path)).stderr.splitlines()
    positions = [tuple(map(int, re.match(r".*?:(\d+):(\d+):", line).groups())) for line in printed]
    assert positions == sorted(positions)


def test_api_raises_spec_error_with_problems(write):
    path = write("bad.yaml", "inputs: {x: 1}\ngates:\n  f: {op: neg, in: [y]}\n")
    with pytest.raises(SpecError) as info:
        runner.load_spec(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.column, problem.path) == (3, 21, "gates.f.in[0]")
    assert "unknown node 'y'" in problem.message


def test_unknown_node_without_close_match_lists_known_nodes(write, cli):
    path = write("s.yaml", "inputs: {alpha: 1, beta: 2}\ngates: {f: {op: add, in: [alpha, qqqq]}}\n")
    assert "unknown node 'qqqq'; known: alpha, beta, f" in cli(path).stderr


def test_tag_is_never_executed(cli, tmp_path):
    marker = tmp_path / "pwned"
    spec = tmp_path / "evil.yaml"
    spec.write_text(f'inputs: !!python/object/apply:os.system ["touch {marker}"]\ngates: {{}}\n')
    result = cli(str(spec))
    assert result.exit_code == 2
    assert not marker.exists()
