"""The `circuit-run` command: options, the loop over spec files, exit codes.

Everything else raises typed errors (errors.py); this module shows them
through present/errors.py and exits with the highest code of the specs run.
"""

from __future__ import annotations

import errno
import gc
import math
import os
import sys
from contextlib import contextmanager
from typing import Any, NamedTuple, Sequence

import click

from ._version import __version__
from .errors import (EXIT_BROKEN_PIPE, EXIT_CHECK_FAILED, EXIT_CODES, EXIT_INTERRUPTED, EXIT_NUMERICAL_ERROR,
                     EXIT_OK, EXIT_SPEC_ERROR, CircuitRunError, OutputError, Problem, SpecError)
from .limits import MAX_ITERATIONS, Limits
from .loading.source import STDIN, STDIN_NAME
from .spec import rules
from .words import counted

EXAMPLES = """
\b
Examples:
  circuit-run circuits/add-multiply.yaml
  circuit-run --format json circuits/*.yaml | jq .output
  circuit-run --set x=3 --set y=-1 circuits/add-multiply.yaml
  circuit-run --check circuits/*.yaml
  circuit-run --gradcheck circuits/neuron.yaml
  circuit-run --html neuron.html circuits/neuron.yaml
  circuit-run --update-expect circuits/neuron.yaml
  circuit-run --iterations 100000 --optimizer adam --trace run.jsonl circuits/rosenbrock.yaml
  circuit-run --engine micrograd.engine:Value --conformance
  cat spec.yaml | circuit-run -

\b
Exit codes (with several specs, the highest):
""" + "\n".join(f"  {code:<3} {brief}" for code, (brief, _) in EXIT_CODES.items()) + "\n"


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


class EngineTarget(click.ParamType):
    """MODULE:CLASS, checked for its shape only (importing it runs the user's code)."""

    name = "MODULE:CLASS"

    def convert(self, value: Any, param, ctx) -> str:
        from .results.foreign_engine import check_target

        try:
            return check_target(str(value))
        except ValueError as err:
            self.fail(str(err), param, ctx)


class FiniteNumber(click.ParamType):
    """A finite number above a minimum (a step, a size, a tolerance).

    click's FloatRange lets NaN through (every comparison with NaN is
    false) and takes inf as in range; neither means anything here."""

    name = "X"

    def __init__(self, minimum: float = 0.0, *, inclusive: bool = False):
        self.minimum, self.inclusive = minimum, inclusive

    def convert(self, value: Any, param, ctx) -> float:
        if isinstance(value, float) and math.isfinite(value):
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        above = number >= self.minimum if self.inclusive else number > self.minimum
        if not (math.isfinite(number) and above):
            relation = "at least" if self.inclusive else "greater than"
            self.fail(f"must be a finite number {relation} {self.minimum:g}, got {value!r}", param, ctx)
        return number


