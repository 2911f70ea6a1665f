"""Typed errors raised by every stage; only the CLI turns them into exit codes.

A `Problem` is one finding about a spec, with its source position when the
stage that found it knows one. `SpecError` carries every problem of a file at
once, so a user fixes them in one round instead of one per run.
"""

from __future__ import annotations

from typing import NamedTuple

# Exit codes, as the spec format's CLI contract defines them.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_SPEC_ERROR = 2
EXIT_NUMERICAL_ERROR = 3


class Problem(NamedTuple):
    """One error in a spec file. `line` and `column` are 1-based; 0 means unknown.
    Problems sort by position."""

    line: int
    column: int
    message: str
    path: str = ""

    def format(self, source: str) -> str:
        where = f"{source}:{self.line}:{self.column}" if self.line else source
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: error: {what}"


class CircuitRunError(Exception):
    """Base class of every error that is the user's input's fault."""


class SpecError(CircuitRunError):
    """The spec cannot be loaded or is invalid; holds every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = sorted(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [problem.format(self.source) for problem in self.problems]


class NumericalError(CircuitRunError):
    """A value or gradient became non-finite, or left its op's domain.

    Names the gate, its op and its input values, so a user can see which
    wire to fix (for example `log` of a negative number).
    """

    def __init__(self, gate: str, op: str, inputs: list[tuple[str, float]], reason: str,
                 iteration: int | None = None):
        self.gate = gate
        self.op = op
        self.inputs = inputs
        self.reason = reason
        self.iteration = iteration
        super().__init__(gate, op, inputs, reason)

    def __str__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.inputs)
        when = f"at optimization step {self.iteration}: " if self.iteration is not None else ""
        return f"{when}gate '{self.gate}' ({self.op}) {self.reason}; inputs: {shown}"


class OutputError(CircuitRunError):
    """A requested file (diagram, plot) cannot be made: a missing program or
    extra, an unwritable path, or a spec without what the picture needs.

    `where` is the file the message is about (the output or the spec)."""

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: error: {message}")
