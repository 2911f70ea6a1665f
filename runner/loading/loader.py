"""Stage 1: spec text -> plain Python data, plus where every node came from.

YAML is read with PyYAML's parser (the C one when present) but resolved and
constructed here, because PyYAML's safe loader follows YAML 1.1 (`on` is a
boolean, `1e-3` a string), keeps the last of two duplicate keys silently and
expands aliases without bound. Here plain scalars follow the YAML 1.2 core
schema, duplicate keys and unknown tags are errors, alias expansion and
nesting depth are bounded, and nothing but plain data is ever built.

Source positions are not computed while loading (that would slow down big
specs); `Document.position(path)` works them out from the kept node tree, or
by re-scanning JSON text, only when an error has to be reported.
"""

from __future__ import annotations

import bisect
import gc
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem, SpecError

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

STDIN = "-"
STDIN_NAME = "<stdin>"

Path = tuple  # a node's path: keys and list indices from the top level


# The most optimization steps a spec (or --iterations) may ask for.
MAX_ITERATIONS = 1_000_000_000


class Limits(NamedTuple):
    """Bounds that keep hostile files from exhausting memory, stack or time.

    The defaults are far above any hand-written or generated circuit we know
    of; each can be raised from the command line.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 64
    max_alias_nodes: int = 10_000
    max_nodes: int = 10_000_000  # inputs + gates; a 10**6-gate benchmark is far below

    # libyaml composes nested collections by C recursion; far past this it
    # would overflow the C stack, so no setting may go beyond it.
    HARD_MAX_DEPTH = 10_000


@dataclass
class Document:
    """Loaded data with a lazily built map from node paths to positions."""

    source: str
    data: Any
    _locate: Callable[[], tuple[dict, dict]] = field(repr=False)
    problems: list[Problem] = field(default_factory=list)  # found while loading (duplicate keys)
    _values: dict | None = field(default=None, repr=False)
    _keys: dict | None = field(default=None, repr=False)

    def _maps(self) -> tuple[dict, dict]:
        if self._values is None:
            self._values, self._keys = self._locate()
        return self._values, self._keys  # type: ignore[return-value]

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the node at `path`, or of its key.

        Falls back to the nearest ancestor that has a position, and (0, 0)
        when nothing on the path does (for example a missing top-level key).
        """
        values, keys = self._maps()
        if key and path in keys:
            return keys[path]
        while path not in values and path:
            path = path[:-1]
        return values.get(path, (0, 0))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big spec is built.

    Loading, validating and compiling allocate hundreds of thousands of
    objects that all stay alive; each automatic collection would rescan
    them all, which took half the time of a 100,000-gate run. Nothing these
    stages make is cyclic garbage, so nothing is lost by waiting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------
# Reading bytes

def read_source(path: str | os.PathLike, limits: Limits = Limits()) -> tuple[str, str]:
    """Return (display name, text) of a spec file or of standard input."""
    path = os.fspath(path)
    if path == STDIN:
        raw = sys.stdin.buffer.read(limits.max_bytes + 1)
        return STDIN_NAME, decode(raw, STDIN_NAME, limits)
    if os.path.isdir(path):
        raise _fail(path, "is a directory, not a spec file (pass the .yaml files inside it, "
                          "for example 'DIR/*.yaml')")
    try:
        with open(path, "rb") as handle:
            # A regular file's size is known before reading it: refuse a huge
            # one without allocating anything (pipes are read up to the limit).
            if os.fstat(handle.fileno()).st_size > limits.max_bytes:
                raise _too_big(path, limits)
            raw = handle.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except OSError as err:
        raise _fail(path, f"cannot read the file: {err.strerror or err}") from None
    return path, decode(raw, path, limits)


