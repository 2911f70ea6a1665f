"""The `circuit-run` command: options, the loop over spec files, exit codes.

Everything else raises typed errors (errors.py); this module shows them
through present/errors.py and exits with the highest code of the specs run.
"""

from __future__ import annotations

import gc
import math
import sys
from typing import Any, NamedTuple, Sequence

import click

from ._version import __version__
from .errors import (EXIT_CHECK_FAILED, EXIT_NUMERICAL_ERROR, EXIT_OK, CircuitRunError, OutputError, Problem,
                     SpecError)
from .limits import MAX_ITERATIONS, Limits
from .loading.source import STDIN, STDIN_NAME
from .spec import rules

EXAMPLES = """
\b
Examples:
  circuit-run circuits/add-multiply.yaml
  circuit-run --format json circuits/*.yaml | jq .output
  circuit-run --set x=3 --set y=-1 circuits/add-multiply.yaml
  circuit-run --check circuits/*.yaml
  circuit-run --gradcheck circuits/neuron.yaml
  circuit-run --update-expect circuits/neuron.yaml
  circuit-run --iterations 100000 --optimizer adam --trace run.jsonl circuits/rosenbrock.yaml
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


class PositiveFinite(click.ParamType):
    """A finite number greater than 0 (a step size or tolerance)."""

    name = "X"

    def convert(self, value: Any, param, ctx) -> float:
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(number) and number > 0):
            self.fail(f"must be a finite number greater than 0, got {value!r}", param, ctx)
        return number


def optimization_options(command):
    """--trace, --every, --quiet and the overrides of the spec's optimize block."""
    options = [
        click.option("--trace", "trace_path", metavar="FILE",
                     help="Write every optimization row to FILE as it runs: .csv, .jsonl or .json by "
                          "its extension. With several specs, put {name} in FILE."),
        click.option("--every", type=click.IntRange(min=1), metavar="N",
                     help="In the table, show every Nth optimization row (and the last) instead of "
                          "the first, evenly spaced and last rows."),
        click.option("-q", "--quiet", is_flag=True,
                     help="No progress bar (shown on a terminal once a table run lasts about 1 s)."),
        click.option("--iterations", type=click.IntRange(0, MAX_ITERATIONS), metavar="N",
                     help="Override optimize.iterations. Any override gives a spec without an "
                          "optimize block one, with the defaults."),
        click.option("--step-size", type=PositiveFinite(), help="Override optimize.step_size."),
        click.option("--method", type=click.Choice(rules.METHODS), help="Override optimize.method."),
        click.option("--goal", type=click.Choice(rules.GOALS), help="Override optimize.goal."),
        click.option("--optimizer", type=click.Choice(rules.OPTIMIZERS), help="Override optimize.optimizer."),
        click.option("--seed", type=int, metavar="N", help="Override optimize.seed."),
        click.option("--tolerance", type=PositiveFinite(), help="Override optimize.tolerance."),
        click.option("--no-optimize", is_flag=True, help="Skip the spec's optimize block."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


OVERRIDES = ("iterations", "step_size", "method", "goal", "optimizer", "seed", "tolerance")


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
@click.option("--max-bytes", type=click.IntRange(min=1), default=Limits().max_bytes, show_default=True,
              metavar="N", help="Refuse spec files larger than this.")
@click.option("--max-depth", type=click.IntRange(1, Limits.HARD_MAX_DEPTH), default=Limits().max_depth,
              show_default=True, metavar="N", help="Refuse specs nested deeper than this.")
@click.option("--max-alias-nodes", type=click.IntRange(min=0), default=Limits().max_alias_nodes,
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
@click.option("--max-nodes", type=click.IntRange(min=1), default=Limits().max_nodes, show_default=True,
              metavar="N", help="Refuse specs with more inputs and gates than this (formulas and modules "
                                "expanded).")
@click.option("--predict", "predict_file", metavar="FILE.csv",
              help="Specs with data: after the optimization, evaluate on the rows of FILE.csv (a header "
                   "row, then numbers) and write them to stdout as CSV, instead of the report: the file's "
                   "columns and the predicted node's value. Columns the node does not need (labels) may "
                   "be left out.")
@click.option("--predict-node", metavar="NAME",
              help="The node --predict writes (default: the score of the first metric, else loss.of).")
@click.option("--all-nodes", is_flag=True,
              help="In the table, show every node a formula or a module instance makes, not one row per gate.")
@optimization_options
@click.version_option(__version__, "-V", "--version", prog_name="circuit-run")
def main(specs: Sequence[str], fmt: str, assignments: Sequence[tuple[str, float]], check: bool,
         gradcheck: bool, gradcheck_eps: float, gradcheck_atol: float, gradcheck_rtol: float,
         update_expect: bool, numerical: bool, numerical_h: float, schema: bool, max_bytes: int,
         max_depth: int, max_alias_nodes: int, max_nodes: int, graph_file: str | None, plot_file: str | None,
         surface_file: str | None, explain: bool, predict_file: str | None, predict_node: str | None,
         all_nodes: bool, trace_path: str | None, every: int | None,
         quiet: bool, no_optimize: bool, **settings: Any) -> None:
    """Run circuit specs: every wire's value and gradient, optimization, checks.

    SPEC is a YAML or JSON circuit file, or - for standard input. Values and
    gradients go to stdout; errors and warnings to stderr as FILE:LINE:COL.
    """
    if schema:
        from .spec.schema import schema_text

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
    limits = Limits(max_bytes, max_depth, max_alias_nodes, max_nodes)
    if update_expect:
        clashing = [flag for flag, used in (("--check", check), ("--gradcheck", gradcheck),
                                             ("--set", assignments), ("--numerical", numerical)) if used]
        if clashing:
            raise click.UsageError(f"--update-expect cannot be combined with {', '.join(clashing)}")
        if STDIN in specs:
            raise click.UsageError("--update-expect needs spec files; standard input cannot be updated")
        sys.exit(max(_update_one(path, fmt, limits) for path in specs))
    pictures = {"graph": graph_file, "plot": plot_file, "plot-surface": surface_file}
    for option, target in pictures.items():
        if target and len(specs) > 1 and "{name}" not in target:
            raise click.UsageError(f"--{option} {target}: with several specs, put {{name}} in the file name "
                                   "(each spec's name replaces it)")
    if predict_node and not predict_file:
        raise click.UsageError("--predict-node needs --predict FILE.csv")
    if predict_file and (len(specs) > 1 or check or gradcheck or explain):
        raise click.UsageError("--predict takes one spec, without --check, --gradcheck or --explain")
    if explain and fmt == "csv":
        raise click.UsageError("--explain works with --format table or json, not csv")
    changes = {key: value for key, value in settings.items() if key in OVERRIDES and value is not None}
    if no_optimize and changes:
        raise click.UsageError(f"--no-optimize cannot be combined with --{next(iter(changes)).replace('_', '-')}")
    if trace_path and len(specs) > 1 and "{name}" not in trace_path:
        raise click.UsageError("with several specs, put {name} in the --trace file name "
                               "(for example --trace 'traces/{name}.jsonl')")
    if trace_path:
        from .present.trace_files import TRACE_FORMATS

        if not trace_path.lower().endswith(TRACE_FORMATS):
            raise click.BadParameter(f"end the file name with {', '.join(TRACE_FORMATS)}, not "
                                     f"{trace_path!r}", param_hint="'--trace'")
    if check and assignments:
        click.echo("circuit-run: warning: --set changes the inputs that the expect blocks were written "
                   "for, so --check compares against other numbers", err=True)
    options = Options(
        fmt=fmt, overrides=dict(assignments), check=check,
        gradcheck=dict(eps=gradcheck_eps, atol=gradcheck_atol, rtol=gradcheck_rtol) if gradcheck else None,
        numerical_h=numerical_h if numerical else None, limits=limits, changes=changes,
        optimize=not no_optimize, trace_path=trace_path, every=every, quiet=quiet,
        pictures={option: target for option, target in pictures.items() if target}, explain=explain,
        all_nodes=all_nodes, predict=(predict_file, predict_node) if predict_file else None)
    codes = []
    for index, path in enumerate(specs):
        if index and fmt == "table" and not check:
            click.echo()
        codes.append(_run_one(path, options))
    if check and fmt == "table" and len(codes) > 1:  # stderr: stdout stays one verdict per line
        passed = codes.count(EXIT_OK)
        click.echo(f"{len(codes)} specs: {passed} passed, {len(codes) - passed} failed", err=True)
    sys.exit(max(codes))


class Options(NamedTuple):
    """What the command line asks of every spec it runs."""

    fmt: str
    overrides: dict[str, float]  # --set: input -> starting value
    check: bool
    gradcheck: dict[str, float] | None  # eps, atol, rtol; None without --gradcheck
    numerical_h: float | None  # --numerical's step; None without it
    limits: Limits
    changes: dict[str, Any]  # overrides of the optimize block
    optimize: bool  # False with --no-optimize
    trace_path: str | None
    every: int | None
    quiet: bool
    pictures: dict[str, str]  # option (graph, plot, plot-surface) -> file
    explain: bool
    all_nodes: bool  # the table unfolds formulas and instances
    predict: tuple[str, str | None] | None = None  # --predict FILE.csv and --predict-node NAME


def _run_one(path: str, options: Options) -> int:
    """Run one spec and print its report; return its exit code."""
    source = STDIN_NAME if path == STDIN else path
    try:
        spec = _load(path, source, options)
        result, trace_rows = _run(spec, source, options)
    except CircuitRunError as err:
        from .present.errors import error_lines

        for line in error_lines(err, source, path, options.limits):
            click.echo(line, err=True)
        return _not_run(source, options, err.exit_code, _WHY_NOT_RUN.get(type(err).__name__, "invalid spec"))
    except (RecursionError, MemoryError):
        click.echo(f"{source}: error: the spec is too large or too deeply nested to process", err=True)
        return _not_run(source, options, SpecError.exit_code, "invalid spec")
    return _report(result, trace_rows, source, path, options)


_WHY_NOT_RUN = {"NumericalError": "numerical error", "OutputError": "trace file not written"}


def _load(path: str, source: str, options: Options):
    """The validated spec, and --set's names and values checked against it."""
    from .spec.validate import load_spec

    spec = load_spec(path, options.limits)
    inputs = spec.netlist.inputs  # a module's parameters are inputs too
    problems = [Problem(0, 0, f"--set {name}: the spec has no input '{name}'" + _suggest(name, inputs))
                for name in options.overrides if name not in inputs]
    data = spec.netlist.data
    problems += [Problem(0, 0, f"--set {name}: '{name}' is a data column, with a value per row; edit the "
                               "data instead") for name in options.overrides if data and name in data.columns]
    problems += [Problem(0, 0, f"--set {name}={value:g}: outside the input's bounds ({bounds})")
                 for name, value in options.overrides.items() if name in inputs
                 for bounds in [_outside(value, inputs[name].min, inputs[name].max)] if bounds]
    if problems:
        raise SpecError(source, problems)
    return spec


def _suggest(name: str, candidates) -> str:
    from .spec.messages import suggest

    return suggest(name, candidates)


def _outside(value: float, low: float | None, high: float | None) -> str:
    """'' when low <= value <= high (None: no bound), else the bounds as text."""
    if (low is None or value >= low) and (high is None or value <= high):
        return ""
    return ", ".join(f"{label} {bound:g}" for label, bound in (("min", low), ("max", high)) if bound is not None)


def _run(spec, source: str, options: Options):
    """run_spec with the command line's optimize overrides, trace file,
    progress bar, and the rows the chosen output needs kept in memory.
    Returns the result and, for --format json, the trace rows as text
    (`JsonRows`; the caller closes it)."""
    from .results.run import run_spec

    if options.changes:
        from .spec.overrides import with_settings

        try:
            spec = with_settings(spec, options.changes)
        except ValueError as err:
            raise SpecError(source, [Problem(0, 0, f"with the command-line settings, {err}")]) from None
    run_options = dict(overrides=options.overrides, check=options.check, numerical_h=options.numerical_h,
                       gradcheck=options.gradcheck)
    settings = spec.optimize if options.optimize else None
    if settings is None:  # nothing to trace: no need for the optimizer's machinery
        if options.trace_path:
            click.echo(f"{source}: warning: --trace: the spec has no optimize block, so there is no trace "
                       "(add one, or an override such as --iterations N)", err=True)
        return run_spec(spec, run_optimization=False, **run_options), None

    from contextlib import ExitStack

    from .optimization.trace import KeepEvery, KeepSummary
    from .present.json_output import settings_json
    from .present.progress import Progress, progress_wanted
    from .present.trace_files import JsonRows, open_trace

    # a plot wants many rows (evenly spaced, up to ~1,000), a table a few
    plotting = any(option.startswith("plot") for option in options.pictures)
    keep = KeepEvery(options.every) if options.every else \
        KeepSummary(middle=1000) if plotting else KeepSummary()
    trace_rows = None
    if options.fmt == "json":  # the document has every row: keep them as text
        keep = trace_rows = JsonRows(keep)
    with ExitStack() as stack:
        observers = []
        if options.trace_path:
            try:
                writer = stack.enter_context(open_trace(
                    options.trace_path.replace("{name}", spec.name or "circuit"),
                    {"circuit": spec.name, "spec": source, **settings_json(settings)}))
            except OSError as err:
                raise OutputError(source, f"cannot write the trace file: {err}") from None
            observers.append(writer.write)
        if progress_wanted(quiet=options.quiet, fmt=options.fmt):
            observers.append(stack.enter_context(Progress(settings.iterations, spec.name or source)))

        def observe(row) -> None:
            for each in observers:
                each(row)

        try:
            result = run_spec(spec, run_optimization=True, keep=keep, observe=observe if observers else None,
                              **run_options)
            if options.trace_path:
                writer.finish(result.optimization)
        except BaseException as err:
            if trace_rows is not None:
                trace_rows.close()
            if isinstance(err, OSError):
                raise OutputError(source, f"cannot write the trace file: {err}") from None
            raise
    return result, trace_rows


def _report(result, trace_rows, source: str, path: str, options: Options) -> int:
    """Print one run's results as the options ask; return its exit code."""
    from .present import tables

    for warning in result.warnings:
        click.echo(f"{source}: warning: {warning}", err=True)
    fmt, check, gradcheck = options.fmt, options.check, options.gradcheck
    if options.predict is not None:
        return _predict(result, source, options)
    if fmt == "json":
        from .present.json_output import iter_json

        extra = {}
        if options.explain:
            from .present.explain import to_json

            extra["explain"] = to_json(result)
        try:  # in pieces: a million-node document is never one string
            for piece in iter_json(result, extra, trace=trace_rows.texts() if trace_rows else None):
                click.echo(piece, nl=False)
        finally:
            if trace_rows:
                trace_rows.close()
        click.echo()
    elif fmt == "csv":
        from .present.csv_output import iter_csv

        for piece in iter_csv(result):
            click.echo(piece, nl=False)
    elif not check and gradcheck is None:
        shown = result
        plotting = any(option.startswith("plot") for option in options.pictures)
        if plotting and not options.every and result.optimization is not None:
            # the run kept many rows for the plot; the table shows a summary of them
            from dataclasses import replace

            shown = replace(result, optimization=replace(
                result.optimization, trace=tables.summary_rows(result.optimization.trace)))
        click.echo(tables.render_table(shown, all_nodes=options.all_nodes), nl=False)
    if options.explain and fmt == "table":
        from .present.explain import render_text

        if not (check or gradcheck is not None):  # a blank line after the node table
            click.echo()
        click.echo(render_text(result, ascii=not _can_print("·∂")), nl=False)
    code = _draw_pictures(result, options.pictures) if options.pictures else EXIT_OK
    if check:
        assert result.check is not None
        if fmt != "json":
            click.echo(tables.render_check(source, result.check), nl=False, err=fmt == "csv")
        code = code if result.check.passed else max(code, EXIT_CHECK_FAILED)
    if gradcheck is not None:
        assert result.gradcheck is not None
        if fmt != "json":
            click.echo(tables.render_gradcheck(source, result.gradcheck), nl=False, err=fmt == "csv")
        code = code if result.gradcheck.passed else max(code, EXIT_CHECK_FAILED)
    run = result.optimization
    if run is not None and run.error is not None:  # diverged: the rows up to there are shown above
        from .present.errors import numerical_error_line

        shown = ", ".join(f"{name}={value!r}" for name, value in run.trace[-1].inputs.items())
        click.echo(numerical_error_line(run.error, source, path, options.limits), err=True)
        click.echo(f"{source}: note: last finite inputs (step {run.steps}): {shown}", err=True)
        return EXIT_NUMERICAL_ERROR
    return code


def _predict(result, source: str, options: Options) -> int:
    """--predict: the predicted node on the rows of a CSV file, as CSV on stdout."""
    from .present.csv_output import prediction_lines
    from .present.errors import error_lines
    from .results.predict import predict_file

    path, node = options.predict
    if result.loss is None:
        click.echo(f"{source}: error: --predict needs a spec with data (a 'data' block)", err=True)
        return SpecError.exit_code
    try:
        columns, rows, node, predicted = predict_file(result, path, node, options.limits)
    except CircuitRunError as err:
        for line in error_lines(err, source, path, options.limits):
            click.echo(line, err=True)
        return err.exit_code
    for piece in prediction_lines(columns, rows, node, predicted):
        click.echo(piece, nl=False)
    return _draw_pictures(result, options.pictures) if options.pictures else EXIT_OK


def _draw_pictures(result, pictures: dict[str, str]) -> int:
    """Write the --graph / --plot / --plot-surface files of one run; return
    the exit code (each is attempted even when another failed)."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in result.spec.name or "circuit")
    code = EXIT_OK
    for option, target in pictures.items():
        target = target.replace("{name}", name)
        try:
            if option == "graph":
                from .present import diagram

                diagram.write(diagram.to_dot(result), target)
            else:
                from .present import plots

                (plots.plot_trace if option == "plot" else plots.plot_surface)(result, target)
        except OutputError as err:
            click.echo(str(err), err=True)
            code = max(code, err.exit_code)
    return code


def _can_print(text: str) -> bool:
    """Whether standard output's encoding can show `text` (not so on some Windows consoles)."""
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _not_run(source: str, options: Options, code: int, why: str) -> int:
    """Under --check every spec gets a verdict line, even one that could not run."""
    if options.check and options.fmt == "table":
        click.echo(f"FAIL {source} ({why}; see the errors above)")
    return code


def _update_one(path: str, fmt: str, limits: Limits) -> int:
    """--update-expect for one file; print what changed and return its exit code."""
    import json

    from .present.errors import error_lines
    from .results.update_expect import describe_number, update_file

    try:
        outcome = update_file(path, limits)
    except CircuitRunError as err:
        for line in error_lines(err, path, path, limits):
            click.echo(line, err=True)
        return err.exit_code
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


def command() -> None:
    """The `circuit-run` command: `main`, then an exit that skips tearing the
    interpreter down.

    Python's normal exit frees every module and object one by one, which
    after a small run is ~40 ms of a ~300 ms command (measured in
    benchmarks/RESULTS.md). Nothing is lost by skipping it: every file
    circuit-run writes is closed before `main` returns, exit handlers
    (atexit) still run, and the standard streams are flushed first. Any other
    end (an unexpected exception, a stream that cannot be flushed) takes
    Python's usual way out.
    """
    try:
        main(prog_name="circuit-run")
    except SystemExit as done:
        code = done.code
    else:
        code = EXIT_OK
    if not isinstance(code, int):  # click's usage errors and --help end here too, with an int
        raise SystemExit(code)
    import atexit
    import os

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let Python report it as usual
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    command()
