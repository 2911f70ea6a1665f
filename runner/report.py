"""Stage 7: results -> text for people (tables), programs (JSON, CSV) and CI.

Every renderer takes a `RunResult` and returns a string; nothing here runs
or walks the circuit itself.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from .check import CheckResult
from .gradcheck import GradcheckResult
from .models import Optimize
from .optimizer import OptimizationResult, TraceRow
from .run import RunResult


def number(value: float | None) -> str:
    """A float for people: up to 10 significant digits, no trailing zeros."""
    if value is None:
        return "-"
    text = format(value, ".10g")
    return "0" if text == "-0" else text


def _ref(ref: Any) -> str:
    return ref if isinstance(ref, str) else number(ref)


# --------------------------------------------------------------------------
# JSON (the shape is the CLI contract; floats are written exactly)

def to_json_dict(result: RunResult) -> dict:
    circuit, spec = result.circuit, result.spec
    nodes: dict[str, dict] = {}
    for name in circuit.input_names:
        nodes[name] = {"op": "input", "in": [], "value": result.values[name], "grad": result.grads[name],
                       "trainable": name in circuit.trainable}
        if result.numerical_grads is not None:
            nodes[name]["numerical_grad"] = result.numerical_grads[name]
    for name, refs in zip(circuit.gate_names, circuit.refs):
        nodes[name] = {"op": spec.gates[name].op, "in": list(refs), "value": result.values[name],
                       "grad": result.grads[name]}
    document = {
        "circuit": spec.name,
        "spec": spec.source,
        "output": {"name": circuit.output_name, "value": result.output},
        "nodes": nodes,
        "optimization": _optimization_json(result.optimization),
        "check": result.check.as_dict() if result.check is not None else None,
    }
    if result.gradcheck is not None:  # only when asked for (--gradcheck)
        document["gradcheck"] = result.gradcheck.as_dict()
    return document


def _optimization_json(run: OptimizationResult | None) -> dict | None:
    if run is None:
        return None
    settings = run.settings
    document = {**settings_json(settings), "steps": run.steps, "stop": run.stop,
                "trace": [row.as_dict() for row in run.trace],
                "final": {"output": run.final_output, "inputs": run.final_inputs}}
    if run.error is not None:
        document["error"] = str(run.error)
    return document


def settings_json(settings: Optimize) -> dict:
    """The optimize settings as JSON shows them: the optimizer's own settings
    only for the optimizer that uses them."""
    document = {"goal": settings.goal, "method": settings.method, "step_size": settings.step_size,
                "iterations": settings.iterations}
    if settings.method != "random":
        document["optimizer"] = settings.optimizer
        document.update(_optimizer_settings(settings))
    return document


def _optimizer_settings(settings: Optimize) -> dict[str, float]:
    if settings.optimizer == "momentum":
        return {"momentum": settings.momentum}
    if settings.optimizer == "adam":
        return {"beta1": settings.beta1, "beta2": settings.beta2, "eps": settings.eps}
    return {}


def render_json(result: RunResult, **extra: Any) -> str:
    """The JSON document; `extra` members (e.g. `explain`) are added at the end."""
    return json.dumps({**to_json_dict(result), **extra}, allow_nan=False)


# --------------------------------------------------------------------------
# CSV: the node table

def render_csv(result: RunResult) -> str:
    """The node table as CSV. Names are identifiers and numbers are repr()s,
    so no field ever needs quoting; written directly for speed on big circuits."""
    circuit, values, grads = result.circuit, result.values, result.grads
    numerical = result.numerical_grads
    lines = ["name,op,in,value,grad" + (",numerical_grad" if numerical is not None else "")]
    for name in circuit.input_names:
        extra = f",{numerical[name]!r}" if numerical is not None else ""
        lines.append(f"{name},input,,{values[name]!r},{grads[name]!r}{extra}")
    extra = "," if numerical is not None else ""
    names = circuit.names
    for step, refs in zip(circuit.tape, circuit.refs):
        name = names[step.out]
        ins = " ".join([ref if ref.__class__ is str else repr(ref) for ref in refs])
        lines.append(f"{name},{step.op.name},{ins},{values[name]!r},{grads[name]!r}{extra}")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Tables for people

def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (),
          indent: str = "  ") -> str:
    """Aligned columns; the columns listed in `right` are right-aligned."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [str(c).rjust(w) if i in right else str(c).ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths))]
        return (indent + "  ".join(padded)).rstrip()

    return "\n".join([line(header), *(line(row) for row in rows)])


def render_table(result: RunResult) -> str:
    circuit, spec = result.circuit, result.spec
    heading = f"circuit {spec.name} ({spec.source})"
    if spec.description:
        heading += f"\n  {spec.description.strip()}"
    header = ["", "name", "op", "in", "value", "grad"]
    numeric = result.numerical_grads is not None
    if numeric:
        header.append("numerical grad")
    rows = []
    for name, node in to_json_dict(result)["nodes"].items():
        op = node["op"]
        if op == "input" and not node["trainable"]:
            op = "input (fixed)"
        row = ["*" if name == circuit.output_name else "", name, op,
               ", ".join(_ref(r) for r in node["in"]), number(node["value"]), number(node["grad"])]
        if numeric:
            row.append(number(node.get("numerical_grad")) if "numerical_grad" in node else "")
        rows.append(row)
    parts = [heading, table(header, rows, right=(4, 5, 6)),
             f"  * output {circuit.output_name} = {number(result.output)}; "
             f"grad is d{circuit.output_name}/d(node)"]
    if result.optimization is not None:
        parts.append(render_optimization(result.optimization, circuit.input_names, result.values))
    return "\n".join(parts) + "\n"