def optimization_options(command):
    """--trace, --every, --quiet and the overrides of the spec's optimize block."""
    options = [
        click.option("--trace", "trace_paths", metavar="FILE", multiple=True,
                     help="Write every optimization row to FILE as it runs: .csv, .jsonl or .json by "
                          "its extension. With several specs, put {name} in FILE. Repeatable."),
        click.option("--every", type=click.IntRange(min=1), metavar="N",
                     help="In the table, show every Nth optimization row (and the last) instead of "
                          "the first, evenly spaced and last rows."),
        click.option("-q", "--quiet", is_flag=True,
                     help="No progress bar (shown on a terminal once a table run lasts about 1 s)."),
        click.option("--iterations", type=click.IntRange(0, MAX_ITERATIONS), metavar="N",
                     help="Override optimize.iterations. Any override gives a spec without an "
                          "optimize block one, with the defaults."),
        click.option("--step-size", type=FiniteNumber(), help="Override optimize.step_size."),
        click.option("--method", type=click.Choice(rules.METHODS), help="Override optimize.method."),
        click.option("--goal", type=click.Choice(rules.GOALS), help="Override optimize.goal."),
        click.option("--optimizer", type=click.Choice(rules.OPTIMIZERS), help="Override optimize.optimizer."),
        click.option("--seed", type=int, metavar="N", help="Override optimize.seed."),
        click.option("--tolerance", type=FiniteNumber(), help="Override optimize.tolerance."),
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
@click.option("--gradcheck-eps", type=FiniteNumber(), default=1e-6,
              show_default=True, metavar="EPS", help="Step of --gradcheck's central differences.")
@click.option("--gradcheck-atol", type=FiniteNumber(0.0, inclusive=True), default=1e-5, show_default=True,
              metavar="ATOL", help="--gradcheck passes when |analytic - numerical| <= ATOL + RTOL*|numerical|.")
@click.option("--gradcheck-rtol", type=FiniteNumber(0.0, inclusive=True), default=1e-3, show_default=True,
              metavar="RTOL", help="See --gradcheck-atol.")
@click.option("--update-expect", is_flag=True,
              help="Write the actual results into each spec's expect block (only entries that fail; "
                   "creates the block if missing). The rest of the file is kept byte for byte.")
@click.option("--round", "round_numbers", is_flag=True,
              help="With --update-expect: write each number as the shortest decimal within half of its "
                   "entry's tolerance (7.3, not 7.300000000000001, under abs 5e-4).")
@click.option("--numerical", "numerical", is_flag=True,
              help="Also show central-difference gradients of the inputs beside the analytic ones.")
@click.option("--numerical-h", type=FiniteNumber(), default=1e-6, show_default=True,
              metavar="H", help="Step of --numerical's central differences.")
@click.option("--schema", is_flag=True, help="Print the JSON Schema of the spec format and exit.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=Limits().max_bytes, show_default=True,
              metavar="N", help="Refuse spec files larger than this.")
@click.option("--max-depth", type=click.IntRange(1, Limits.HARD_MAX_DEPTH), default=Limits().max_depth,
              show_default=True, metavar="N", help="Refuse specs nested deeper than this.")
@click.option("--max-alias-nodes", type=click.IntRange(min=0), default=Limits().max_alias_nodes,
              show_default=True, metavar="N", help="Refuse YAML whose aliases expand to more nodes.")
@click.option("--graph", "graph_files", metavar="FILE", multiple=True,
              help="Draw the circuit (values and gradients on its wires) to FILE: .dot, or .svg/.png/.pdf "
                   "with Graphviz's dot program. With several specs, put {name} in FILE. Repeatable.")
@click.option("--html", "html_files", metavar="FILE", multiple=True,
              help="Write a self-contained HTML page to FILE: the diagram, the node table, the trace and a "
                   "playground that reruns the circuit in the browser. With several specs, put {name} in FILE. "
                   "Repeatable.")
@click.option("--plot", "plot_files", metavar="FILE", multiple=True,
              help="Plot the optimization (output and trainable inputs against iteration) to FILE "
                   "(.png, .svg or .pdf; needs circuit-run[plot]). Repeatable.")
@click.option("--columns", metavar="NAME,...",
              help="The trainable inputs the optimization table shows, in this order (default: as many as "
                   "fit in 120 characters).")
@click.option("--plot-scale", type=click.Choice(["auto", "linear", "log"]), default="auto", show_default=True,
              help="--plot's output axis: log, linear, or auto (log when the output keeps one sign and "
                   "spans three decades or more).")
@click.option("--plot-surface", "surface_files", metavar="FILE", multiple=True,
              help="Contours of the output over the plane of the two trainable inputs, with the "
                   "optimization path, to FILE (.png, .svg or .pdf; needs circuit-run[plot]). Repeatable.")
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
@click.option("--engine", "engine", type=EngineTarget(), metavar="MODULE:CLASS",
              help="Run each spec with another scalar autodiff class (micrograd-style: CLASS(number), "
                   "operators, .backward(), .data, .grad) and compare its output and gradients with "
                   "circuit-run's and the expect block; exit 1 on a difference. Imports and runs that code.")
@click.option("--conformance", is_flag=True,
              help="With --engine: run circuit-run's conformance suite (every op, constants, reuse, ties, "
                   "backward twice, deep chains) instead of specs; one row per case.")
@click.option("--engine-timeout", type=FiniteNumber(), default=10.0, show_default=True, metavar="SECONDS",
              help="Time limit of each --engine case (a backward() that hangs is stopped and reported); "
                   "importing the class may take the larger of this and 60 s.")
@optimization_options
@click.version_option(__version__, "-V", "--version", prog_name="circuit-run")
def main(specs: Sequence[str], fmt: str, assignments: Sequence[tuple[str, float]], check: bool,
         gradcheck: bool, gradcheck_eps: float, gradcheck_atol: float, gradcheck_rtol: float,
         update_expect: bool, numerical: bool, numerical_h: float, schema: bool, max_bytes: int,
         max_depth: int, max_alias_nodes: int, max_nodes: int, graph_files: Sequence[str],
         html_files: Sequence[str], plot_files: Sequence[str],
         surface_files: Sequence[str], explain: bool, predict_file: str | None, predict_node: str | None,
         all_nodes: bool, trace_paths: Sequence[str],
         every: int | None, quiet: bool, no_optimize: bool, engine: str | None, conformance: bool,
         engine_timeout: float, round_numbers: bool, plot_scale: str, columns: str | None,
         **settings: Any) -> None:
    """Run circuit specs: every wire's value and gradient, optimization, checks.

    SPEC is a YAML or JSON circuit file, or - for standard input. Values and
    gradients go to stdout; errors and warnings to stderr as FILE:LINE:COL.
    """
    if schema:
        from .spec.schema import schema_text

        with _ends_cleanly():
            click.echo(schema_text(), nl=False)
        return
    if conformance and not engine:
        raise click.UsageError("--conformance checks another engine: give it with --engine MODULE:CLASS")
    if not specs and not conformance:
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
                                             ("--set", assignments), ("--numerical", numerical), ("--engine", engine)) if used]
        if clashing:
            raise click.UsageError(f"--update-expect cannot be combined with {', '.join(clashing)}")
        if STDIN in specs:
            raise click.UsageError("--update-expect needs spec files; standard input cannot be updated")
        with _ends_cleanly():
            sys.exit(max(_update_one(path, fmt, limits, round_numbers) for path in specs))
    if round_numbers:
        raise click.UsageError("--round goes with --update-expect")
    outputs = [(option, target) for option, targets in (("trace", trace_paths), ("graph", graph_files),
                                                        ("html", html_files), ("plot", plot_files),
                                                        ("plot-surface", surface_files))
               for target in targets]
    for option, target in outputs:
        if len(specs) > 1 and "{name}" not in target:
            from .present.errors import printable

            raise click.UsageError(printable(f"--{option} {target}: with several specs, put {{name}} in the "
                                             "file name (each spec's name replaces it)"))
    if predict_node and not predict_file:
        raise click.UsageError("--predict-node needs --predict FILE.csv")
    if predict_file and (len(specs) > 1 or check or gradcheck or explain):
        raise click.UsageError("--predict takes one spec, without --check, --gradcheck or --explain")
    if explain and fmt == "csv":
        raise click.UsageError("--explain works with --format table or json, not csv")
    changes = {key: value for key, value in settings.items() if key in OVERRIDES and value is not None}
    if no_optimize and changes:
        raise click.UsageError(f"--no-optimize cannot be combined with --{next(iter(changes)).replace('_', '-')}")
    if trace_paths:
        from .present.trace_files import trace_format

        for trace_path in trace_paths:
            try:
                trace_format(trace_path)
            except ValueError as err:
                raise click.BadParameter(str(err), param_hint="'--trace'") from None
    if check and assignments:
        _tell("circuit-run: warning: --set changes the inputs that the expect blocks were written "
                   "for, so --check compares against other numbers")
    options = Options(
        fmt=fmt, overrides=dict(assignments), check=check,
        gradcheck=dict(eps=gradcheck_eps, atol=gradcheck_atol, rtol=gradcheck_rtol) if gradcheck else None,
        numerical_h=numerical_h if numerical else None, limits=limits, changes=changes,
        optimize=not no_optimize, outputs=_output_paths(outputs, specs), every=every, quiet=quiet,
        explain=explain, all_nodes=all_nodes, plot_scale=plot_scale,
        columns=tuple(name.strip() for name in columns.split(",") if name.strip()) if columns else (),
        several=len(specs) > 1, predict=(predict_file, predict_node) if predict_file else None)
    if engine:
        _refuse_with_engine(options, conformance, specs, update_expect, gradcheck)
        with _ends_cleanly():
            sys.exit(_run_engine(engine, engine_timeout, conformance, specs, options))
    codes = []
    with _ends_cleanly():
        if fmt == "csv" and options.several:  # one header for the rows of every spec
            from .present.csv_output import csv_header

            click.echo(csv_header(numerical=numerical, circuit_columns=True), nl=False)
        for index, path in enumerate(specs):
            if index and fmt == "table" and not check:
                click.echo()
            codes.append(_run_one(path, options, interruptible=True))
            if codes[-1] == EXIT_INTERRUPTED:  # Ctrl-C: this spec's rows so far are shown; stop here
                sys.exit(EXIT_INTERRUPTED)
    if check and fmt == "table" and len(codes) > 1:  # stderr: stdout stays one verdict per line
        passed = codes.count(EXIT_OK)
        _tell(f"{len(codes)} specs: {passed} passed, {len(codes) - passed} failed")
    sys.exit(max(codes))


