"""Reading a spec's bytes: from a file or standard input, size-limited,
decoded as UTF-8. What the text means is the readers' business."""

from __future__ import annotations

import codecs
import os
import sys
from typing import Callable

from ..errors import Problem, SpecError
from ..limits import Limits
from ..words import counted

STDIN = "-"
STDIN_NAME = "<stdin>"


def read_source(path: str | os.PathLike, limits: Limits = Limits()) -> tuple[str, str]:
    """Return (display name, text) of a spec file or of standard input."""
    path = os.fspath(path)
    if path == STDIN:
        raw = sys.stdin.buffer.read(limits.max_bytes + 1)
        return STDIN_NAME, decode(raw, STDIN_NAME, limits)
    if os.path.isdir(path):
        raise fail(path, "is a directory, not a spec file (pass the .yaml files inside it, "
                          "for example 'DIR/*.yaml')")
    return path, decode(read_bytes(path, limits), path, limits)


def read_bytes(path: str, limits: Limits, *, what: str = "spec") -> bytes:
    """A file's bytes, refused when larger than the limit. A regular file's
    size is known before reading it: a huge one is refused without allocating
    anything (pipes and devices are read up to the limit)."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > limits.max_bytes:
                raise _too_big(path, limits, what)
            raw = handle.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise fail(path, "no such file") from None
    except OSError as err:
        raise fail(path, f"cannot read the file: {err.strerror or err}") from None
    if len(raw) > limits.max_bytes:
        raise _too_big(path, limits, what)
    return raw


def decode(raw: bytes, source: str, limits: Limits = Limits(), *, what: str = "spec",
           locate: Callable[[str, int], tuple[int, int]] | None = None) -> str:
    """Bytes -> text: size-limited UTF-8 (a BOM is allowed), no NUL bytes.
    `locate` turns an offset into (line, column) as the file's reader counts lines."""
    locate = locate or line_column
    if len(raw) > limits.max_bytes:
        raise _too_big(source, limits, what)
    # Without its byte order mark: utf-8-sig's error offsets would not count the BOM.
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        before = body[: err.start].decode("utf-8", "replace")
        line, column = locate(before, len(before))
        raise SpecError(source, [Problem(line, column, f"the file is not valid UTF-8 (byte "
                                         f"0x{body[err.start]:02x}); save it as UTF-8")]) from None
    nul = text.find("\x00")
    if nul >= 0:
        line, column = locate(text, nul)
        raise SpecError(source, [Problem(line, column, "the file contains a NUL byte; "
                                         f"a {what} must be text")])
    return text


def line_column(text: str, offset: int) -> tuple[int, int]:
    offset = min(offset, len(text))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def fail(source: str, message: str) -> SpecError:
    return SpecError(source, [Problem(0, 0, message)])


def _too_big(source: str, limits: Limits, what: str) -> SpecError:
    return fail(source, f"the file is larger than the limit of {counted(limits.max_bytes, 'byte')} "
                         f"(raise it with --max-bytes if the {what} is real)")
