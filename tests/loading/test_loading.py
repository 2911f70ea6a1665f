"""The loader: YAML 1.2 core scalars, safety limits, JSON, encodings."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.errors import SpecError
from runner.limits import Limits
from runner.loading.document import load_text
from runner.loading.yaml_reader import resolve_plain


@pytest.mark.parametrize("text,value", [
    ("1e-3", 1e-3), ("2E5", 2e5), ("-1.5e+2", -150.0), ("12", 12), ("-7", -7), ("+3", 3), (".5", 0.5),
    ("0x1F", 31), ("0o17", 15), ("on", "on"), ("off", "off"), ("yes", "yes"), ("no", "no"), ("y", "y"),
    ("n", "n"), ("true", True), ("False", False), ("null", None), ("~", None), ("1_000", "1_000"),
    ("2001-12-14", "2001-12-14"), ("0b101", "0b101"), ("1:30", "1:30"),
])
def test_plain_scalars_follow_yaml_1_2_core(text, value):
    resolved = resolve_plain(text)
    assert resolved == value and type(resolved) is type(value)


def test_quoted_scalars_stay_strings():
    doc = load_text('a: "1e-3"\nb: \'true\'\nc: !!str 12\nd: !!float 3\n', "t.yaml")
    assert doc.data == {"a": "1e-3", "b": "true", "c": "12", "d": 3.0}


def test_yaml_1_1_names_are_usable_as_node_names(cli, write):
    path = write("names.yaml", "inputs: {on: 2, no: 3, y: 4}\ngates: {n: {op: mul, in: [on, no, y]}}\n")
    (doc,) = cli.json(path)
    assert doc["output"] == {"name": "n", "value": 24.0}


def test_positions_are_computed_for_nested_nodes():
    doc = load_text("inputs:\n  x: 1\ngates:\n  f: {op: neg, in: [x, 2]}\n", "t.yaml")
    assert doc.position(("gates", "f", "in", 1)) == (4, 24)
    assert doc.position(("gates", "f"), key=True) == (4, 3)
    assert doc.position(("gates", "nowhere", "deep")) == (4, 3)  # nearest ancestor


def test_alias_bomb_is_refused_fast():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    with pytest.raises(SpecError, match="aliases expand"):
        load_text("\n".join(lines), "bomb.yaml")
    assert time.perf_counter() - start < 1.0


def test_recursive_alias_is_refused():
    with pytest.raises(SpecError, match="alias used inside its own anchor"):
        load_text("a: &a [1, *a]\n", "r.yaml")


def test_modest_aliases_are_allowed():
    doc = load_text("base: &w {value: 1, trainable: false}\ninputs: {x: *w, y: *w}\n", "t.yaml")
    assert doc.data["inputs"] == {"x": {"value": 1, "trainable": False}, "y": {"value": 1, "trainable": False}}


@pytest.mark.parametrize("text", ["[" * 200_000 + "]" * 200_000, "- " * 200_000 + "x",
                                  "a:\n" + "".join(" " * (2 * k) + f"k{k}:\n" for k in range(1, 300))])
def test_deep_nesting_is_refused_without_crashing(text):
    with pytest.raises(SpecError, match="nested"):
        load_text(text, "deep.yaml")


def test_depth_limit_is_a_setting():
    text = "a: " + "[" * 10 + "]" * 10
    load_text(text, "t.yaml", Limits(max_depth=20))
    with pytest.raises(SpecError, match="deeper than 5"):
        load_text(text, "t.yaml", Limits(max_depth=5))


def test_size_limit(cli, write):
    path = write("big.yaml", "# " + "x" * 2000 + "\n")
    result = cli("--max-bytes", "1000", path)
    assert result.exit_code == 2
    assert "larger than the limit of 1,000 bytes" in result.stderr


@pytest.mark.parametrize("raw,fragment,where", [
    (b"inputs: {x: 1}\n\xff\n", "not valid UTF-8", ":2:1:"),
    (b"inputs: {x: 1}\ngates: \x00\n", "NUL byte", ":2:8:"),
    (b"", "the file is empty", ": error:"),
    (b"# only a comment\n", "the file is empty", ": error:"),
    (b"- 1\n- 2\n", "top level must be a mapping", ":1:1:"),
    (b"just a string\n", "not the string 'just a string'", ":1:1:"),
    (b"a: 1\n---\nb: 2\n", "one document", ":2:1:"),
])
def test_unusable_files_get_one_clear_error(cli, write, raw, fragment, where):
    path = write("spec.yaml", raw)
    result = cli(path)
    assert result.exit_code == 2
    assert fragment in result.stderr and f"{path}{where}" in result.stderr


def test_utf8_bom_is_accepted(cli, write):
    path = write("bom.yaml", "\ufeffinputs: {x: 2}\ngates: {f: {op: square, in: [x]}}\n".encode("utf-8"))
    assert cli.json(path)[0]["output"]["value"] == 4.0


def test_a_bad_byte_after_a_bom_is_named_and_placed_right(cli, write):
    """The BOM's three bytes once shifted the offset: the byte before was named, 3 columns early."""
    path = write("bom.yaml", b"\xef\xbb\xbfinputs:\n  x: 1 # \xff\n")
    result = cli(path)
    assert result.exit_code == 2
    assert f"{path}:2:10: error: the file is not valid UTF-8 (byte 0xff)" in result.stderr


