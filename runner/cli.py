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
  circuit-run --gradcheck circuits/neuron.yaml
  circuit-run --update-expect circuits/neuron.yaml
  cat spec.yaml | circuit-run -

\b
Exit codes: 0 success, 1 a check failed (--check, --gradcheck),
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
@click.option("--gradcheck", is_flag=True,
              help="Compare every input's analytic gradient with a central difference; exit 1 on a "
                   "mismatch. Kinks (relu/abs at 0, max/min ties) are flagged, not failed.")
@click.option("--gradcheck-eps", type=click.FloatRange(min=0, min_open=True), default=1e-6,
              show_default=True, metavar="EPS", help="Step of --gradcheck's central differences.")
@click.option("--gradcheck-atol", type=click.FloatRange(min=0), default=1e-5, show_default=True,
              metavar="ATOL", help="--gradcheck passes when |analytic - numerical| <= ATOL + RTOL*|numerical|.")
@click.option("--gradcheck-rtol", type=click.FloatRange(min=0), default=1e-3, show_default=True,
              metavar="RTOL", help="See --gradcheck-atol.")
@click.option("--update-expect", is_flag=True,
              help="Write the actual results into each spec's expect block (only entries that fail; "
                   "creates the block if missing). The rest of the file is kept byte for byte.")
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
@click.version_option(__version__, "-V", "--version", prog_name="circuit-run")
def main(specs: Sequence[str], fmt: str, assignments: Sequence[tuple[str, float]], check: bool,
         gradcheck: bool, gradcheck_eps: float, gradcheck_atol: float, gradcheck_rtol: float,
         update_expect: bool, numerical: bool, numerical_h: float, schema: bool, max_bytes: int, max_depth: int,
         max_alias_nodes: int) -> None:
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
    limits = Limits(max_bytes, max_depth, max_alias_nodes)
    if update_expect:
        clashing = [flag for flag, used in (("--check", check), ("--gradcheck", gradcheck),
                                             ("--set", assignments), ("--numerical", numerical)) if used]
        if clashing:
            raise click.UsageError(f"--update-expect cannot be combined with {', '.join(clashing)}")
        if STDIN in specs:
            raise click.UsageError("--update-expect needs spec files; standard input cannot be updated")
        sys.exit(max(update_one(path, fmt, limits) for path in specs))
    gradcheck_options = dict(eps=gradcheck_eps, atol=gradcheck_atol, rtol=gradcheck_rtol) if gradcheck else None
    options = dict(fmt=fmt, overrides=dict(assignments), check=check, gradcheck=gradcheck_options,
                   numerical_h=numerical_h if numerical else None, limits=limits)
    codes = []
    for index, path in enumerate(specs):
        if index and fmt == "table" and not check:
            click.echo()
        codes.append(run_one(path, **options))
    if check and fmt == "table" and len(codes) > 1:  # stderr: stdout stays one verdict per line
        passed = codes.count(EXIT_OK)
        click.echo(f"{len(codes)} specs: {passed} passed, {len(codes) - passed} failed", err=True)
    sys.exit(max(codes))


def run_one(path: str, *, fmt: str, overrides: dict[str, float], check: bool,
            gradcheck: dict[str, float] | None, numerical_h: float | None, limits: Limits) -> int:
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
        result = run_spec(spec, overrides=overrides, check=check, numerical_h=numerical_h,
                          gradcheck=gradcheck)
    except SpecError as err:
        for line in err.lines():
            click.echo(line, err=True)
        return _not_run(source, check, fmt, EXIT_SPEC_ERROR, "invalid spec")
    except NumericalError as err:
        click.echo(f"{source}: error: numerical error: {err}", err=True)
        return _not_run(source, check, fmt, EXIT_NUMERICAL_ERROR, "numerical error")
    except (RecursionError, MemoryError):
        click.echo(f"{source}: error: the spec is too large or too deeply nested to process", err=True)
        return _not_run(source, check, fmt, EXIT_SPEC_ERROR, "invalid spec")
    for warning in result.warnings:
        click.echo(f"{source}: warning: {warning}", err=True)

    if fmt == "json":
        click.echo(report.render_json(result))
    elif fmt == "csv":
        click.echo(report.render_csv(result), nl=False)
    elif not check and gradcheck is None:
        click.echo(report.render_table(result), nl=False)
    code = EXIT_OK
    if check:
        assert result.check is not None
        if fmt != "json":
            click.echo(report.render_check(source, result.check), nl=False, err=fmt == "csv")
        code = code if result.check.passed else EXIT_CHECK_FAILED
    if gradcheck is not None:
        assert result.gradcheck is not None
        if fmt != "json":
            click.echo(report.render_gradcheck(source, result.gradcheck), nl=False, err=fmt == "csv")
        code = code if result.gradcheck.passed else EXIT_CHECK_FAILED
    return code


def _not_run(source: str, check: bool, fmt: str, code: int, why: str) -> int:
    """Under --check every spec gets a verdict line, even one that could not run."""
    if check and fmt == "table":
        click.echo(f"FAIL {source} ({why}; see the errors above)")
    return code


def update_one(path: str, fmt: str, limits: Limits) -> int:
    """--update-expect for one file; print what changed and return its exit code."""
    import json

    from .update_expect import UpdateError, describe_number, update_file

    try:
        outcome = update_file(path, limits)
    except SpecError as err:
        for line in err.lines():
            click.echo(line, err=True)
        return EXIT_SPEC_ERROR
    except NumericalError as err:
        click.echo(f"{path}: error: numerical error: {err}", err=True)
        return EXIT_NUMERICAL_ERROR
    except UpdateError as err:
        click.echo(f"{path}: error: {err}", err=True)
        return EXIT_SPEC_ERROR
    if fmt == "json":
        click.echo(json.dumps(outcome.as_dict(), allow_nan=False))
        return EXIT_OK
    if not outcome.changed:
        click.echo(f"unchanged {path} ({outcome.checked} checked, all within tolerance)")
        return EXIT_OK
    if outcome.created:
        click.echo(f"created expect block in {path} ({len(outcome.changes)} entries)")
    else:
        click.echo(f"updated {path} ({len(outcome.changes)} of {outcome.checked} entries)")
    for change in outcome.changes:
        old = "" if change.old is None else f"{describe_number(change.old)} -> "
        click.echo(f"  {change.path}: {old}{describe_number(change.new)}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    main()
