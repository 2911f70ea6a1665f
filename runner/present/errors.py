"""Errors as the lines a person reads on stderr: the one place that words them.

Every error that is the user's input's fault is a `CircuitRunError` with its
exit code (errors.py); the command line and the pytest plugin both show it
through `error_lines`, so a message reads the same wherever it appears.
"""

from __future__ import annotations

from ..errors import CircuitRunError, NumericalError, SpecError
from ..limits import Limits
from ..spec.locate import node_position


def printable(text: str) -> str:
    """`text` with every character that a terminal would act on instead of
    show escaped as `repr` writes it: control characters (`\\n`, `\\x1b`),
    the line and paragraph separators U+2028/U+2029, bidirectional and other
    format controls (`\\u202e`). A key, a name or a file name taken from the
    user then shows as what it is, and can neither start a forged
    `FILE:LINE:COL: error:` line nor recolour the terminal.

    Every line circuit-run writes to stderr goes through here (errors,
    warnings, notes), and so do the names in the verdict lines on stdout."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def error_lines(error: CircuitRunError, source: str, path: str, limits: Limits = Limits()) -> list[str]:
    """The lines that report `error`, raised while running the spec `path`
    (shown as `source`: `<stdin>` for standard input), each `printable`."""
    if isinstance(error, NumericalError):
        return [numerical_error_line(error, source, path, limits)]
    lines = getattr(error, "lines", None)
    return [printable(line) for line in (lines() if lines is not None else [f"{source}: error: {error}"])]


def error_records(error: CircuitRunError, path: str, limits: Limits = Limits()) -> list[dict]:
    """The problems of `error` for programs: `{"line", "column", "message"}`
    each, the same as `error_lines` says (`line` and `column` are null where
    no position is known), for the `errors` member of a JSON line."""
    if isinstance(error, NumericalError):
        position = node_position(path, error.gate, limits)
        line, column = position if position else (0, 0)
        found = [(line, column, f"numerical error: {error}")]
    elif isinstance(error, SpecError):
        found = [(p.line, p.column, f"{p.path}: {p.message}" if p.path else p.message) for p in error.problems]
    else:
        found = [(0, 0, getattr(error, "message", None) or str(error))]
    return [{"line": line or None, "column": column or None, "message": message} for line, column, message in found]


def numerical_error_line(error: NumericalError, source: str, path: str, limits: Limits = Limits()) -> str:
    """`FILE:LINE:COL: error: numerical error: ...`, at the gate (or input) it names."""
    position = node_position(path, error.gate, limits)
    where = f"{source}:{position[0]}:{position[1]}" if position else source
    return printable(f"{where}: error: numerical error: {error}")
