"""YAML text -> plain data, under the YAML 1.2 core schema.

YAML is read with PyYAML's parser (the C one when present) but resolved and
constructed here, because PyYAML's safe loader follows YAML 1.1 (`on` is a
boolean, `1e-3` a string), keeps the last of two duplicate keys silently and
expands aliases without bound. Here plain scalars follow the YAML 1.2 core
schema, duplicate keys and unknown tags are errors, alias expansion and
nesting depth are bounded, and nothing but plain data is ever built.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem, SpecError
from ..limits import Limits
from .document import Document, Path
from .source import fail, line_column
from ..words import counted

try:  # libyaml's parser is ~10x faster; the pure-Python one gives the same nodes.
    from yaml._yaml import CParser as _Parser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml.composer import Composer as _PyComposer
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader as _Reader
    from yaml.scanner import Scanner as _Scanner

    class _Parser(_Reader, _Scanner, _PyParser, _PyComposer):  # type: ignore[no-redef]
        def __init__(self, stream):
            _Reader.__init__(self, stream)
            _Scanner.__init__(self)
            _PyParser.__init__(self)
            _PyComposer.__init__(self)

    HAVE_LIBYAML = False

# --------------------------------------------------------------------------
# YAML

_TAG = "tag:yaml.org,2002:"
_PLAIN, _MAP, _SEQ = "!plain", _TAG + "map", _TAG + "seq"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_OCT = re.compile(r"0o[0-7]+\Z")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_NUMBER_START = frozenset("0123456789+-.")
_INFINITY = float("inf")


def resolve_plain(value: str) -> Any:
    """A plain (unquoted) scalar under the YAML 1.2 core schema."""
    if value and value[0] in _NUMBER_START:
        if _INT.match(value):
            return int(value)
        if value[:2] == "0o" and _INT_OCT.match(value):
            return int(value[2:], 8)
        if value[:2] == "0x" and _INT_HEX.match(value):
            return int(value[2:], 16)
        if _FLOAT.match(value):
            return float(value)
        if _INF.match(value):
            return float("-inf") if value[0] == "-" else float("inf")
        if _NAN.match(value):
            return float("nan")
        return value
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    return value


def _resolve_tagged(node: ScalarNode) -> Any:
    """A scalar with an explicit standard tag such as `!!str 12`."""
    kind = node.tag[len(_TAG):]
    value = node.value
    if kind == "str":
        return value
    resolved = resolve_plain(value)
    ok = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }[kind]
    if not ok(resolved):
        raise _NodeError(node, f"'{value}' is not a valid !!{kind}")
    return float(resolved) if kind == "float" else resolved


_ALLOWED_SCALAR_TAGS = frozenset(_TAG + kind for kind in ("str", "int", "float", "bool", "null"))


class _NodeError(Exception):
    def __init__(self, node: Node, message: str):
        self.node = node
        self.message = message


class _Composer(_Parser):
    """PyYAML's parser/composer with our resolver: tags are only *marked*
    here; `_construct` decides what each scalar means."""

    def __init__(self, stream: str):
        _Parser.__init__(self, stream)

    def resolve(self, kind, value, implicit):  # called by the parser per node
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _TAG + "str"
        return _SEQ if kind is SequenceNode else _MAP

    # The pure-Python composer looks these up; libyaml's ignores them.
    def descend_resolver(self, *args):
        pass

    def ascend_resolver(self, *args):
        pass


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


class _TooLarge(_NodeError):
    """A number literal beyond floats: a problem to report with the others
    (the value becomes inf, which validation would refuse anyway)."""


def _scalar(node: ScalarNode) -> Any:
    if node.tag == _TAG + "str":
        return node.value
    try:
        if node.tag == _PLAIN:
            value = resolve_plain(node.value)
            if value in (_INFINITY, -_INFINITY) and not _INF.match(node.value):
                raise _TooLarge(node, f"the number {node.value} is too large to represent "
                                      "(the limit is about 1.8e308)")
            return value
        if node.tag in _ALLOWED_SCALAR_TAGS:
            return _resolve_tagged(node)
    except ValueError:  # int() refuses literals of more than 4,300 digits
        raise _TooLarge(node, f"the number has {len(node.value):,} digits, far too many to "
                              "represent (the limit is about 1.8e308)") from None
    raise _NodeError(node, f"the tag '{_short_tag(node.tag)}' is not allowed: a spec is plain data "
                           "(numbers, strings, lists and mappings); remove the tag")


def _construct(root: Node, limits: Limits) -> tuple[Any, list[Problem]]:
    """Build plain data from the node tree without recursion.

    Aliases are expanded as copies, counted against `limits.max_alias_nodes`,
    so a "billion laughs" file stops after a few thousand nodes. Duplicate
    keys are collected as problems (all of them), not raised one by one.
    """
    problems: list[Problem] = []
    seen: set[int] = set()
    alias_nodes = 0
    result: list[Any] = [None]
    # Each frame: (node, container, slot, depth, blame, expanding). Children
    # are written into `container[slot]` once built. `expanding` says the node
    # is a copy made by an alias; `blame` is the collection that holds the
    # node, or inside an expansion the one where the alias was used, so that
    # an error points at what the user wrote.
    stack: list[tuple[Node, Any, Any, int, Node, bool]] = [(root, result, 0, 1, root, False)]
    while stack:
        node, container, slot, depth, blame, expanding = stack.pop()
        if id(node) in seen:
            alias_nodes += 1
            if alias_nodes > limits.max_alias_nodes:
                raise _NodeError(blame, f"aliases expand to more than {counted(limits.max_alias_nodes, 'node')} "
                                        "(a recursive alias or an alias bomb); write the data out "
                                        "or raise --max-alias-nodes")
            expanding = True
        else:
            seen.add(id(node))
        if isinstance(node, ScalarNode):
            try:
                container[slot] = _scalar(node)
            except _TooLarge as err:
                problems.append(Problem(node.start_mark.line + 1, node.start_mark.column + 1, err.message))
                container[slot] = _INFINITY
            continue
        if depth > limits.max_depth:
            hint = " (an alias used inside its own anchor?)" if expanding else ""
            raise _NodeError(blame if expanding else node,
                             f"the document is nested deeper than {counted(limits.max_depth, 'level')}{hint}; "
                             "flatten it or raise --max-depth")
        child_blame = blame if expanding else node
        if node.tag not in (_MAP, _SEQ):
            raise _NodeError(node, f"the tag '{_short_tag(node.tag)}' is not allowed: a spec is "
                                   "plain data; remove the tag")
        if isinstance(node, SequenceNode):
            items = [None] * len(node.value)
            container[slot] = items
            for index in range(len(node.value) - 1, -1, -1):
                stack.append((node.value[index], items, index, depth + 1, child_blame, expanding))
            continue
        mapping: dict[Any, Any] = {}
        container[slot] = mapping
        first_seen: dict[Any, Node] = {}
        children = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _NodeError(key_node, "a mapping key must be a plain name, not a list or mapping")
            key = _scalar(key_node)
            if key in first_seen:
                first = first_seen[key].start_mark
                problems.append(Problem(key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                        f"duplicate key {key!r} (first defined at line {first.line + 1}); "
                                        "each key may appear once, remove or rename one"))
                continue
            first_seen[key] = key_node
            mapping[key] = None
            children.append((value_node, mapping, key, depth + 1, child_blame, expanding))
        stack.extend(reversed(children))
    return result[0], problems


def _yaml_positions(root: Node) -> tuple[dict, dict, dict]:
    """Map each path to the 1-based position of its value and of its key,
    and each scalar's path to the position just after it."""
    values: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    ends: dict[Path, tuple[int, int]] = {}
    stack: list[tuple[Node, Path, int]] = [(root, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if path not in values:
            values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
            if isinstance(node, ScalarNode):
                ends[path] = (node.end_mark.line + 1, node.end_mark.column + 1)
        if depth > Limits.HARD_MAX_DEPTH:  # recursive alias: positions are known already
            continue
        if isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                stack.append((child, path + (index,), depth + 1))
        elif isinstance(node, MappingNode):
            for key_node, child in node.value:
                try:
                    key = _scalar(key_node) if isinstance(key_node, ScalarNode) else None
                except _NodeError:
                    continue
                child_path = path + (key,)
                if child_path not in keys:
                    keys[child_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    stack.append((child, child_path, depth + 1))
    return values, keys, ends


def _check_nesting(text: str, source: str, limits: Limits) -> None:
    """Refuse documents whose nesting would overflow libyaml's C recursion.

    Cheap text tests rule out deep nesting for ordinary files; only a file
    that fails them is walked event by event to find the exact culprit.
    """
    budget = min(limits.max_depth, Limits.HARD_MAX_DEPTH)
    if not _maybe_deep(text, budget):
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Composer):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > budget:
                    mark = event.start_mark
                    raise SpecError(source, [Problem(mark.line + 1, mark.column + 1,
                                                     f"the document is nested deeper than {counted(budget, 'level')}; "
                                                     "flatten it or raise --max-depth")])
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the real parse below reports the syntax error with its position


_INNERMOST_FLOW = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")


def _maybe_deep(text: str, budget: int) -> bool:
    half = max(budget // 2, 1)
    stripped = text
    for _ in range(half):
        if "[" not in stripped and "{" not in stripped:
            break
        reduced = _INNERMOST_FLOW.sub("", stripped)
        if reduced == stripped:  # unbalanced (brackets inside strings): look closer
            return True
        stripped = reduced
    else:
        if "[" in stripped or "{" in stripped:
            return True
    quarter = max(budget // 4, 1)
    if re.search(r"^[ \t]{%d,}\S" % quarter, text, re.M):
        return True
    return re.search(r"(?:[-?:][ \t]+){%d,}" % quarter, text) is not None


def read_yaml(text: str, source: str, limits: Limits) -> Document:
    _check_nesting(text, source, limits)
    composer = _Composer(text)
    try:
        root = composer.get_single_node()
    except yaml.MarkedYAMLError as err:
        raise SpecError(source, [_syntax_problem(err, text)]) from None
    except yaml.reader.ReaderError as err:
        raise SpecError(source, [_reader_problem(err, text)]) from None
    except yaml.YAMLError as err:
        raise fail(source, f"YAML error: {err}") from None
    finally:
        composer.dispose()
    if root is None:
        return Document(source, None, lambda: ({}, {}, {}), text=text)
    try:
        data, problems = _construct(root, limits)
    except _NodeError as err:
        mark = err.node.start_mark
        raise SpecError(source, [Problem(mark.line + 1, mark.column + 1, err.message)]) from None
    return Document(source, data, lambda: _yaml_positions(root), problems, text)


# What PyYAML and libyaml say when a line is indented wrongly (both spellings)
_INDENTATION_SIGNS = ("did not find expected key", "mapping values are not allowed",
                      "did not find expected '-' indicator", "expected <block end>")


def _syntax_problem(err: yaml.MarkedYAMLError, text: str) -> Problem:
    mark = err.problem_mark or err.context_mark
    problem = err.problem or "syntax error"
    hint = ""
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        problem = "found a tab character"
        hint = "; indent with spaces, YAML does not allow tabs for indentation"
    elif "maximum nesting depth" in problem:
        hint = "; the document is nested far too deeply to be a spec"
    elif "found undefined alias" in problem:
        hint = "; define the anchor (&name) before using the alias (*name)"
    elif "expected a single document" in f"{problem} {err.context}":  # libyaml: in the context
        hint = "; a spec file holds one document, remove the extra '---'"
    elif any(sign in problem for sign in _INDENTATION_SIGNS):
        hint = ("; check the indentation of this line and the one above: the keys of one mapping start "
                "in the same column, and what belongs to a key is indented further than the key")
        if "mapping values" in problem:  # also `description: f: x`, a value with ': ' in it
            hint += "; a value that contains ': ' needs quotes"
    context = f" ({err.context})" if err.context and not hint else ""
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return Problem(line, column, f"invalid YAML: {problem}{context}{hint}")


def _reader_problem(err: yaml.reader.ReaderError, text: str) -> Problem:
    """A character YAML does not allow (a control character, say), at its position."""
    offset = err.position
    if HAVE_LIBYAML:  # libyaml counts UTF-8 bytes, the Python reader characters
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
    line, column = line_column(text, offset)
    character = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "?")
    return Problem(line, column, f"invalid YAML: the character U+{character:04X} is not allowed "
                                 "in YAML text; remove it")


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column ('' past the end)."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column: start + column + 1]

