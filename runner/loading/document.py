"""Stage 1: spec text -> plain Python data, plus where every node came from.

`load_file` and `load_text` pick the reader (YAML or JSON) and return a
`Document`. Source positions are not computed while loading (that would slow
down big specs); `Document.position(path)` works them out from what the
reader kept, only when an error has to be reported.
"""

from __future__ import annotations

import os
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