def decode(raw: bytes, source: str, limits: Limits = Limits()) -> str:
    """Bytes -> text: size-limited UTF-8 (a BOM is allowed), no NUL bytes."""
    if len(raw) > limits.max_bytes:
        raise _too_big(source, limits)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line, column = _line_column(raw[: err.start].decode("utf-8", "replace"), len(raw))
        raise SpecError(source, [Problem(line, column, f"the file is not valid UTF-8 (byte "
                                         f"0x{raw[err.start]:02x}); save it as UTF-8")]) from None
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _line_column(text, nul)
        raise SpecError(source, [Problem(line, column, "the file contains a NUL byte; "
                                         "a spec must be text")])
    return text


def _line_column(text: str, offset: int) -> tuple[int, int]:
    offset = min(offset, len(text))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _fail(source: str, message: str) -> SpecError:
    return SpecError(source, [Problem(0, 0, message)])


def _too_big(source: str, limits: Limits) -> SpecError:
    return _fail(source, f"the file is larger than the limit of {limits.max_bytes:,} bytes "
                         "(raise it with --max-bytes if the spec is real)")


# --------------------------------------------------------------------------
# Dispatch

def load_text(text: str, source: str, limits: Limits = Limits(), *, fmt: str | None = None) -> Document:
    """Parse spec text. `fmt` is 'json' or 'yaml'; by default it follows the
    file's extension, and standard input that starts with '{' is JSON."""
    if fmt is None:
        looks_json = source == STDIN_NAME and text.lstrip().startswith("{")
        fmt = "json" if source.lower().endswith(".json") or looks_json else "yaml"
    document = _load_json(text, source, limits) if fmt == "json" else _load_yaml(text, source, limits)
    if document.data is None and () not in document._maps()[0]:
        raise _fail(source, "the file is empty; a spec is a mapping with at least 'inputs' and 'gates'")
    if not isinstance(document.data, dict):
        where = document._maps()[0].get((), (0, 0))
        raise SpecError(source, [Problem(*where, "the top level must be a mapping "
                                         "with 'inputs' and 'gates', not " + describe(document.data))])
    _check_node_count(document, limits)
    return document


def _check_node_count(document: Document, limits: Limits) -> None:
    """Refuse more inputs + gates than `limits.max_nodes`, before validation
    spends time and memory on them."""
    count = 0
    for key in ("inputs", "gates"):
        section = document.data.get(key)
        if isinstance(section, dict):
            count += len(section)
            if count > limits.max_nodes:
                line, column = document.position((key,), key=True)
                raise SpecError(document.source, [Problem(
                    line, column, f"the spec has more than {limits.max_nodes:,} nodes (inputs and "
                                  "gates); raise --max-nodes if it is real")])


def load_file(path: str | os.PathLike, limits: Limits = Limits()) -> Document:
    source, text = read_source(path, limits)
    return load_text(text, source, limits)


