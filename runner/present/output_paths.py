"""Where the files of a run go: `{name}` in an output path, made safe.

Every file a run writes besides stdout (the trace, the diagram, the plots, and
any future page) takes its path from the command line, where `{name}` stands
for the spec's name. A name is whatever text the spec says, so it is made into
one harmless file-name component first (no directory separators, no `..`, no
NUL or control characters, not too long), and a path that names one of the
specs being run is refused: a run never overwrites its own input.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

from ..errors import OutputError

MAX_NAME = 100  # characters of a name kept in a file name (NAME_MAX is 255 bytes)
_KEPT = "-_."


def safe_name(name: str | None) -> str:
    """`name` as a single file-name component: letters, digits and `-_.` are
    kept, anything else becomes `_`; never empty, never starting with a dot
    (`.`, `..` or a hidden file), at most `MAX_NAME` characters."""
    text = "".join(c if (c.isalnum() and c.isprintable()) or c in _KEPT else "_" for c in (name or "circuit"))
    text = text[:MAX_NAME]
    if text.startswith("."):
        text = "_" + text[1:]
    return text or "circuit"


def fill_name(template: str, name: str | None) -> str:
    """The path `template` with every `{name}` replaced by `safe_name(name)`."""
    return template.replace("{name}", safe_name(name))


class OutputPaths:
    """The output paths of each spec of one command, checked against its inputs.

    `inputs` are the spec files being run; each is looked up once (its device
    and inode), so a command over many specs stays linear."""

    def __init__(self, templates: Sequence[tuple[str, str]], inputs: Iterable[str]):
        self.templates = list(templates)  # (option, path with {name}) pairs
        self.inputs: dict[tuple[int, int], str] = {}
        for path in inputs if self.templates else ():
            identity = _identity(path)
            if identity is not None:
                self.inputs.setdefault(identity, path)

    @property
    def plotting(self) -> bool:
        """Whether a plot or a page is asked for (a run then keeps more of its rows)."""
        return any(option.startswith("plot") or option == "html" for option, _ in self.templates)

    def resolve(self, name: str | None, source: str) -> list[tuple[str, str]]:
        """(option, path) for the spec called `name`, in the templates' order.

        Raises `OutputError` when a path is one of the inputs (a symlink or a
        hard link to a spec counts) or when two outputs would write the same file.
        """
        paths = [(option, fill_name(template, name)) for option, template in self.templates]
        seen: dict[str, str] = {}
        for option, path in paths:
            spec = self.inputs.get(_identity(path))  # type: ignore[arg-type]
            if spec is not None:
                raise OutputError(source, f"--{option} {path}: that is the spec {spec}, which would be "
                                          "overwritten; choose another file name")
            key = os.path.realpath(path)
            if key in seen:
                raise OutputError(source, f"--{option} {path}: --{seen[key]} writes the same file; "
                                          "give each output its own file name")
            seen[key] = option
        return paths


def _identity(path: str) -> tuple[int, int] | None:
    """The file's (device, inode), or None when there is no such file."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):  # no such file (yet), or a NUL in the path
        return None
    return status.st_dev, status.st_ino
