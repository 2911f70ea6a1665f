"""Stage 8: the `circuit-run` command. The one place that turns errors into
messages on stderr and exit codes; everything else raises."""

from __future__ import annotations

import gc
import math
import sys
from typing import Any, Callable, NamedTuple, Sequence

import click

from ._version import __version__
from .errors import (EXIT_CHECK_FAILED, EXIT_NUMERICAL_ERROR, EXIT_OK, EXIT_SPEC_ERROR,
                     NumericalError, Problem, SpecError)
from .limits import MAX_ITERATIONS, Limits
from .loading.source import STDIN, STDIN_NAME

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


def _exit_with(ctx: click.Context, wanted: bool, text: Callable[[], str]) -> None:
    """--help and --version. click's own help_option/version_option would do,
    but they ask gettext for their default texts even when given others, and
    the first ask imports locale and searches the disk for translations:
    ~2 ms of every run's start-up."""
    if wanted and not ctx.resilient_parsing:
        click.echo(text(), color=ctx.color)
        ctx.exit()


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
        click.option("--method", type=click.Choice(["analytic", "numerical", "random"]),
                     help="Override optimize.method."),
        click.option("--goal", type=click.Choice(["maximize", "minimize"]), help="Override optimize.goal."),
        click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]),
                     help="Override optimize.optimizer."),
        click.option("--seed", type=int, metavar="N", help="Override optimize.seed."),
        click.option("--tolerance", type=PositiveFinite(), help="Override optimize.tolerance."),
        click.option("--no-optimize", is_flag=True, help="Skip the spec's optimize block."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


OVERRIDES = ("iterations", "step_size", "method", "goal", "optimizer", "seed", "tolerance")


@click.command(epilog=EXAMPLES, add_help_option=False)
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
              metavar="N", help="Refuse specs with more inputs and gates than this.")
@optimization_options
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, _, wanted: _exit_with(ctx, wanted, lambda: f"circuit-run, version {__version__}"),
              help="Show the version and exit.")
@click.option("-h", "--help", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, _, wanted: _exit_with(ctx, wanted, ctx.get_help),
              help="Show this message and exit.")
def main(specs: Sequence[str], fmt: str, assignments: Sequence[tuple[str, float]], check: bool,
         gradcheck: bool, gradcheck_eps: float, gradcheck_atol: float, gradcheck_rtol: float,
         update_expect: bool, numerical: bool, numerical_h: float, schema: bool, max_bytes: int,
         max_depth: int, max_alias_nodes: int, max_nodes: int, graph_file: str | None, plot_file: str | None,
         surface_file: str | None, explain: bool, trace_path: str | None, every: int | None, quiet: bool,
         no_optimize: bool, **settings: Any) -> None:
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
        sys.exit(max(update_one(path, fmt, limits) for path in specs))
    pictures = {"graph": graph_file, "plot": plot_file, "plot-surface": surface_file}
    for option, target in pictures.items():
        if target and len(specs) > 1 and "{name}" not in target:
            raise click.UsageError(f"--{option} {target}: with several specs, put {{name}} in the file name "
                                   "(each spec's name replaces it)")
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
    gradcheck_options = dict(eps=gradcheck_eps, atol=gradcheck_atol, rtol=gradcheck_rtol) if gradcheck else None
    options = dict(fmt=fmt, overrides=dict(assignments), check=check, gradcheck=gradcheck_options,
                   numerical_h=numerical_h if numerical else None, limits=limits,
                   run=RunOptions(changes, not no_optimize, trace_path, every, quiet),
                   pictures={option: target for option, target in pictures.items() if target},
                   explain=explain)
    codes = []
    for index, path in enumerate(specs):
        if index and fmt == "table" and not check:
            click.echo()
        codes.append(run_one(path, **options))
    if check and fmt == "table" and len(codes) > 1:  # stderr: stdout stays one verdict per line
        passed = codes.count(EXIT_OK)
        click.echo(f"{len(codes)} specs: {passed} passed, {len(codes) - passed} failed", err=True)
    sys.exit(max(codes))


class RunOptions(NamedTuple):
    changes: dict[str, Any]  # overrides of the optimize block
    optimize: bool
    trace_path: str | None
    every: int | None
    quiet: bool


