"""Validation through the Python API and the command line. The invalid
specs with their exact expected errors are the corpus (tests/corpus/,
tests/hostile/test_corpus.py); these are the properties around them."""

from __future__ import annotations

import re

import pytest

import runner
from helpers import CORPUS
from runner.errors import SpecError


def test_errors_are_sorted_by_position(cli):
    path = CORPUS / "all-wrong-types.yaml"
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


def test_a_real_gate_named_in_is_not_called_misindented():
    """Only a value that cannot be a gate (a list of inputs, an op's name) is
    read as a mis-indented key; a formula named `in` gets the usual checks."""
    with pytest.raises(SpecError) as caught:
        runner.load_spec_text('inputs: {x: 1, y: 2}\ngates:\n  in: "x * y"\n  f: {op: mull, in: [in, x]}\n')
    messages = [problem.message for problem in caught.value.problems]
    assert messages == ["unknown op 'mull' (did you mean 'mul'?)"]


def test_an_op_name_at_the_level_of_gate_names_is_called_misindented():
    with pytest.raises(SpecError) as caught:
        runner.load_spec_text("inputs: {x: 1}\ngates:\n  f:\n  op: neg\n  in: [x]\n")
    by_path = {problem.path: problem for problem in caught.value.problems}
    assert (by_path["gates.op"].line, by_path["gates.op"].column) == (4, 3)
    assert "indent 'op' one level deeper, under 'f'" in by_path["gates.op"].message
    assert "is an op: call it" not in " ".join(p.message for p in caught.value.problems)
