"""Stage 1: spec text -> plain Python data, plus where every node came from.

`load_file` and `load_text` pick the reader (YAML or JSON) and return a
`Document`. Source positions are not computed while loading (that would slow
down big specs); `Document.position(path)` works them out from what the
reader kept, only when an error has to be reported.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import Problem
from ..limits import Limits
from .source import STDIN_NAME, read_source

Path = tuple  # a node's path: keys and list indices from the top level


@dataclass
class Document:
    """Loaded data with a lazily built map from node paths to positions."""

    source: str
    data: Any
    # -> ({path: (line, column) of its value}, {path: ... of its key}, {path: (line, column) just
    # after a scalar value}); built only when a position is asked for
    _locate: Callable[[], tuple[dict, dict, dict]] = field(repr=False)
    problems: list[Problem] = field(default_factory=list)  # found while loading (duplicate keys)
    text: str = field(default="", repr=False)  # the source text
    _values: dict | None = field(default=None, repr=False)
    _keys: dict | None = field(default=None, repr=False)
    _ends: dict | None = field(default=None, repr=False)

    def _maps(self) -> tuple[dict, dict]:
        if self._values is None:
            self._values, self._keys, self._ends = self._locate()
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

    def position_in(self, path: Path, offset: int) -> tuple[int, int]:
        """1-based (line, column) of character `offset` of the string value
        at `path`, wherever the file wrote it: plain or quoted, on one line
        or folded over several, with escapes. Falls back to the value's start."""
        start = self.position(path)
        self._maps()
        end = (self._ends or {}).get(path)
        value = self.data
        for part in path:
            value = value[part]
        if end is None or not isinstance(value, str) or not start[0]:
            return start
        starts = _line_starts(self.text)
        begin, stop = starts[start[0] - 1] + start[1] - 1, starts[end[0] - 1] + end[1] - 1
        index = begin + _offset_in_source(self.text[begin:stop], value, offset)
        line = bisect.bisect_right(starts, index)
        return line, index - starts[line - 1] + 1


def _line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in re.finditer("\n", text)]


def _offset_in_source(raw: str, value: str, offset: int) -> int:
    """Where character `offset` of a scalar's value sits in `raw`, the text
    that wrote it. Written as is (plain, or quoted without escapes), the value
    appears inside; otherwise the two are walked side by side: an escape
    (`\\u00e9`, `\\n`) makes one character of the value, and what the value
    does not have (quotes, indentation, line breaks folded) is skipped."""
    found = raw.find(value)
    if found >= 0:
        return found + offset
    position = 0
    for index, character in enumerate(value):
        while position < len(raw) and raw[position] != character and raw[position] != "\\":
            position += 1
        if index == offset or position >= len(raw):
            return min(position, max(len(raw) - 1, 0))
        position += _ESCAPE_WIDTH.get(raw[position + 1:position + 2], 2) if raw[position] == "\\" else 1
    return 0


_ESCAPE_WIDTH = {"x": 4, "u": 6, "U": 10}  # \xXX, \uXXXX, \UXXXXXXXX; every other escape is 2 long


def load_file(path: str | os.PathLike, limits: Limits = Limits()) -> Document:
    source, text = read_source(path, limits)
    return load_text(text, source, limits)


def load_text(text: str, source: str, limits: Limits = Limits(), *, fmt: str | None = None) -> Document:
    """Parse spec text. `fmt` is 'json' or 'yaml'; by default it follows the
    file's extension, and standard input that starts with '{' is JSON."""
    if fmt is None:
        looks_json = source == STDIN_NAME and text.lstrip().startswith("{")
        fmt = "json" if source.lower().endswith(".json") or looks_json else "yaml"
    if fmt == "json":
        from .json_reader import read_json

        return read_json(text, source, limits)
    from .yaml_reader import read_yaml

    return read_yaml(text, source, limits)