def run_one(path: str, *, fmt: str, overrides: dict[str, float], check: bool,
            gradcheck: dict[str, float] | None, numerical_h: float | None, limits: Limits,
            run: RunOptions, pictures: dict[str, str] | None = None, explain: bool = False) -> int:
    """Run one spec and print its report; return its exit code."""
    from .present import report
    from .spec.messages import suggest
    from .spec.validate import load_spec

    global _last_result
    _last_result = None  # the previous spec's objects go now, before this one's are made
    source = STDIN_NAME if path == STDIN else path
    try:
        spec = load_spec(path, limits)
        problems = [Problem(0, 0, f"--set {name}: the spec has no input '{name}'" + suggest(name, spec.inputs))
                    for name in overrides if name not in spec.inputs]
        problems += [Problem(0, 0, f"--set {name}={value:g}: outside the input's bounds ({bounds})")
                     for name, value in overrides.items() if name in spec.inputs
                     for bounds in [_outside(value, spec.inputs[name].min, spec.inputs[name].max)] if bounds]
        if problems:
            raise SpecError(source, problems)
        plotting = bool(pictures) and any(option.startswith("plot") for option in pictures)
        result, trace_rows = _run_spec(spec, source, fmt=fmt, overrides=overrides, check=check,
                                       numerical_h=numerical_h, run=run, gradcheck=gradcheck,
                                       plotting=plotting)
    except SpecError as err:
        for line in err.lines():
            click.echo(line, err=True)
        return _not_run(source, check, fmt, EXIT_SPEC_ERROR, "invalid spec")
    except NumericalError as err:
        click.echo(f"{source}{_gate_position(path, err.gate, limits)}: error: numerical error: {err}",
                   err=True)
        return _not_run(source, check, fmt, EXIT_NUMERICAL_ERROR, "numerical error")
    except (RecursionError, MemoryError):
        click.echo(f"{source}: error: the spec is too large or too deeply nested to process", err=True)
        return _not_run(source, check, fmt, EXIT_SPEC_ERROR, "invalid spec")
    except OSError as err:
        click.echo(f"{source}: error: cannot write the trace file: {err}", err=True)
        return _not_run(source, check, fmt, EXIT_SPEC_ERROR, "trace file not written")
    if _exiting_fast:
        _last_result = result
    for warning in result.warnings:
        click.echo(f"{source}: warning: {warning}", err=True)

    if fmt == "json":
        extra = {}
        if explain:
            from .present.explain import to_json

            extra["explain"] = to_json(result)
        try:  # in pieces: a million-node document is never one string
            for piece in report.iter_json(result, extra, trace=trace_rows.texts() if trace_rows else None):
                click.echo(piece, nl=False)
        finally:
            if trace_rows:
                trace_rows.close()
        click.echo()
    elif fmt == "csv":
        for piece in report.iter_csv(result):
            click.echo(piece, nl=False)
    elif not check and gradcheck is None:
        shown = result
        if plotting and not run.every and result.optimization is not None:
            # the run kept many rows for the plot; the table shows a summary of them
            from dataclasses import replace

            shown = replace(result, optimization=replace(
                result.optimization, trace=report.summary_rows(result.optimization.trace)))
        click.echo(report.render_table(shown), nl=False)
    if explain and fmt == "table":
        from .present.explain import render_text

        if not (check or gradcheck is not None):  # a blank line after the node table
            click.echo()
        click.echo(render_text(result, ascii=not _can_print("·∂")), nl=False)
    code = draw_pictures(result, pictures) if pictures else EXIT_OK
    if check:
        assert result.check is not None
        if fmt != "json":
            click.echo(report.render_check(source, result.check), nl=False, err=fmt == "csv")
        code = code if result.check.passed else max(code, EXIT_CHECK_FAILED)
    if gradcheck is not None:
        assert result.gradcheck is not None
        if fmt != "json":
            click.echo(report.render_gradcheck(source, result.gradcheck), nl=False, err=fmt == "csv")
        code = code if result.gradcheck.passed else max(code, EXIT_CHECK_FAILED)
    diverged = result.optimization.error if result.optimization is not None else None
    if diverged is not None:
        assert result.optimization is not None
        shown = ", ".join(f"{name}={value!r}" for name, value in result.optimization.trace[-1].inputs.items())
        click.echo(f"{source}{_gate_position(path, diverged.gate, limits)}: error: numerical error: "
                   f"{diverged}", err=True)
        click.echo(f"{source}: note: last finite inputs (step {result.optimization.steps}): {shown}", err=True)
        return EXIT_NUMERICAL_ERROR
    return code


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
                from .present import diagram as graph

                graph.write(graph.to_dot(result), target)
            else:
                from .present import plots as plot

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


def _outside(value: float, low: float | None, high: float | None) -> str:
    """'' when low <= value <= high (None: no bound), else the bounds as text."""
    if (low is None or value >= low) and (high is None or value <= high):
        return ""
    return ", ".join(f"{label} {bound:g}" for label, bound in (("min", low), ("max", high)) if bound is not None)


