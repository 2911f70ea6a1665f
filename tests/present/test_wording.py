"""Messages count in good English: "1 node does not", "2 nodes do not",
"1 input", "1 level" — every message that prints a count that can be 1."""

from __future__ import annotations

import pytest

from runner.words import counted

ONE_UNUSED = "inputs: {x: 3}\ngates:\n  u: {op: neg, in: [x]}\n  f: {op: mul, in: [x, x]}\noutput: f\n"
TWO_UNUSED = "inputs: {x: 3}\ngates:\n  u: {op: neg, in: [x]}\n  v: {op: neg, in: [x]}\n  f: {op: mul, in: [x, x]}\n" \
             "output: f\n"


@pytest.mark.parametrize("number,noun,plural,text", [
    (1, "node", None, "1 node"), (0, "node", None, "0 nodes"), (2, "entry", "entries", "2 entries"),
    (10_000, "node", None, "10,000 nodes")])
def test_counted(number, noun, plural, text):
    assert counted(number, noun, plural) == text


def test_one_unused_node_does_not_feed(cli, write):
    result = cli(write("one.yaml", ONE_UNUSED))
    assert "warning: 1 node does not feed the output 'f'" in result.stderr


def test_two_unused_nodes_do_not_feed(cli, write):
    result = cli(write("two.yaml", TWO_UNUSED))
    assert "warning: 2 nodes do not feed the output 'f'" in result.stderr


def test_gradcheck_of_one_input(cli, write):
    result = cli("--gradcheck", write("one.yaml", ONE_UNUSED))
    assert "gradcheck PASS" in result.stdout and "(1 input; eps" in result.stdout


def test_one_folded_node(cli, write):
    result = cli(write("fold.yaml", 'inputs: {x: 3}\ngates:\n  f: "x*x + 1"\n'))
    assert "  1 node of formulas and module instances is folded into" in result.stdout


def test_created_block_with_one_entry(cli, write):
    path = write("c.yaml", "inputs: {x: 3}\ngates:\n  f: {op: mul, in: [x, 2]}\nexpect:\n  grads: {x: 1}\n")
    result = cli("--update-expect", path)
    assert f"updated {path} (1 of 1 entry)" in result.stdout


@pytest.mark.parametrize("option,fragment", [
    (("--max-depth", "1"), "nested deeper than 1 level;"),
    (("--max-nodes", "1"), "more than 1 node (inputs and gates)"),
    (("--max-bytes", "1"), "larger than the limit of 1 byte "),
])
def test_limit_of_one(cli, write, option, fragment):
    result = cli(*option, write("one.yaml", ONE_UNUSED))
    assert fragment in result.stderr


def test_json_limits_of_one(cli, write):
    result = cli("--max-depth", "1", write("one.json", '{"inputs": {"x": 1}, "gates": {"f": {"op": "neg", "in": ["x"]}}}'))
    assert "nested deeper than 1 level;" in result.stderr


def test_an_instance_with_one_output_is_not_an_output(cli, write):
    text = 'inputs: {x: 1}\nmodules:\n  n:\n    in: [x]\n    params: {w: 1}\n    out: {a: "w*x"}\ngates:\n' \
           '  h: {use: n, in: [x]}\n'
    result = cli(write("one-out.yaml", text))
    assert "h stands for the list of its 1 output (h.a); name one" in result.stderr


def test_a_list_of_one_value_in_a_formula(cli, write):
    text = 'inputs: {x: 1}\nmodules:\n  n:\n    in: [x]\n    params: {w: 1}\n    out: {a: "w*x"}\ngates:\n' \
           '  h: {use: n, in: [x]}\n  f: "exp(h)"\n'
    result = cli(write("list1.yaml", text))
    assert "gates.f: a list of 1 value cannot be an input of exp(...)" in result.stderr


def test_csv_data_limit_of_one_byte(tmp_path):
    from runner.errors import SpecError
    from runner.loading.csv_reader import read_csv

    path = tmp_path / "d.csv"
    path.write_text("x\n1\n")
    with pytest.raises(SpecError) as raised:
        read_csv(path, max_bytes=1)
    assert "larger than the limit of 1 byte (raise it with --max-bytes if the data is real)" in str(raised.value)