def test_missing_file_and_directory(cli, tmp_path):
    result = cli(str(tmp_path / "nope.yaml"), str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: error: no such file" in result.stderr
    assert f"{tmp_path}: error: is a directory" in result.stderr


# ---- JSON ---------------------------------------------------------------------

def test_json_spec_runs(cli, write):
    path = write("s.json", '{"inputs": {"x": -2, "y": 5, "z": -4},\n "gates": {"q": {"op": "add", "in": ["x", "y"]},'
                           ' "f": {"op": "mul", "in": ["q", "z"]}}}')
    (doc,) = cli.json(path)
    assert doc["nodes"]["x"]["grad"] == -4.0


def test_json_errors_have_positions(cli, write):
    path = write("s.json", '{"inputs": {"x": 1},\n "gates": {"f": {"op": "neg", "in": ["y"]}},\n "inputs": {}}')
    result = cli(path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:2:38: error: gates.f.in[0]: unknown node 'y'; known: f, x"
    assert lines[1].startswith(f"{path}:3:2: error: duplicate key 'inputs'")


def test_json_syntax_error(cli, write):
    path = write("s.json", '{"inputs": {"x": 1,}}')
    result = cli(path)
    assert result.exit_code == 2 and f"{path}:1:20: error: invalid JSON" in result.stderr


def test_stdin_json_and_yaml(cli):
    (doc,) = cli.json("-", input='{"inputs": {"x": 3}, "gates": {"f": {"op": "neg", "in": ["x"]}}}')
    assert doc["spec"] == "<stdin>" and doc["circuit"] == "stdin" and doc["output"]["value"] == -3.0
    result = cli("-", input="inputs: {x: 3}\ngates: {f: {op: neg, in: [xx]}}\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:2:27: error: gates.f.in[0]: unknown node 'xx'")


def test_api_accepts_path_objects():
    import runner
    from helpers import CIRCUITS

    assert runner.load_spec(CIRCUITS / "add-gate.yaml").name == "add-gate"


@pytest.mark.parametrize("text,limit,deep", [
    ('{"a": [[[[1]]]], "b": "[[[[[[[[[["}', 5, False),  # brackets inside a string do not nest
    ('{"a": [[[[1]]]]}', 4, True),
    ('{"a": [[[[1]]]]}', 5, False),
    ('{"a\\"[[[": [[1]], "b": "x\\\\"}', 3, False),  # escaped quotes and backslashes
    ('{"a\\"[[[": [[1]], "b": "x\\\\"}', 2, True),
    ('{"\\u00e9[": [[1]], "c\\n": 1}', 3, False),
])
def test_json_depth_check_ignores_strings(text, limit, deep):
    from runner.loading.json_reader import _json_outline, _too_deep

    assert _too_deep(_json_outline(text).replace(b":", b""), limit) is deep


@pytest.mark.parametrize("text,duplicate", [
    ('{"a": 1, "b": {"c": [1, {"d": 2}]}}', None),
    ('{"a": 1, "b": {"c": [1, {"d": 2, "d": 3}]}}', '"d"'),
    ('{"a": "x:y", "b": 1, "b": 2}', '"b"'),  # a ':' in a string cannot hide a duplicate
    ('{"a:b": ":", "c": [":", "::"], "a:b": 1}', '"a:b"'),
    ('{"a:b": ":", "c": [":", "::"]}', None),
    ('{"a": "\\u003a", "b": 1, "b": 2}', '"b"'),  # escapes: checked by the hook
    ('{"\\u003a": 1, "x": 2}', None),
    ('{"l": [{"a": 1}, {"a": 1, "a": 1}]}', '"a"'),
])
def test_json_duplicate_keys_are_found_without_a_hook_per_object(text, duplicate):
    from runner.loading.document import load_text

    document = load_text(text, "t.json", fmt="json")
    if duplicate is None:
        assert document.problems == []
        assert document.data == json.loads(text)
    else:
        # the problem points at the second of the two keys
        assert [(p.line, p.column) for p in document.problems] == [(1, text.rindex(duplicate) + 1)]
        assert "duplicate key" in document.problems[0].message


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children,
                                                                     max_size=4),
    max_leaves=30)


def _depth_and_pairs(value) -> tuple[int, int]:
    if isinstance(value, dict):
        inner = [_depth_and_pairs(child) for child in value.values()]
        return 1 + max((d for d, _ in inner), default=0), len(value) + sum(p for _, p in inner)
    if isinstance(value, list):
        inner = [_depth_and_pairs(child) for child in value]
        return 1 + max((d for d, _ in inner), default=0), sum(p for _, p in inner)
    return 0, 0


@given(_json_values, st.booleans())
def test_json_outline_counts_pairs_and_depth_like_a_walk(value, ascii_only):
    """The C-speed outline of the text (what duplicate and depth checks read)
    agrees with a walk of the parsed data, whatever the strings hold."""
    from runner.loading.json_reader import _json_outline, _too_deep

    text = json.dumps(value, ensure_ascii=ascii_only)
    depth, pairs = _depth_and_pairs(value)
    outline = _json_outline(text)
    assert outline.count(b":") == pairs
    assert not _too_deep(outline.replace(b":", b""), depth)
    if depth:
        assert _too_deep(outline.replace(b":", b""), depth - 1)