def _run_spec(spec, source: str, *, fmt: str, overrides: dict[str, float], check: bool,
              numerical_h: float | None, run: RunOptions, gradcheck: dict[str, float] | None = None,
              plotting: bool = False):
    """run_spec with the command line's optimize overrides, trace file,
    progress bar, and the rows the chosen output needs kept in memory.
    Returns the result and, for --format json, the trace rows as text
    (`JsonRows`; the caller closes it)."""
    from .results.run import run_spec

    if run.changes:
        from .spec.overrides import with_settings

        try:
            spec = with_settings(spec, run.changes)
        except ValueError as err:
            raise SpecError(source, [Problem(0, 0, f"with the command-line settings, {err}")]) from None
    settings = spec.optimize if run.optimize else None
    if settings is None:  # nothing to trace: no need for the optimizer's machinery
        if run.trace_path:
            click.echo(f"{source}: warning: --trace: the spec has no optimize block, so there is no trace "
                       "(add one, or an override such as --iterations N)", err=True)
        return run_spec(spec, overrides=overrides, run_optimization=False, check=check,
                        numerical_h=numerical_h, gradcheck=gradcheck), None

    from contextlib import ExitStack

    from .present.progress import Progress, progress_wanted
    from .present.report import settings_json
    from .optimization.trace import KeepEvery, KeepSummary
    from .present.trace_files import JsonRows, open_trace

    # a plot wants many rows (evenly spaced, up to ~1,000), a table a few
    keep = KeepEvery(run.every) if run.every else KeepSummary(middle=1000) if plotting else KeepSummary()
    if fmt == "json":  # the document has every row: keep them as text
        keep = trace_rows = JsonRows(keep)
    else:
        trace_rows = None
    with ExitStack() as stack:
        observers = []
        if run.trace_path:
            writer = stack.enter_context(open_trace(
                run.trace_path.replace("{name}", spec.name or "circuit"),
                {"circuit": spec.name, "spec": source, **settings_json(settings)}))
            observers.append(writer.write)
        if progress_wanted(quiet=run.quiet, fmt=fmt):
            observers.append(stack.enter_context(Progress(settings.iterations, spec.name or source)))
        observe = observers[0] if len(observers) == 1 else \
            (lambda row: [each(row) for each in observers]) if observers else None
        try:
            result = run_spec(spec, overrides=overrides, run_optimization=run.optimize, check=check,
                              numerical_h=numerical_h, keep=keep, observe=observe, gradcheck=gradcheck)
        except BaseException:
            if trace_rows is not None:
                trace_rows.close()
            raise
        if run.trace_path:
            writer.finish(result.optimization)
    return result, trace_rows


def _not_run(source: str, check: bool, fmt: str, code: int, why: str) -> int:
    """Under --check every spec gets a verdict line, even one that could not run."""
    if check and fmt == "table":
        click.echo(f"FAIL {source} ({why}; see the errors above)")
    return code


def update_one(path: str, fmt: str, limits: Limits) -> int:
    """--update-expect for one file; print what changed and return its exit code."""
    import json

    from .results.update_expect import UpdateError, describe_number, update_file

    try:
        outcome = update_file(path, limits)
    except SpecError as err:
        for line in err.lines():
            click.echo(line, err=True)
        return EXIT_SPEC_ERROR
    except NumericalError as err:
        click.echo(f"{path}{_gate_position(path, err.gate, limits)}: error: numerical error: {err}",
                   err=True)
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


def _gate_position(path: str, gate: str, limits: Limits) -> str:
    """':LINE:COL' of a gate's (or input's) name in its spec file, or '' if unknown.

    The file is read again here, on the error path only, so that a run that
    succeeds keeps no source positions in memory. Standard input cannot be
    read twice and gets no position.
    """
    if path == STDIN:
        return ""
    from .loading.document import load_file

    try:
        document = load_file(path, limits)
        section = "gates" if gate in document.data.get("gates", {}) else "inputs"  # an input: its h
        line, column = document.position((section, gate), key=True)
    except (SpecError, OSError, AttributeError, TypeError):
        return ""  # the file changed since the first read; the message still names the gate
    return f":{line}:{column}" if line else ""


# Set by `run`: the last spec's result is then kept to the end, where the
# exit skips freeing it (for a 100,000-gate spec, ~50 ms of freeing objects
# one by one, to no purpose just before the process ends).
_exiting_fast = False
_last_result: Any = None


def run() -> None:
    """The `circuit-run` command: `main`, then an exit that skips tearing down
    the interpreter.

    Python's normal exit frees every module and object one by one: ~15 ms
    after a small run, a tenth of the whole command, and more after a big
    one. Nothing is lost by skipping it: every file circuit-run writes is
    closed before `main` returns, exit handlers (atexit) still run, and the
    standard streams are flushed. Anything but a normal end (an unexpected
    exception, Ctrl-C, a stream that cannot be flushed) takes Python's usual
    way out.
    """
    global _exiting_fast
    _exiting_fast = True
    try:
        main(prog_name="circuit-run")
    except SystemExit as done:
        code = done.code
    else:
        code = EXIT_OK
    if not isinstance(code, int):
        raise SystemExit(code)
    import atexit
    import os

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # pragma: no cover - an interpreter without it
        raise SystemExit(code)
    run_exit_handlers()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let Python report it as usual
        raise SystemExit(code) from None
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