def _output_paths(outputs: list[tuple[str, str]], specs: Sequence[str]):
    from .present.output_paths import OutputPaths

    return OutputPaths(outputs, [path for path in specs if path != STDIN])


@contextmanager
def _ends_cleanly():
    """Ctrl-C, a closed pipe and a full disk end the command with their exit
    codes and at most one line on stderr, never a traceback (or click's
    "Aborted!" and exit 1, which would read as a failed check).

    An OSError that reaches here comes from writing stdout: every stage
    turns the errors of its own files into `CircuitRunError`s."""
    try:
        yield
    except KeyboardInterrupt:
        _say("circuit-run: interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except OSError as err:
        _silence_stdout()
        if err.errno == errno.EPIPE:  # `| head` has what it wanted: say nothing
            sys.exit(EXIT_BROKEN_PIPE)
        _say(f"circuit-run: error: cannot write the output: {err.strerror or err}")
        sys.exit(EXIT_SPEC_ERROR)


def _say(line: str) -> None:
    """A last line on stderr, if stderr can still take it."""
    try:
        _tell(line)
    except (OSError, ValueError):
        pass


def _tell(line: str) -> None:
    """One line on stderr (an error, a warning, a note), with any name in it
    `printable`: a key from a spec cannot forge a line or drive the terminal."""
    from .present.errors import printable

    click.echo(printable(line), err=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so what is still buffered for a closed pipe
    or a full disk is dropped at exit instead of failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's captured output)
        pass


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
    outputs: Any  # OutputPaths: the files of --trace, --graph, --plot, --plot-surface
    every: int | None
    quiet: bool
    explain: bool
    all_nodes: bool  # the table unfolds formulas and instances
    plot_scale: str = "auto"  # --plot's output axis
    columns: tuple[str, ...] = ()  # --columns: trainable inputs of the optimization table
    several: bool = False  # more than one spec: CSV rows name their circuit, under one header
    predict: tuple[str, str | None] | None = None  # --predict FILE.csv and --predict-node NAME


def _run_one(path: str, options: Options, *, interruptible: bool = False) -> int:
    """Run one spec and print its report; return its exit code.
    `interruptible`: Ctrl-C during the optimization shows the rows so far
    and returns EXIT_INTERRUPTED."""
    source = STDIN_NAME if path == STDIN else path
    try:
        spec = _load(path, source, options)
        outputs = options.outputs.resolve(spec.name, source)
        result, trace_rows = _run(spec, source, options, [target for option, target in outputs if option == "trace"],
                                  interruptible)
    except CircuitRunError as err:
        from .present.errors import error_lines, error_records

        for line in error_lines(err, source, path, options.limits):
            _tell(line)
        if options.fmt == "json":
            _json_errors(source, error_records(err, path, options.limits), err.exit_code)
        return _not_run(source, options, err.exit_code, _WHY_NOT_RUN.get(type(err).__name__, "invalid spec"))
    except (RecursionError, MemoryError):
        message = "the spec is too large or too deeply nested to process"
        _tell(f"{source}: error: {message}")
        if options.fmt == "json":
            _json_errors(source, [{"line": None, "column": None, "message": message}], SpecError.exit_code)
        return _not_run(source, options, SpecError.exit_code, "invalid spec")
    pictures = [(option, target) for option, target in outputs if option != "trace"]
    return _report(result, trace_rows, source, path, options, pictures)


def _json_errors(source: str, errors: list[dict], code: int) -> None:
    """--format json prints a line for every spec: for one that could not run,
    `{"spec", "errors": [{"line", "column", "message"}], "exit_code"}`."""
    import json

    click.echo(json.dumps({"spec": source, "errors": errors, "exit_code": code}, allow_nan=False))


_WHY_NOT_RUN = {"NumericalError": "numerical error", "OutputError": "output file not written"}


def _load(path: str, source: str, options: Options):
    """The validated spec, and --set's names and values checked against it."""
    from .spec.validate import load_spec

    spec = load_spec(path, options.limits)
    inputs = spec.netlist.inputs  # a module's parameters are inputs too
    problems = [Problem(0, 0, _not_an_input(name, spec.netlist)) for name in options.overrides if name not in inputs]
    data = spec.netlist.data
    problems += [Problem(0, 0, f"--set {name}: '{name}' is a data column, with a value per row; edit the "
                               "data instead") for name in options.overrides if data and name in data.columns]
    problems += [Problem(0, 0, f"--set {name}={value:g}: outside the input's bounds ({bounds})")
                 for name, value in options.overrides.items() if name in inputs
                 for bounds in [_outside(value, inputs[name].min, inputs[name].max)] if bounds]
    trainable = [name for name, entry in inputs.items() if entry.trainable]
    problems += [Problem(0, 0, f"--columns {name}: not a trainable input" + _suggest(name, trainable))
                 for name in options.columns if name not in trainable]
    if problems:
        raise SpecError(source, problems)
    return spec


def _not_an_input(name: str, netlist) -> str:
    if name in netlist.gates or name in netlist.groups:
        shown = ", ".join(list(netlist.inputs)[:8]) + (", ..." if len(netlist.inputs) > 8 else "")
        return f"--set {name}: '{name}' is a gate, computed from its inputs; --set takes inputs ({shown})"
    return f"--set {name}: the spec has no input '{name}'" + _suggest(name, netlist.inputs)


def _suggest(name: str, candidates) -> str:
    from .spec.messages import suggest

    return suggest(name, candidates)


def _outside(value: float, low: float | None, high: float | None) -> str:
    """'' when low <= value <= high (None: no bound), else the bounds as text."""
    if (low is None or value >= low) and (high is None or value <= high):
        return ""
    return ", ".join(f"{label} {bound:g}" for label, bound in (("min", low), ("max", high)) if bound is not None)


def _run(spec, source: str, options: Options, traces: Sequence[str], interruptible: bool = False):
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
        if traces:
            _tell(f"{source}: warning: --trace: the spec has no optimize block, so there is no trace "
                       "(add one, or an override such as --iterations N)")
        return run_spec(spec, run_optimization=False, **run_options), None

    from contextlib import ExitStack

    from .optimization.trace import KeepEvery, KeepSummary
    from .present.json_output import settings_json
    from .present.progress import Progress, progress_wanted
    from .present.trace_files import JsonRows, open_trace

    # a plot wants many rows (evenly spaced, up to ~1,000), a table a few
    plotting = options.outputs.plotting
    keep = KeepEvery(options.every) if options.every else \
        KeepSummary(middle=1000) if plotting else KeepSummary()
    trace_rows = None
    if options.fmt == "json":  # the document has every row: keep them as text
        keep = trace_rows = JsonRows(keep)
    with ExitStack() as stack:
        observers = []
        writers = []
        for trace in traces:
            try:
                writers.append(stack.enter_context(open_trace(
                    trace, {"circuit": spec.name, "spec": source, **settings_json(settings)})))
            except OSError as err:
                raise OutputError(source, f"cannot write the trace file: {err}") from None
            except ValueError as err:  # no trace format in the name (checked up front; kept as a guard)
                raise OutputError(source, f"--trace: {err}") from None
            observers.append(writers[-1].write)
        if progress_wanted(quiet=options.quiet, fmt=options.fmt):
            from .present.errors import printable

            observers.append(stack.enter_context(Progress(settings.iterations, printable(spec.name or source))))

        def observe(row) -> None:
            for each in observers:
                each(row)

        try:
            result = run_spec(spec, run_optimization=True, keep=keep, observe=observe if observers else None,
                              interruptible=interruptible, **run_options)
            for writer in writers:
                writer.finish(result.optimization)
        except BaseException as err:
            if trace_rows is not None:
                trace_rows.close()
            if isinstance(err, OSError):
                raise OutputError(source, f"cannot write the trace file: {err}") from None
            raise
    return result, trace_rows


def _report(result, trace_rows, source: str, path: str, options: Options,
            pictures: Sequence[tuple[str, str]] = ()) -> int:
    """Print one run's results as the options ask; return its exit code."""
    from .present import tables

    for warning in result.warnings:
        _tell(f"{source}: warning: {warning}")
    fmt, check, gradcheck = options.fmt, options.check, options.gradcheck
    if options.predict is not None:
        return _predict(result, source, options, pictures)
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

        for piece in iter_csv(result, circuit_columns=options.several, header=not options.several):
            click.echo(piece, nl=False)
    elif not check and gradcheck is None:
        shown = result
        if options.outputs.plotting and not options.every and result.optimization is not None:
            # the run kept many rows for the plot; the table shows a summary of them
            from dataclasses import replace

            shown = replace(result, optimization=replace(
                result.optimization, trace=tables.summary_rows(result.optimization.trace)))
        click.echo(tables.render_table(shown, all_nodes=options.all_nodes, columns=options.columns), nl=False)
    if options.explain and fmt == "table":
        from .present.explain import render_text

        if not (check or gradcheck is not None):  # a blank line after the node table
            click.echo()
        click.echo(render_text(result, ascii=not _can_print("·∂")), nl=False)
    code = _draw_pictures(result, pictures, options.plot_scale) if pictures else EXIT_OK
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
        _tell(numerical_error_line(run.error, source, path, options.limits))
        _tell(f"{source}: note: last finite inputs (step {run.steps}): {shown}")
        return EXIT_NUMERICAL_ERROR
    if run is not None and run.stop == "interrupted":
        _tell(f"{source}: interrupted at step {run.steps} (the rows so far are shown)")
        return EXIT_INTERRUPTED
    return code


def _predict(result, source: str, options: Options, pictures: Sequence[tuple[str, str]]) -> int:
    """--predict: the predicted node on the rows of a CSV file, as CSV on stdout."""
    from .present.csv_output import prediction_lines
    from .present.errors import error_lines
    from .results.predict import predict_file

    path, node = options.predict
    if result.loss is None:
        _tell(f"{source}: error: --predict needs a spec with data (a 'data' block)")
        return SpecError.exit_code
    try:
        columns, rows, node, predicted = predict_file(result, path, node, options.limits)
    except CircuitRunError as err:
        for line in error_lines(err, source, path, options.limits):
            _tell(line)
        return err.exit_code
    for piece in prediction_lines(columns, rows, node, predicted):
        click.echo(piece, nl=False)
    return _draw_pictures(result, pictures, options.plot_scale) if pictures else EXIT_OK


def _draw_pictures(result, pictures: Sequence[tuple[str, str]], plot_scale: str = "auto") -> int:
    """Write the --graph / --html / --plot / --plot-surface files of one run
    (option, path pairs); return the exit code (each is attempted even when another failed)."""
    code = EXIT_OK
    for option, target in pictures:
        try:
            if option == "graph":
                from .present import diagram

                diagram.write(diagram.to_dot(result), target)
            elif option == "html":
                from .present import page

                page.write_html(result, target)
            else:
                from .present import plots

                if option == "plot":
                    plots.plot_trace(result, target, output_scale=plot_scale)
                else:
                    plots.plot_surface(result, target)
        except OutputError as err:
            _tell(str(err))
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
        from .present.errors import printable

        click.echo(printable(f"FAIL {source} ({why}; see the errors above)"))
    return code


def _update_one(path: str, fmt: str, limits: Limits, round_numbers: bool = False) -> int:
    """--update-expect for one file; print what changed and return its exit code."""
    import json

    from .present.errors import error_lines
    from .results.update_expect import describe_number, update_file

    try:
        outcome = update_file(path, limits, round_numbers=round_numbers)
    except CircuitRunError as err:
        for line in error_lines(err, path, path, limits):
            _tell(line)
        if fmt == "json":
            from .present.errors import error_records

            _json_errors(path, error_records(err, path, limits), err.exit_code)
        if err.exit_code == EXIT_NUMERICAL_ERROR:
            _tell(f"{path}: note: the file was left unchanged (an update records only a run that "
                       "finishes)")
        return err.exit_code
    if fmt == "json":
        click.echo(json.dumps(outcome.as_dict(), allow_nan=False))
        return EXIT_OK
    if not outcome.changed:
        click.echo(f"unchanged {path} ({outcome.checked} checked, all within tolerance)")
        return EXIT_OK
    if outcome.created:
        click.echo(f"created expect block in {path} ({counted(len(outcome.changes), 'entry', 'entries')})")
    else:
        click.echo(f"updated {path} ({len(outcome.changes)} of {counted(outcome.checked, 'entry', 'entries')})")
    for change in outcome.changes:
        old = "" if change.old is None else f"{describe_number(change.old)} -> "
        click.echo(f"  {change.path}: {old}{describe_number(change.new)}")
    return EXIT_OK


def _refuse_with_engine(options: Options, conformance: bool, specs: Sequence[str], update_expect: bool,
                        gradcheck: bool) -> None:
    """--engine runs its own comparison; options that change or add to a normal run do not apply."""
    clashing = [flag for flag, used in (
        ("--check", options.check), ("--gradcheck", gradcheck), ("--update-expect", update_expect),
        ("--numerical", options.numerical_h is not None), ("--explain", options.explain),
        ("--trace/--graph/--html/--plot", bool(options.outputs.templates)), ("--format csv", options.fmt == "csv"))
        if used]
    if clashing:
        raise click.UsageError(f"--engine cannot be combined with {', '.join(clashing)}")
    if conformance and specs:
        raise click.UsageError("--conformance runs the built-in suite; give no SPEC files with it")


def _run_engine(target: str, timeout: float, conformance: bool, specs: Sequence[str], options: Options) -> int:
    """--engine: each spec (or each conformance case) run by the other
    engine and compared, a row as each finishes; return the exit code."""
    from .present import engine_report
    from .results.foreign_engine import EngineError, ForeignEngine

    try:
        with ForeignEngine(target, timeout) as engine:
            if conformance:
                from .results.conformance import cases, run_suite

                width = max(len(case.name) for case in cases())
                results = run_suite(engine)
                codes = [EXIT_OK]
            else:
                width = max(len(STDIN_NAME if path == STDIN else path) for path in specs)
                codes = []
                results = _engine_specs(engine, specs, options, codes)
            shown = []
            for result in results:
                shown.append(result)
                click.echo(engine_report.row_json(result, target) if options.fmt == "json" else
                           engine_report.row(result, width), nl=False)
    except EngineError as err:
        _tell(err.lines()[0])
        return err.exit_code
    if options.fmt == "table" and shown:
        click.echo(engine_report.summary(shown, target), nl=False, err=True)  # stdout: one row per case
    return max(codes + [EXIT_CHECK_FAILED if any(result.failed for result in shown) else EXIT_OK])


def _engine_specs(engine, specs: Sequence[str], options: Options, codes: list[int]):
    """Each spec's CaseResult; a spec that cannot be loaded or run by
    circuit-run is reported as usual and its exit code added to `codes`."""
    from .results.engine_check import check_spec

    for path in specs:
        source = STDIN_NAME if path == STDIN else path
        try:
            spec = _load(path, source, options)
            yield check_spec(engine, spec, source, options.overrides)
        except CircuitRunError as err:
            from .present.errors import error_lines, error_records

            for line in error_lines(err, source, path, options.limits):
                _tell(line)
            if options.fmt == "json":
                _json_errors(source, error_records(err, path, options.limits), err.exit_code)
            codes.append(err.exit_code)
            continue
        codes.append(EXIT_OK)


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

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let Python report it as usual
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    command()
