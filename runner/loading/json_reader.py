"""JSON text -> plain data, with the same guarantees as YAML: duplicate keys
are errors, nesting is bounded, and every value's position can be found."""

from __future__ import annotations

import bisect
import re
from typing import Any, Callable

from ..errors import Problem, SpecError
from ..limits import Limits
from .document import Document, Path
from .source import fail, line_column
from ..words import counted

# --------------------------------------------------------------------------
# JSON

def read_json(text: str, source: str, limits: Limits) -> Document:
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
    problems = _json_scan(text, limits)[3] if duplicates else []
    return Document(source, data, lambda: _json_scan(text, limits)[:3], problems, text)


def _parse_json(text: str, source: str, limits: Limits, **hooks: Callable) -> Any:
    import json  # here: a YAML run need not load it

    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as err:
        message = err.msg.removesuffix(" at")  # "Invalid control character at": the position follows
        raise SpecError(source, [Problem(err.lineno, err.colno, f"invalid JSON: {message}")]) from None
    except RecursionError:
        raise fail(source, f"the document is nested deeper than {counted(limits.max_depth, 'level')}; "
                            "flatten it or raise --max-depth") from None
    except ValueError as err:  # e.g. an integer literal with thousands of digits
        digits = re.search(r"[0-9]{4301,}", text)
        if digits is None:
            raise fail(source, f"invalid JSON: {err}") from None
        line, column = line_column(text, digits.start())
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
                                             f"{counted(limits.max_depth, 'level')}; flatten it or raise --max-depth")])
        if isinstance(value, dict):
            stack.extend((child, depth + 1, path + (key,)) for key, child in value.items()
                         if isinstance(child, (dict, list)))
        elif isinstance(value, list):
            stack.extend((child, depth + 1, path + (index,)) for index, child in enumerate(value)
                         if isinstance(child, (dict, list)))


_JSON_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([{}\[\]:,])|([^\s{}\[\]:,"]+))', re.S)


def _json_scan(text: str, limits: Limits) -> tuple[dict, dict, dict, list[Problem]]:
    """Positions of every value and key in valid JSON text, where each string
    value ends, and the text's duplicate keys as problems. Iterative, so any
    depth json.loads accepted is fine."""
    import json

    values: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    ends: dict[Path, tuple[int, int]] = {}
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
        if string is not None:
            ends.setdefault(value_path, where(match.end()))
        if punct in ("{", "["):
            frames.append([value_path, punct, 0, None, {}])
            expect_key = punct == "{"
    return values, keys, ends, duplicates

