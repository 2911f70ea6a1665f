"""Typed errors raised by every stage, each carrying its exit code.

Domain code raises; one place (present/errors.py, used by the command line
and the pytest plugin) turns an error into its lines on stderr, and the
command line exits with `error.exit_code`, as click's own exceptions do.

A `Problem` is one finding about a spec, with its source position when the
stage that found it knows one. `SpecError` carries every problem of a file at
once, so a user fixes them in one round instead of one per run.
"""

from __future__ import annotations

from typing import NamedTuple

# Exit codes, the command line's contract. With several specs the highest wins.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # --check, --gradcheck or --engine found a difference
EXIT_SPEC_ERROR = 2  # an invalid spec or usage, or a file that cannot be read or written
EXIT_NUMERICAL_ERROR = 3  # a value or gradient left the finite numbers
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE), as for any Unix filter

# What each code means, briefly (for `circuit-run --help`) and in full: the one
# source of both that list and the table in README.md (docs/generate.py writes it).
EXIT_CODES = {
    EXIT_OK: ("success", "success"),
    EXIT_CHECK_FAILED: ("a check failed", "an expectation or gradient check failed (`--check`, `--gradcheck`), "
                                            "or another engine differs (`--engine`)"),
    EXIT_SPEC_ERROR: ("invalid spec or usage, or a file that cannot be read or written",
                      "invalid spec or invalid usage (every problem of the file is listed), or a file that "
                      "cannot be read or written (a spec, a trace, a picture, the output itself: "
                      "`cannot write the output: No space left on device`)"),
    EXIT_NUMERICAL_ERROR: ("numerical error (a value went non-finite)",
                           "numerical error: a value or gradient is not a finite number (the gate, its op and "
                           "inputs are named)"),
    EXIT_INTERRUPTED: ("interrupted (Ctrl-C)",
                       "interrupted with Ctrl-C: the rows so far are shown, and `interrupted at step N`"),
    EXIT_BROKEN_PIPE: ("the reader of the output went away (| head)",
                       "the output's reader closed the pipe early (`circuit-run ... | head`): nothing more "
                       "is printed, as any Unix filter does"),
}


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

    exit_code = EXIT_SPEC_ERROR


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

    Names the node (a gate, or an input whose step or numerical gradient
    failed), its op and its input values, so a user can see which wire to
    fix (for example `log` of a negative number).
    """

    exit_code = EXIT_NUMERICAL_ERROR

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
        node = f"input '{self.gate}'" if self.op == "input" else f"gate '{self.gate}' ({self.op})"
        return f"{when}{node} {self.reason}; inputs: {shown}"


class OutputError(CircuitRunError):
    """A requested file (trace, diagram, plot, page) or the output itself
    cannot be written: a missing program or extra, an unwritable path, or a
    spec without what the picture needs.

    `where` is the file the message is about (the output or the spec)."""

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: error: {message}")

    def lines(self) -> list[str]:
        return [str(self)]
