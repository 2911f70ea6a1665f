"""Stage 8: the `circuit-run` command. The one place that turns errors into
messages on stderr and exit codes; everything else raises."""

from __future__ import annotations

import gc
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
@click.option("--graph", "graph_file", metavar="FILE",
              help="Draw the circuit (values and gradients on its wires) to FILE: .dot, or .svg/.png/.pdf "
                   "with Graphviz's dot program. With several specs, put {name} in FILE.")
@click.option("--plot", "plot_file", metavar="FILE",
              help="Plot the optimization (output and trainable inputs against iteration) to FILE "
                   "(.png, .svg or .pdf; needs circuit-run[plot]).")
@click.option("--plot-surface", "surface_file", metavar="FILE",
              help="Contours of the output over the plane of the two trainable inputs, with the "
                   "optimization path, to FILE (.png, .svg or .pdf; needs circuit-run[plot]).")
@click.option("--explain", is_flag=True,
              help="Show how backprop made every gradient, term by term (chain rule), after the table; "
                   "with --format json, as an `explain` member. Uses · and ∂, or * and d where the "
                   "terminal cannot show them (force with PYTHONIOENCODING=ascii).")
@click.version_option(__version__, "-V", "--version", prog_name="circuit-run")
def main(specs: Sequence[str], fmt: str, assignments: Sequence[tuple[str, float]], check: bool,
         numerical: bool, numerical_h: float, schema: bool, max_bytes: int, max_depth: int,
         max_alias_nodes: int, graph_file: str | None, plot_file: str | None, surface_file: str | None,
         explain: bool) -> None:
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
    # A big spec allocates millions of objects that all live until the end;
    # the cyclic garbage collector would rescan them again and again (half
    # the run time on a 100,000-gate spec). Nothing here makes cycles worth
    # collecting, so it is off for the run.
    gc.disable()
    pictures = {"graph": graph_file, "plot": plot_file, "plot-surface": surface_file}
    for option, target in pictures.items():
        if target and len(specs) > 1 and "{name}" not in target:
            raise click.UsageError(f"--{option} {target}: with several specs, put {{name}} in the file name "
                                   "(each spec's name replaces it)")
    if explain and fmt == "csv":
        raise click.UsageError("--explain works with --format table or json, not csv")
    options = dict(fmt=fmt, overrides=dict(assignments), check=check,
                   numerical_h=numerical_h if numerical else None,
                   limits=Limits(max_bytes, max_depth, max_alias_nodes),
                   pictures={option: target for option, target in pictures.items() if target},
                   explain=explain)
    worst = EXIT_OK
    for index, path in enumerate(specs):
        if index and fmt == "table" and not check:
            click.echo()
        worst = max(worst, run_one(path, **options))
    sys.exit(worst)


def run_one(path: str, *, fmt: str, overrides: dict[str, float], check: bool,
            numerical_h: float | None, limits: Limits, pictures: dict[str, str] | None = None,
            explain: bool = False) -> int:
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
        click.echo(f"{source}: error: numerical error: {err}", err=True)
        return EXIT_NUMERICAL_ERROR
    except (RecursionError, MemoryError):
        click.echo(f"{source}: error: the spec is too large or too deeply nested to process", err=True)
        return EXIT_SPEC_ERROR
    for warning in result.warnings:
        click.echo(f"{source}: warning: {warning}", err=True)

    if fmt == "json":
        extra = {}
        if explain:
            from .explain import to_json

            extra["explain"] = to_json(result)
        click.echo(report.render_json(result, **extra))
    elif fmt == "csv":
        click.echo(report.render_csv(result), nl=False)
    elif not check:
        click.echo(report.render_table(result), nl=False)
    if explain and fmt == "table":
        from .explain import render_text

        if not check:  # a blank line after the node table
            click.echo()
        click.echo(render_text(result, ascii=not _can_print("·∂")), nl=False)
    drawn = draw_pictures(result, pictures) if pictures else EXIT_OK
    if check:
        assert result.check is not None
        if fmt == "table":
            click.echo(report.render_check(source, result.check), nl=False)
        elif fmt == "csv":
            click.echo(report.render_check(source, result.check), nl=False, err=True)
        return max(drawn, EXIT_OK if result.check.passed else EXIT_CHECK_FAILED)
    return drawn


def draw_pictures(result, pictures: dict[str, str]) -> int:
    """Write the --graph / --plot / --plot-surface files of one run; return
    the exit code (each is attempted even when another failed)."""
    from .errors import OutputError

    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in result.spec.name or "circuit")
    code = EXIT_OK
    for option, target in pictures.items():
        target = target.replace("{name}", name)
        try:
            if option == "graph":
                from . import graph

                graph.write(graph.to_dot(result), target)
            else:
                from . import plot

                (plot.plot_trace if option == "plot" else plot.plot_surface)(result, target)
        except OutputError as err:
            click.echo(f"{err.where}: error: {err.message}", err=True)
            code = EXIT_SPEC_ERROR
    return code


def _can_print(text: str) -> bool:
    """Whether standard output's encoding can show `text` (not so on some Windows consoles)."""
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


if __name__ == "__main__":  # pragma: no cover
    main()