def describe(value: Any) -> str:
    """'a list', 'the string \\'x\\'' … for messages about wrong types."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        text = repr(value)
        return f"the number {text}" if len(text) <= 40 else f"a {len(text)}-digit number"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


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
        if value[:2] == "0o" and _INT_OCT.match(value):
            return int(value[2:], 8)
        if value[:2] == "0x" and _INT_HEX.match(value):
            return int(value[2:], 16)
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
                raise _NodeError(blame, f"aliases expand to more than {limits.max_alias_nodes:,} nodes "
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
                             f"the document is nested deeper than {limits.max_depth} levels{hint}; "
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


def _yaml_positions(root: Node) -> tuple[dict, dict]:
    """Map each path to the 1-based position of its value and of its key."""
    values: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    stack: list[tuple[Node, Path, int]] = [(root, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if path not in values:
            values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
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
    return values, keys


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
                                                     f"the document is nested deeper than {budget} levels; "
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


def _load_yaml(text: str, source: str, limits: Limits) -> Document:
    _check_nesting(text, source, limits)
    composer = _Composer(text)
    try:
        root = composer.get_single_node()
    except yaml.MarkedYAMLError as err:
        raise SpecError(source, [_syntax_problem(err, text)]) from None
    except yaml.reader.ReaderError as err:
        raise SpecError(source, [_reader_problem(err, text)]) from None
    except yaml.YAMLError as err:
        raise _fail(source, f"YAML error: {err}") from None
    finally:
        composer.dispose()
    if root is None:
        return Document(source, None, lambda: ({}, {}))
    try:
        data, problems = _construct(root, limits)
    except _NodeError as err:
        mark = err.node.start_mark
        raise SpecError(source, [Problem(mark.line + 1, mark.column + 1, err.message)]) from None
    return Document(source, data, lambda: _yaml_positions(root), problems)


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
    context = f" ({err.context})" if err.context and not hint else ""
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    return Problem(line, column, f"invalid YAML: {problem}{context}{hint}")


def _reader_problem(err: yaml.reader.ReaderError, text: str) -> Problem:
    """A character YAML does not allow (a control character, say), at its position."""
    offset = err.position
    if HAVE_LIBYAML:  # libyaml counts UTF-8 bytes, the Python reader characters
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
    line, column = _line_column(text, offset)
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


# --------------------------------------------------------------------------
# JSON

def _load_json(text: str, source: str, limits: Limits) -> Document:
    # json.loads keeps the last of duplicate keys without a word. A hook that
    # gets every object's pairs would catch them, but building those lists
    # costs a third of the parse; counting is enough to know there are none:
    # the text's ':' outside strings against the pairs of the parsed objects.
    # Only a file that has duplicates is parsed again, keeping the first.
    objects: list[dict] = []

    def count(mapping: dict) -> dict:
        objects.append(mapping)
        return mapping

    data = _parse_json(text, source, limits, object_hook=count)
    outline = _json_outline(text)
    if _too_deep(outline.replace(b":", b""), limits.max_depth):
        _check_json_depth(data, source, text, limits)
    duplicates = outline.count(b":") != sum(map(len, objects))
    if duplicates:
        def first_of_duplicates(pairs: list[tuple[str, Any]]) -> dict:
            mapping = {}
            for key, value in pairs:  # keep the first of duplicate keys, as for YAML
                mapping.setdefault(key, value)
            return mapping

        data = _parse_json(text, source, limits, object_pairs_hook=first_of_duplicates)
    if _MAYBE_SURROGATE.search(text):
        _check_json_surrogates(data, source, text, limits)
    problems = _json_scan(text, limits)[2] if duplicates else []
    return Document(source, data, lambda: _json_scan(text, limits)[:2], problems)


def _parse_json(text: str, source: str, limits: Limits, **hooks: Callable) -> Any:
    import json  # here: a YAML run need not load it

    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as err:
        message = err.msg.removesuffix(" at")  # "Invalid control character at": the position follows
        raise SpecError(source, [Problem(err.lineno, err.colno, f"invalid JSON: {message}")]) from None
    except RecursionError:
        raise _fail(source, f"the document is nested deeper than {limits.max_depth} levels; "
                            "flatten it or raise --max-depth") from None
    except ValueError as err:  # e.g. an integer literal with thousands of digits
        digits = re.search(r"[0-9]{4301,}", text)
        if digits is None:
            raise _fail(source, f"invalid JSON: {err}") from None
        line, column = _line_column(text, digits.start())
        raise SpecError(source, [Problem(line, column, f"the number has {len(digits.group()):,} digits, "
                                         "far too many to represent (the limit is about 1.8e308)")]) from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_STRING_IN_OUTLINE = re.compile(rb'"[^"]*"')
_BRACES_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_OUTLINE = bytes(c for c in range(256) if c not in b'[]{}":')


def _json_outline(text: str) -> bytes:
    """The brackets (braces written as brackets) and colons of valid JSON
    text that are not inside strings, found at C speed."""
    if "\\" in text:  # an escaped quote may hide in a string: the careful pattern
        text = _JSON_STRING.sub('""', text)
    skeleton = text.encode("utf-8", "surrogatepass").translate(_BRACES_AS_BRACKETS, _NOT_OUTLINE)
    # Strings holding no bracket or colon are now "", and dropping every ""
    # drops exactly them. If a quote is left, some string holds one: then
    # the strings are matched one by one.
    outline = skeleton.replace(b'""', b"")
    return _STRING_IN_OUTLINE.sub(b"", skeleton) if b'"' in outline else outline


def _too_deep(brackets: bytes, max_depth: int) -> bool:
    """Whether balanced brackets nest deeper than max_depth: each pass drops
    the innermost pairs."""
    for _ in range(max_depth):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_json_surrogates(data: Any, source: str, text: str, limits: Limits) -> None:
    """JSON's \\uD800-style escapes can encode half a character, which no
    UTF-8 text (or terminal) can hold; refuse it where it is."""
    stack: list[tuple[Any, Path]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if not _encodable(key):
                    line, column = _json_scan(text, limits)[1].get(path + (key,), (0, 0))
                    raise SpecError(source, [Problem(line, column, _SURROGATE_MESSAGE)])
                stack.append((child, path + (key,)))
        elif isinstance(value, list):
            stack.extend((child, path + (index,)) for index, child in enumerate(value))
        elif isinstance(value, str) and not _encodable(value):
            line, column = _json_scan(text, limits)[0].get(path, (0, 0))
            raise SpecError(source, [Problem(line, column, _SURROGATE_MESSAGE)])


_SURROGATE_MESSAGE = ("a string holds an unpaired surrogate escape (such as \\ud800), "
                      "which is not a character; remove it")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_json_depth(data: Any, source: str, text: str, limits: Limits) -> None:
    stack = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if depth > limits.max_depth:
            line, column = _json_scan(text, limits)[0].get(path, (0, 0))
            raise SpecError(source, [Problem(line, column, f"the document is nested deeper than "
                                             f"{limits.max_depth} levels; flatten it or raise --max-depth")])
        if isinstance(value, dict):
            stack.extend((child, depth + 1, path + (key,)) for key, child in value.items()
                         if isinstance(child, (dict, list)))
        elif isinstance(value, list):
            stack.extend((child, depth + 1, path + (index,)) for index, child in enumerate(value)
                         if isinstance(child, (dict, list)))


_JSON_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|([^\s{}\[\]:,"]+))', re.S)


def _json_scan(text: str, limits: Limits) -> tuple[dict, dict, list[Problem]]:
    """Positions of every value and key in valid JSON text, and its duplicate
    keys as problems. Iterative, so any depth json.loads accepted is fine."""
    import json

    values: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    duplicates: list[Problem] = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    # frames: [path, kind ('{' or '['), next index, pending key, seen keys]
    frames: list[list[Any]] = []
    expect_key = False
    for match in _JSON_TOKEN.finditer(text):
        string, punct, literal = match.groups()
        start = match.start(match.lastindex or 0)
        if punct in (",", ":"):
            if punct == "," and frames and frames[-1][1] == "{":
                expect_key = True
            continue
        if punct in ("}", "]"):
            frames.pop()
            expect_key = False
            continue
        if expect_key and string is not None:
            key = json.loads(string)
            frame = frames[-1]
            if key in frame[4]:
                line, column = where(start)
                duplicates.append(Problem(line, column, f"duplicate key {key!r} (first defined at line "
                                                        f"{frame[4][key]}); each key may appear once"))
            else:
                frame[4][key] = where(start)[0]
            frame[3] = key
            keys[frame[0] + (key,)] = where(start)
            expect_key = False
            continue
        # a value: its path is the parent's path plus key or index
        if frames:
            frame = frames[-1]
            if frame[1] == "[":
                value_path = frame[0] + (frame[2],)
                frame[2] += 1
            else:
                value_path = frame[0] + (frame[3],)
        else:
            value_path = ()
        values.setdefault(value_path, where(start))
        if punct in ("{", "["):
            frames.append([value_path, punct, 0, None, {}])
            expect_key = punct == "{"
    return values, keys, duplicates
