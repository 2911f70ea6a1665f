"""Stage 8: the `circuit-run` command. The one place that turns errors into
messages on stderr and exit codes; everything else raises."""

from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import click

from ._version import __version__
from .errors import (EXIT_CHECK_FAILED, EXIT_NUMERICAL_ERROR, EXIT_OK, EXIT_SPEC_ERROR,
                     NumericalError, Problem, SpecError)
from .loader import STDIN, STDIN_NAME, Limits

EXAMPLES = """
\b
Examples:
  circuit-run circuits/add-multiply.yaml
  circuit-run --format json circuits/*.yaml | jq .output
  circuit-run --set x=3 --set y=-1 circuits/add-multiply.yaml
  circuit-run --check circuits/*.yaml
  cat spec.yaml | circuit-run -

\b
Exit codes: 0 success, 1 an expectation failed (--check),
2 invalid spec or usage, 3 numerical error (a value went non-finite).
"""


class Assignment(click.ParamType):
    """NAME=VALUE with a valid input name and a finite number."""

    name = "NAME=VALUE"

    def convert(self, value: Any, param, ctx) -> tuple[str, float]:
        if isinstance(value, tuple):
            return value
        name, sep, text = str(value).partition("=")
        name = name.strip()
        if not sep or not name:
            self.fail(f"expected NAME=VALUE, got {value!r}", param, ctx)
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{text.strip()!r} is not a number (in {value!r})", param, ctx)
        if not math.isfinite(number):
            self.fail(f"the value of {name} must be a finite number, got {text.strip()!r}", param, ctx)
        return name, number


@click.command(epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("specs", nargs=-1, metavar="SPEC...")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="table for people; json (one line per spec) or csv (the node "
                                      "table) for programs.")
@click.option("--set", "assignments", type=Assignment(), multiple=True, metavar="NAME=VALUE",
              help="Start an input at VALUE instead of the spec's value. Repeatable.")
@click.option("--check", is_flag=True,
              help="Compare each spec with its expect block; print PASS/FAIL and exit 1 on a mismatch.")
@click.option("--numerical", "numerical", is_flag=True,
              help="Also show central-difference gradients of the inputs beside the analytic ones.")
@click.option("--numerical-h", type=click.FloatRange(min=0, min_open=True), default=1e-6, show_default=True,
              metavar="H", help="Step of --numerical's central differences.")
@click.option("--schema", is_flag=True, help="Print the JSON Schema of the spec format and exit.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=Limits.max_bytes, show_default=True,
              metavar="N", help="Refuse spec files larger than this.")
@click.option("--max-depth", type=click.IntRange(1, Limits.HARD_MAX_DEPTH), default=Limits.max_depth,
              show_default=True, metavar="N", help="Refuse specs nested deeper than this.")
@click.option("--max-alias-nodes", type=click.IntRange(min=0), default=Limits.max_alias_nodes,
              show_default=True, metavar="N", help="Refuse YAML whose aliases expand to more nodes.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=Limits.max_nodes, show_default=True,
              metavar="N", help="Refuse specs with more inputs and gates than this.")
@click.version_option(__version__, "-V", "--version", prog_name="circuit-run")
def main(specs: Sequence[str], fmt: str, assignments: Sequence[tuple[str, float]], check: bool,
         numerical: bool, numerical_h: float, schema: bool, max_bytes: int, max_depth: int,
         max_alias_nodes: int, max_nodes: int) -> None:
    """Run circuit specs: every wire's value and gradient, optimization, checks.

    SPEC is a YAML or JSON circuit file, or - for standard input. Values and
    gradients go to stdout; errors and warnings to stderr as FILE:LINE:COL.
    """
    if schema:
        from .schema import schema_text

        click.echo(schema_text(), nl=False)
        return
    if not specs:
        raise click.UsageError("give at least one SPEC file (or - for standard input)")
    if list(specs).count(STDIN) > 1:
        raise click.UsageError("standard input (-) can be read only once")
    options = dict(fmt=fmt, overrides=dict(assignments), check=check,
                   numerical_h=numerical_h if numerical else None,
                   limits=Limits(max_bytes, max_depth, max_alias_nodes, max_nodes))
    worst = EXIT_OK
    for index, path in enumerate(specs):
        if index and fmt == "table" and not check:
            click.echo()
        worst = max(worst, run_one(path, **options))
    sys.exit(worst)


def run_one(path: str, *, fmt: str, overrides: dict[str, float], check: bool,
            numerical_h: float | None, limits: Limits) -> int:
    """Run one spec and print its report; return its exit code."""
    from . import report
    from .run import run_spec
    from .validate import load_spec, suggest

    source = STDIN_NAME if path == STDIN else path
    try:
        spec = load_spec(path, limits)
        missing = [name for name in overrides if name not in spec.inputs]
        if missing:
            raise SpecError(source, [Problem(0, 0, f"--set {name}: the spec has no input '{name}'"
                                                   + suggest(name, spec.inputs)) for name in missing])
        result = run_spec(spec, overrides=overrides, check=check, numerical_h=numerical_h)
    except SpecError as err:
        for line in err.lines():
            click.echo(line, err=True)
        return EXIT_SPEC_ERROR
    except NumericalError as err:
        click.echo(f"{source}{_gate_position(path, err.gate, limits)}: error: numerical error: {err}",
                   err=True)
        return EXIT_NUMERICAL_ERROR
    except (RecursionError, MemoryError):
        click.echo(f"{source}: error: the spec is too large or too deeply nested to process", err=True)
        return EXIT_SPEC_ERROR
    for warning in result.warnings:
        click.echo(f"{source}: warning: {warning}", err=True)

    if fmt == "json":
        click.echo(report.render_json(result))
    elif fmt == "csv":
        click.echo(report.render_csv(result), nl=False)
    elif not check:
        click.echo(report.render_table(result), nl=False)
    if check:
        assert result.check is not None
        if fmt == "table":
            click.echo(report.render_check(source, result.check), nl=False)
        elif fmt == "csv":
            click.echo(report.render_check(source, result.check), nl=False, err=True)
        return EXIT_OK if result.check.passed else EXIT_CHECK_FAILED
    return EXIT_OK


def _gate_position(path: str, gate: str, limits: Limits) -> str:
    """':LINE:COL' of a gate's (or input's) name in its spec file, or '' if unknown.

    The file is read again here, on the error path only, so that a run that
    succeeds keeps no source positions in memory. Standard input cannot be
    read twice and gets no position.
    """
    if path == STDIN:
        return ""
    from .loader import load_file

    try:
        document = load_file(path, limits)
        section = "gates" if gate in document.data.get("gates", {}) else "inputs"  # an input: its h
        line, column = document.position((section, gate), key=True)
    except (SpecError, OSError, AttributeError, TypeError):
        return ""  # the file changed since the first read; the message still names the gate
    return f":{line}:{column}" if line else ""


if __name__ == "__main__":  # pragma: no cover
    main()
