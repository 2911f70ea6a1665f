"""The picture of a spec with data (`--plot`): loss and metrics per step, and
for two data columns the decision boundary with the points, as micrograd's
demo notebook draws it."""

from __future__ import annotations

from typing import Optional

from .numbers import number
from ..results.predict import evaluate_at
from ..results.run import RunResult

GRID = 161  # points per side of the decision-boundary grid


def data_figure(result: RunResult, Figure):
    """Left: the loss (top) and the metrics against the step. Right, when the
    data has two columns besides the labels: the chosen score over their
    plane at the final parameters, its zero line, and the rows as points."""
    run = result.optimization
    assert run is not None
    plane = boundary_columns(result)
    figure = Figure(figsize=(12 if plane else 7, 6), layout="constrained")
    grid = figure.add_gridspec(2, 2 if plane else 1)
    loss_axes = figure.add_subplot(grid[0, 0])
    metric_axes = figure.add_subplot(grid[1, 0], sharex=loss_axes)
    trace = run.trace
    steps = [row.iteration for row in trace]
    marker = "o" if len(trace) <= 30 else None
    loss_axes.plot(steps, [row.output for row in trace], color="black", marker=marker)
    loss_axes.set_ylabel("loss")
    batch = run.settings.batch_size
    loss_axes.set_title(f"{result.spec.name}: loss {number(trace[0].output)} -> {number(run.final_output)} "
                        f"(all rows)" + (f"; each step over a batch of {batch}" if batch else ""), fontsize=10)
    names = list(trace[0].metrics or {})
    for index, name in enumerate(names):
        values = [(row.metrics or {}).get(name) for row in trace]
        if name == "errors":
            continue  # a count, not a share: its own scale; the accuracy says the same
        metric_axes.plot(steps, values, marker=marker, color=f"C{index}", label=name)
    metric_axes.set_ylabel("metrics")
    metric_axes.set_xlabel("step (0 is the start)")
    if names:
        metric_axes.legend(loc="best")
        final = ", ".join(f"{name} {number(value)}" for name, value in (run.final_metrics or {}).items())
        metric_axes.set_title(f"final, over all rows: {final}", fontsize=10)
    for axes in (loss_axes, metric_axes):
        axes.grid(alpha=0.3)
    if plane:
        _boundary(figure.add_subplot(grid[:, 1]), result, *plane)
    return figure


def boundary_columns(result: RunResult) -> Optional[tuple[str, str, str, str]]:
    """(x column, y column, label column, score node) when the data has two
    columns besides a classifier's label that the score depends on; else None."""
    spec = result.spec
    metrics = spec.metrics
    entry = next((getattr(metrics, name) for name in ("accuracy", "errors", "precision", "recall")
                  if metrics is not None and getattr(metrics, name) is not None), None)
    if entry is None:
        return None
    from ..results.predict import needed_columns

    features = [name for name in needed_columns(result, entry.score) if name != entry.label]
    if len(features) != 2:
        return None
    return features[0], features[1], entry.label, entry.score


def _boundary(axes, result: RunResult, xname: str, yname: str, label: str, score: str) -> None:
    import numpy as np

    data = result.spec.netlist.data
    columns = list(data.columns)
    table = np.array(data.rows, dtype=float)
    xs, ys, labels = (table[:, columns.index(name)] for name in (xname, yname, label))
    pad_x, pad_y = 0.1 * (xs.max() - xs.min() or 1), 0.1 * (ys.max() - ys.min() or 1)
    gx = np.linspace(xs.min() - pad_x, xs.max() + pad_x, GRID)
    gy = np.linspace(ys.min() - pad_y, ys.max() + pad_y, GRID)
    mx, my = np.meshgrid(gx, gy)
    values = evaluate_at(result, {xname: mx.ravel(), yname: my.ravel()}, score).reshape(mx.shape)
    axes.contourf(gx, gy, values > 0, levels=[-0.5, 0.5, 1.5], colors=["#fbb4ae", "#b3cde3"], alpha=0.8)
    axes.contour(gx, gy, values, levels=[0.0], colors="black", linewidths=1.0)
    for sign, colour, name in ((1, "#1f77b4", "+1"), (-1, "#d62728", "-1")):
        chosen = labels > 0 if sign > 0 else labels <= 0
        axes.scatter(xs[chosen], ys[chosen], s=18, c=colour, edgecolors="black", linewidths=0.4,
                     label=f"{label} = {name}")
    axes.set_xlabel(xname)
    axes.set_ylabel(yname)
    axes.legend(loc="best", fontsize=9)
    axes.set_title(f"decision boundary: {score} = 0 at the final parameters", fontsize=10)