def _with_cuts(rows: Sequence[TraceRow]) -> list[TraceRow | None]:
    """The kept rows with None where rows were left out next to a run of
    consecutive rows (after the first rows, before the last ones). Evenly
    spaced rows between them need no mark: their iterations say the spacing."""
    kept = {row.iteration for row in rows}
    shown: list[TraceRow | None] = []
    for before, row in zip([None, *rows], rows):
        if before is not None and row.iteration - before.iteration > 1 and \
                (before.iteration - 1 in kept or row.iteration + 1 in kept):
            shown.append(None)
        shown.append(row)
    return shown


def _how(settings: Optimize) -> str:
    if settings.method == "random":
        return f"random local search (seed {settings.seed})"
    how = "analytic gradient (backprop)" if settings.method == "analytic" else \
        f"numerical gradient (h={settings.h:g})"
    if settings.optimizer != "sgd":
        extra = ", ".join(f"{key} {value:g}" for key, value in _optimizer_settings(settings).items())
        how += f" and {settings.optimizer} ({extra})"
    return how


def stop_text(run: OptimizationResult) -> str:
    """Why an optimization ended, in words (tables and plot titles)."""
    if run.stop == "iterations":
        return "all iterations done"
    if run.stop == "tolerance":
        return f"output changed by less than {run.settings.tolerance:g}"
    if run.stop == "diverged":
        return f"diverged at step {run.steps + 1}; the rows shown are the finite ones"
    return run.stop


def render_optimization(run: OptimizationResult, input_names: Sequence[str],
                        start_values: dict[str, float]) -> str:
    settings = run.settings
    lines = [f"optimization: {settings.goal} by {_how(settings)}, step size {settings.step_size:g}, "
             f"{run.steps} step{'s' if run.steps != 1 else ''} ({stop_text(run)})"]
    trainable = list(run.trace[0].inputs) if run.trace else []
    header = ["iteration", "output", *trainable]
    if settings.method != "random":
        header += [f"grad {name}" for name in trainable]
    rows = []
    for row in _with_cuts(run.trace):
        if row is None:
            rows.append(["..."] + [""] * (len(header) - 1))
            continue
        cells = [str(row.iteration), number(row.output), *(number(row.inputs[n]) for n in trainable)]
        if settings.method != "random":
            cells += [number((row.grads or {}).get(n)) for n in trainable]
        rows.append(cells)
    if len(run.trace) < run.rows:
        lines.append(f"  {len(run.trace)} of {run.rows:,} rows shown (--every N to choose, "
                     "--trace FILE to keep them all)")
    lines.append(table(header, rows, right=tuple(range(len(header)))))
    start = run.trace[0].output if run.trace else run.final_output
    final = "last finite output" if run.stop == "diverged" else "final output"
    lines.append(f"  {final} {number(run.final_output)} (started at {number(start)}, "
                 f"change {number(run.final_output - start)})")
    final_rows = [[name, number(start_values[name]), number(run.final_inputs[name])] for name in input_names]
    lines.append(table(["input", "start", "last finite" if run.stop == "diverged" else "final"],
                       final_rows, right=(1, 2)))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# --check

def render_check(source: str, check: CheckResult) -> str:
    verdict = "PASS" if check.passed else "FAIL"
    lines = [f"{verdict} {source} ({len(check.comparisons)} checked)"]
    for note in check.notes:
        lines.append(f"  {note}")
    if check.failures:
        rows = []
        for c in check.failures:
            expected, actual = _distinct(c.expected, c.actual)
            rows.append([c.path, expected, actual, number(c.difference), number(c.allowed)])
        lines.append(table(["entry", "expected", "actual", "difference", "allowed"], rows,
                           right=(1, 2, 3, 4)))
    return "\n".join(lines) + "\n"


def _distinct(a: float | None, b: float | None) -> tuple[str, str]:
    """Two numbers for people, with all their digits when 10 would hide the difference."""
    short_a, short_b = number(a), number(b)
    if short_a == short_b and a != b and a is not None and b is not None:
        return repr(a), repr(b)
    return short_a, short_b


# --------------------------------------------------------------------------
# --gradcheck

_STATUS = {"ok": "ok", "mismatch": "MISMATCH", "kink": "not differentiable here",
           "undefined": "no estimate"}


def render_gradcheck(source: str, check: GradcheckResult) -> str:
    verdict = "PASS" if check.passed else "FAIL"
    flagged = sum(1 for entry in check.inputs if entry.status in ("kink", "undefined"))
    counts = f"{len(check.inputs)} inputs" + (f", {flagged} not checkable here" if flagged else "")
    lines = [f"gradcheck {verdict} {source} ({counts}; eps {check.eps:g}, "
             f"atol {check.atol:g}, rtol {check.rtol:g})"]
    rows = []
    for entry in check.inputs:
        analytic, numerical = number(entry.analytic), number(entry.numerical)
        status = _STATUS[entry.status]
        if entry.status == "kink" and "within eps" in entry.note:
            status = "kink within eps"
        rows.append([entry.name, analytic, numerical, number(entry.difference), number(entry.allowed), status])
    lines.append(table(["input", "analytic", "numerical", "difference", "allowed", "status"], rows,
                       right=(1, 2, 3, 4)))
    for entry in check.inputs:
        if entry.note:
            lines.append(f"  {entry.name}: {entry.note}" + (" (not counted as a failure)"
                                                            if entry.status != "mismatch" else ""))
    return "\n".join(lines) + "\n"
