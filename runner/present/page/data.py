"""What the page embeds: a run as plain JSON data, and the one safe way to put
it inside a `<script>` element.

The page gets the compiled tape (the circuit the engine ran, not the spec's
gates), so gates made by formulas and modules arrive as the ordinary nodes
they are. It recomputes every value and gradient itself, from the inputs'
starting values; `python` holds the engine's numbers at that point for the
summary view and as a check.
"""

from __future__ import annotations

import json
import math
from typing import Any, Optional

from ..._version import __version__
from ...core.engine import Circuit
from ...ops import Op
from ..explain import render_text
from ...results.run import RunResult
from .javascript import kind_key

# Beyond this many gates, or inputs, the page shows a summary: a diagram, a
# table and a slider for every node would make the browser crawl, and the file
# would be megabytes.
SUMMARY_GATES = 2_000
SUMMARY_ROWS = 200  # inputs listed in the summary view
EXPLAIN_CHARS = 20_000  # the walkthrough is cut at a line boundary after this many characters
PLOTTED_INPUTS = 8  # trainable inputs drawn under the trace plot, at most


def page_data(result: RunResult) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    circuit, spec = result.circuit, result.spec
    data: dict[str, Any] = {
        "version": __version__,
        "name": spec.name or "circuit",
        "description": spec.description or "",
        "output": circuit.output_name,
        "gates": len(circuit.tape),
        "inputs": circuit.n_inputs,
        "summaryGates": SUMMARY_GATES,
        "optimize": _settings(result),
        "trace": trace_data(result),
        "groups": _groups(circuit),
    }
    if len(circuit.tape) > SUMMARY_GATES or circuit.n_inputs > SUMMARY_GATES:
        data["summary"] = _summary(result)
        return data
    data["tape"] = tape_data(circuit, result)
    data["explain"] = _explain(result)
    data["unused"] = circuit.unused_nodes()
    return data


def tape_data(circuit: Circuit, result: RunResult) -> dict[str, Any]:
    """Slots (inputs, constants, gates) and steps, as the engine holds them.
    The inputs start at the run's starting values."""
    first_gate = circuit.n_inputs + circuit.n_constants
    inputs = [{"name": name, "value": result.values[name], "trainable": name in trainable,
               "min": circuit.bounds.get(name, (None, None))[0], "max": circuit.bounds.get(name, (None, None))[1]}
              for trainable in [set(circuit.trainable)] for name in circuit.input_names]
    kinds: dict[str, int] = {}
    steps, ins = [], []
    for step in circuit.tape:
        steps.append(kinds.setdefault(kind_key(step.op, len(step.ins)), len(kinds)))
        ins.extend(step.ins)
    return {
        "inputs": inputs,
        "constants": circuit.values[circuit.n_inputs:first_gate],
        "gateNames": circuit.names[first_gate:],
        "kinds": list(kinds),
        "steps": steps,
        "ins": ins,
        "outputSlot": circuit.output,
        "domains": {step.op.name: step.op.domain for step in circuit.tape if step.op.domain},
    }


def used_kinds(circuit: Circuit) -> list[tuple[Op, int]]:
    """The (op, arity) pairs of the tape, in order of first use; the ops are
    the tape's own rows, so a spec's custom ops come with their templates."""
    kinds = {}
    for step in circuit.tape:
        kinds.setdefault(kind_key(step.op, len(step.ins)), (step.op, len(step.ins)))
    return list(kinds.values())


def trace_data(result: RunResult) -> Optional[dict[str, Any]]:
    """The optimization's kept rows: every numeric member of a row (the
    output, and whatever else a kind of run records) as a series, and the
    trainable inputs (a few of them) as another panel."""
    run = result.optimization
    if run is None or not run.trace:
        return None
    rows = [row.as_dict() for row in run.trace]
    series = {name: [_finite(_numbers(row).get(name)) for row in rows] for name in _numbers(rows[0])}
    names = list(rows[0].get("inputs") or {})
    return {
        "iterations": [row["iteration"] for row in rows],
        "series": series,
        "inputs": {name: [_finite(row["inputs"][name]) for row in rows] for name in names[:PLOTTED_INPUTS]},
        "moreInputs": max(0, len(names) - PLOTTED_INPUTS),
        "steps": run.steps,
        "stop": run.stop,
        "final": _finite(run.final_output),
    }


def _numbers(row: dict) -> dict[str, float]:
    """The numbers a trace row records besides its iteration and per-input
    members: `output`, and e.g. `loss` or `{"metrics": {"accuracy": ...}}`
    (as `metrics.accuracy`) when a kind of run adds them."""
    found = {}
    for key, value in row.items():
        if key in ("iteration", "inputs", "grads"):
            continue
        if isinstance(value, dict):
            found.update((f"{key}.{inner}", number) for inner, number in value.items() if _is_number(number))
        elif _is_number(value):
            found[key] = value
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _settings(result: RunResult) -> Optional[dict[str, Any]]:
    settings = result.spec.optimize
    if settings is None:
        return None
    return {key: getattr(settings, key) for key in
            ("goal", "method", "step_size", "h", "optimizer", "momentum", "beta1", "beta2", "eps", "iterations")}


def _groups(circuit: Circuit) -> dict[str, str]:
    """What each formula or module instance was written as, in words."""
    described = {}
    for name, group in circuit.groups.items():
        if group.kind == "formula":
            described[name] = f"formula {name} = {group.formula}"
        else:
            copies = f", {group.copies} copies" if group.copies > 1 else ""
            described[name] = f"instance of module {group.module}{copies}"
    return described


def _explain(result: RunResult) -> dict[str, Any]:
    text = render_text(result)
    if len(text) <= EXPLAIN_CHARS:
        return {"text": text, "omitted": 0}
    cut = text.rfind("\n", 0, EXPLAIN_CHARS) + 1
    return {"text": text[:cut], "omitted": text.count("\n", cut)}


def _summary(result: RunResult) -> dict[str, Any]:
    """The few numbers the summary view shows, from the Python engine."""
    circuit = result.circuit
    ops: dict[str, int] = {}
    for step in circuit.tape:
        ops[step.op.name] = ops.get(step.op.name, 0) + 1
    names = circuit.input_names[:SUMMARY_ROWS]
    return {
        "outputValue": result.output,
        "inputs": [{"name": name, "value": result.values[name], "grad": result.grads[name]} for name in names],
        "moreInputs": circuit.n_inputs - len(names),
        "nodes": len(circuit.index),
        "ops": ops,
    }


def _finite(value: Any) -> Optional[float]:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def script_json(data: Any) -> str:
    """JSON that can sit inside `<script type="application/json">` and be read
    back byte for byte: every non-ASCII character (U+2028 and U+2029 among them)
    and `<`, `>`, `&` are written as \\u escapes, so no name or description can
    close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
