"""Pictures of an optimization run: the trace, and the output surface under it.

matplotlib is an optional extra (`pip install "circuit-run[plot]"`), imported
only inside these functions. They draw on a bare `matplotlib.figure.Figure`
instead of pyplot: no GUI backend is needed (so `matplotlib.use("Agg")` is
unnecessary) and a program that imported circuit-run keeps its own backend.
Files are written without dates or random ids, so the same run gives the
same bytes on the same matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.objective import Objective
from ..errors import NumericalError, OutputError
from .numbers import number
from .tables import stop_text
from ..results.run import RunResult

FORMATS = ("png", "svg", "pdf")
GRID = 121  # points per side of the surface plot's grid
_INSTALL = 'plotting needs matplotlib: install circuit-run[plot] (pip install "circuit-run[plot]")'


SCALES = ("auto", "linear", "log")


def plot_trace(result: RunResult, path: str | Path, *, output_scale: str = "auto") -> None:
    """Save the trace plot of a run that optimized (see `trace_figure`)."""
    _optimization(result, "--plot")
    _check_format(path)
    _save(trace_figure(result, output_scale=output_scale), path)


def plot_surface(result: RunResult, path: str | Path, *, grid: int = GRID) -> None:
    """Save the surface plot of a run that optimized two trainable inputs (see `surface_figure`)."""
    _surface_inputs(result)
    _check_format(path)
    _save(surface_figure(result, grid=grid), path)


def trace_figure(result: RunResult, *, output_scale: str = "auto"):
    """Output against iteration (top) and the trainable inputs against
    iteration below it: in one panel, or one panel each when their scales differ.

    `output_scale` is the output axis's: linear, log, or auto (log when the
    output keeps one sign and spans three decades or more, as a minimized
    loss does). Legends sit to the right of their panel, clear of the lines
    and the ticks."""
    run = _optimization(result, "--plot")
    Figure = _figure_class()
    if result.loss is not None:  # a spec with data: loss, metrics, decision boundary
        from .data_plots import data_figure

        return data_figure(result, Figure)
    from matplotlib.ticker import MaxNLocator

    trace = run.trace
    iterations = [row.iteration for row in trace]
    names = list(trace[0].inputs)
    marker = "o" if len(trace) <= 30 else None
    output = result.circuit.output_name

    columns = {name: [row.inputs[name] for row in trace] for name in names}
    groups = _input_panels(columns)
    figure = Figure(figsize=(7, 3 + 1.6 * len(groups)), layout="constrained")
    top, *panels = figure.subplots(1 + len(groups), 1, sharex=True, squeeze=False)[:, 0]
    outputs = [row.output for row in trace]
    top.plot(iterations, outputs, marker=marker, color="black", label=output)
    scale = _output_scale(outputs, output_scale)
    top.set_ylabel(f"output {output}" + (" (log scale)" if scale != "linear" else ""))
    for panel, group in zip(panels, groups):
        for name in group:
            colour = f"C{names.index(name)}"
            panel.plot(iterations, columns[name], marker=marker, label=name, color=colour)
        panel.set_ylabel(f"input {group[0]}" if len(group) == 1 else "trainable inputs")
        if len(group) > 1:  # outside the panel: "best" can still cover lines or tick labels
            panel.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize=9)
    for axes in (top, *panels):
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        if axes is not top or scale == "linear":
            axes.ticklabel_format(axis="y", useOffset=False)  # 3.0021, not 0.0021 + 3
    if scale == "log":
        top.set_yscale("log")
    elif scale == "symlog":  # asked for log, but the output reaches 0 or changes sign
        smallest = min((abs(v) for v in outputs if v != 0), default=1.0)
        top.set_yscale("symlog", linthresh=smallest)
    (panels or [top])[-1].set_xlabel("iteration (optimization step; 0 is the start)")
    top.set_title(_title(result), fontsize=10)
    return figure


def _output_scale(outputs: list[float], asked: str) -> str:
    """'linear', 'log' or (log asked for values that reach 0 or change sign) 'symlog'."""
    positive = all(v > 0 for v in outputs)
    if asked == "log":
        return "log" if positive else "symlog"
    if asked == "auto" and positive and max(outputs) >= 1000 * min(outputs):
        return "log"
    return "linear"


def _input_panels(columns: dict[str, list[float]]) -> list[list[str]]:
    """Trainable inputs share one panel when its scale still shows each one
    move; otherwise (an input moving 0.04 next to one at 5) one panel each."""
    names = list(columns)
    if not names:
        return []
    spread = max(max(v) for v in columns.values()) - min(min(v) for v in columns.values())
    moved = max(max(v) - min(v) for v in columns.values())
    if len(names) == 1 or len(names) > 6 or spread <= 5 * moved:
        return [names]
    return [[name] for name in names]


def surface_grid(result: RunResult, grid: int = GRID):
    """The output over a square of the plane of the two trainable inputs.

    The square is centred where the run ended (the optimum, or as near as it
    got) and reaches past the farthest point of the path. Returns numpy
    arrays `(xs, ys, z)` with `z[i, j]` the output at `(xs[j], ys[i])` (NaN
    where the circuit has no finite value); other inputs keep their values.
    """
    run = _optimization(result, "--plot-surface")
    xname, yname = _surface_inputs(result)
    np = _numpy()

    xs = [row.inputs[xname] for row in run.trace]
    ys = [row.inputs[yname] for row in run.trace]
    xc, yc = xs[-1], ys[-1]
    half = 1.3 * max(max(abs(x - xc) for x in xs), max(abs(y - yc) for y in ys))
    if half == 0:
        half = max(1.0, abs(xc) / 2, abs(yc) / 2)
    gx = np.linspace(xc - half, xc + half, grid)
    gy = np.linspace(yc - half, yc + half, grid)
    z = _evaluate(result.objective or Objective(result.circuit), gx, gy, np)
    if np.isnan(z).all():
        raise OutputError(result.spec.source, "--plot-surface: the circuit has no finite output anywhere "
                                              "on the plotted plane")
    return gx, gy, z


def surface_figure(result: RunResult, *, grid: int = GRID):
    """Contours of the output over the plane of the two trainable inputs, with
    the optimization's path on top. One scale on both axes, so angles are
    true: a gradient path crosses the contours at right angles."""
    Figure = _figure_class()
    np = _numpy()
    gx, gy, surface = surface_grid(result, grid)
    circuit, trace = result.circuit, result.optimization.trace
    xname, yname = circuit.trainable
    xs = [row.inputs[xname] for row in trace]
    ys = [row.inputs[yname] for row in trace]

    figure = Figure(figsize=(7, 6), layout="constrained")
    axes = figure.subplots()
    # levels at quantiles of the output: as many bands near a peak or ridge as
    # on the slopes, where evenly spaced levels would leave it one flat colour;
    # each band gets its own step of the colour map
    from matplotlib.colors import BoundaryNorm

    levels = np.unique(np.nanquantile(surface, np.linspace(0, 1, 25)))
    norm = BoundaryNorm(levels, 256) if len(levels) > 2 else None
    filled = axes.contourf(gx, gy, surface, levels=levels if len(levels) > 1 else 2, cmap="viridis", norm=norm)
    axes.contour(gx, gy, surface, levels=levels, colors="white", linewidths=0.4, alpha=0.5)
    figure.colorbar(filled, ax=axes, label="loss over all rows" if result.loss is not None
                    else f"output {circuit.output_name}")
    axes.plot(xs, ys, color="tab:red", linewidth=1.5, marker="." if len(xs) > 1 else None,
              markersize=3, label="optimization path")
    axes.plot(xs[:1], ys[:1], "o", color="white", markeredgecolor="black", markersize=8,
              label=f"start ({number(xs[0])}, {number(ys[0])})")
    axes.plot(xs[-1:], ys[-1:], "*", color="tab:red", markeredgecolor="white", markersize=15,
              label=f"end ({number(xs[-1])}, {number(ys[-1])})")
    axes.set_xlabel(f"input {xname}")
    axes.set_ylabel(f"input {yname}")
    axes.set_aspect("equal")
    axes.legend(loc="best", fontsize=9)
    columns = result.spec.netlist.data.columns if result.loss is not None else ()
    fixed = [name for name in circuit.input_names if name not in circuit.trainable and name not in columns]
    title = _title(result)
    if fixed:
        title += "\nheld at their start values: " + ", ".join(
            f"{name} = {number(result.values[name])}" for name in fixed)
    axes.set_title(title, fontsize=10)
    return figure


def _surface_inputs(result: RunResult) -> tuple[str, str]:
    _optimization(result, "--plot-surface")
    trainable = result.circuit.trainable
    if len(trainable) != 2:
        have = ", ".join(trainable) or "none"
        raise OutputError(result.spec.source, f"--plot-surface needs exactly two trainable inputs; this "
                                              f"circuit has {len(trainable)} ({have})")
    return trainable[0], trainable[1]


def _evaluate(objective: Objective, gx, gy, np) -> Any:
    """The output (with data: the loss over all rows) at every grid point of
    the plane of the two trainable inputs (NaN where the circuit has no
    value); they are restored afterwards."""
    start = objective.get()
    surface = np.full((len(gy), len(gx)), np.nan)
    try:
        for i, y in enumerate(gy.tolist()):
            for j, x in enumerate(gx.tolist()):
                objective.set([x, y])
                try:
                    surface[i, j] = objective.value()
                except NumericalError:
                    pass  # e.g. log of a negative number: left blank
    finally:
        objective.set(start)
        objective.value()
    return surface


def _optimization(result: RunResult, option: str):
    if result.optimization is None:
        raise OutputError(result.spec.source, f"{option} draws an optimization, but this spec has no "
                                              "optimize block (add one, see the spec format)")
    return result.optimization


def _title(result: RunResult) -> str:
    run = result.optimization
    settings = run.settings
    method = {"analytic": "analytic gradient", "numerical": "numerical gradient",
              "random": "random local search"}.get(settings.method, settings.method)
    stop = stop_text(run)
    start, end = run.trace[0].output, run.final_output
    return (f"{result.spec.name}: {settings.goal} by {method}, step size {settings.step_size:g}\n"
            f"{run.steps} step{'s' if run.steps != 1 else ''}, stopped: {stop}; "
            f"{'loss' if result.loss is not None else result.circuit.output_name} {number(start)} -> {number(end)}")


def _check_format(path: str | Path) -> None:
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OutputError(str(path), "cannot tell the plot format from the extension; use one of "
                                     + ", ".join("." + f for f in FORMATS))


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise OutputError("circuit-run", _INSTALL) from None
    return Figure


def _numpy():
    """numpy, which comes with matplotlib: the same message when it is missing."""
    try:
        import numpy
    except ImportError:
        raise OutputError("circuit-run", _INSTALL) from None
    return numpy


def _save(figure, path: str | Path) -> None:
    import matplotlib

    fmt = Path(path).suffix.lower().lstrip(".")
    metadata = {"Date": None} if fmt == "svg" else {"CreationDate": None} if fmt == "pdf" else {}
    try:
        with matplotlib.rc_context({"svg.hashsalt": "circuit-run"}):
            figure.savefig(path, format=fmt, dpi=110, metadata=metadata)
    except OSError as err:
        raise OutputError(str(path), f"cannot write: {err.strerror or err}") from None
