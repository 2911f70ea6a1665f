"""Stage 7: results -> text for people (tables), programs (JSON, CSV) and CI.

Every renderer takes a `RunResult` and returns a string; the JSON and CSV
ones also come as `iter_*` (the text in pieces) and `write_*` (to a file),
so a million-node document is never one string. Nothing here runs the circuit.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, IO, Any, Iterable, Iterator, Mapping, Sequence

from ..results.run import RunResult, by_slot

if TYPE_CHECKING:  # imported only for annotations, to keep start-up light
    from ..results.expectations import CheckResult
    from ..results.gradcheck import GradcheckResult
    from ..spec.models import Optimize
    from ..optimization.optimizer import OptimizationResult
    from ..optimization.trace import TraceRow


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
    """The JSON document; `extra` members (e.g. `explain`) are added at the end.
    The same text as `json.dumps({**to_json_dict(result), **extra}, allow_nan=False)`."""
    return "".join(iter_json(result, extra))


def write_json(result: RunResult, file: IO[str], extra: Mapping[str, Any] | None = None, *,
               trace: Iterable[str] | None = None) -> None:
    """Write the JSON document of `render_json` and a newline to `file`,
    piece by piece, so the whole text never exists at once."""
    for piece in iter_json(result, extra, trace=trace):
        file.write(piece)
    file.write("\n")


_CHUNK = 10_000  # nodes or trace rows per piece of output
_INPUT = '"%s": {"op": "input", "in": [], "value": %r, "grad": %r, "trainable": %s'
_GATE = '"%s": {"op": "%s", "in": [%s], "value": %r, "grad": %r}'


def iter_json(result: RunResult, extra: Mapping[str, Any] | None = None, *,
              trace: Iterable[str] | None = None) -> Iterator[str]:
    """The text of `render_json` in pieces of about `_CHUNK` nodes or rows.

    `trace`, when given, replaces the optimization's rows: their JSON texts,
    already joined by ", " (see `trace.JsonRows`), in pieces of any size.

    json.dumps is the reference; this writes the same bytes faster and
    without building the document: node names are identifiers (nothing to
    escape) and numbers are finite floats, whose repr is the JSON number.
    Small members (settings, check, extras) still go through json.dumps.
    """
    extra = extra or {}
    if set(extra) & {"circuit", "spec", "output", "nodes", "optimization", "check", "gradcheck"}:
        yield _dumps({**to_json_dict(result), **extra})  # an extra replaces a member
        return
    circuit, spec = result.circuit, result.spec
    dumps = _dumps
    yield (f'{{"circuit": {dumps(spec.name)}, "spec": {dumps(spec.source)}, "output": '
           f'{{"name": {dumps(circuit.output_name)}, "value": {_number(result.output)}}}, "nodes": {{')
    yield from _node_pieces(result)
    yield '}, "optimization": '
    if result.optimization is None:
        yield "null"
    else:
        yield from _optimization_pieces(result.optimization, trace)
    yield f', "check": {dumps(result.check.as_dict() if result.check is not None else None)}'
    if result.gradcheck is not None:
        yield f', "gradcheck": {dumps(result.gradcheck.as_dict())}'
    for key, value in extra.items():
        yield f", {dumps(key)}: {dumps(value)}"
    yield "}"


def _dumps(value: Any) -> str:
    import json  # here: a table run need not load it

    return json.dumps(value, allow_nan=False)


def _number(value: float) -> str:
    return repr(value) if value.__class__ is float and math.isfinite(value) else _dumps(value)


def _finite(numbers: list[float]) -> list[float]:
    """`numbers` (floats, as the engine makes them), after making sure each
    is finite: what json.dumps(allow_nan=False) refuses is refused the same way."""
    total = sum(numbers)
    if total - total != 0.0 and not all(map(math.isfinite, numbers)):
        raise ValueError("Out of range float values are not JSON compliant")
    return numbers


def _plain(names: Iterable[str]) -> bool:
    """Whether all names are ASCII identifiers, which JSON writes as they are."""
    joined = "".join(names)
    return joined.isascii() and (not joined or joined.isidentifier())


def _node_pieces(result: RunResult) -> Iterator[str]:
    """The members of "nodes" (inputs, then gates in tape order), joined by ", "."""
    circuit = result.circuit
    values, grads = by_slot(result.values, circuit), by_slot(result.grads, circuit)
    names = circuit.names
    if not _plain(circuit.index):  # names of inputs and gates (constants' are numbers)
        names = [_dumps(name)[1:-1] for name in names]
    n = circuit.n_inputs
    trainable = set(circuit.trainable)
    flags = ["true" if name in trainable else "false" for name in circuit.input_names]
    entries = list(map(_INPUT.__mod__, zip(names[:n], _finite(values[:n]), _finite(grads[:n]), flags)))
    numerical = result.numerical_grads
    if numerical is not None:
        extra = _finite([numerical[name] for name in circuit.input_names])
        entries = [f'{entry}, "numerical_grad": {number!r}' for entry, number in zip(entries, extra)]
    yield "}, ".join(entries) + "}"
    tape, refs = circuit.tape, circuit.refs
    for start in range(0, len(tape), _CHUNK):
        steps = tape[start:start + _CHUNK]
        outs = [step.out for step in steps]
        yield ", " + ", ".join(map(_GATE.__mod__, zip(
            map(names.__getitem__, outs), [step.op.name for step in steps],
            _refs_texts(refs[start:start + _CHUNK], names is circuit.names),
            _finite(list(map(values.__getitem__, outs))), _finite(list(map(grads.__getitem__, outs))))))


def _refs_texts(refs: Sequence[Sequence[str | float]], plain: bool) -> list[str]:
    """The inside of each gate's "in" list."""
    if plain:
        try:
            return ['"%s"' % '", "'.join(each) for each in refs]
        except TypeError:  # a number constant among them
            pass
    return [", ".join([_dumps(ref) if ref.__class__ is str else _number(ref) for ref in each])
            for each in refs]


def _optimization_pieces(run: OptimizationResult, trace: Iterable[str] | None) -> Iterator[str]:
    head = {**settings_json(run.settings), "steps": run.steps, "stop": run.stop}
    yield _dumps(head)[:-1] + ', "trace": ['
    if trace is not None:
        yield from trace
    else:
        rows = run.trace
        from .trace_files import row_json

        encode = row_json if not rows or _plain(list(rows[0].inputs)) else (lambda row: _dumps(row.as_dict()))
        for start in range(0, len(rows), _CHUNK):
            yield (", " if start else "") + ", ".join(map(encode, rows[start:start + _CHUNK]))
    tail = f'], "final": {_dumps({"output": run.final_output, "inputs": run.final_inputs})}'
    if run.error is not None:
        tail += f', "error": {_dumps(str(run.error))}'
    yield tail + "}"


# --------------------------------------------------------------------------
# CSV: the node table

def render_csv(result: RunResult) -> str:
    """The node table as CSV (see `iter_csv`)."""
    return "".join(iter_csv(result))


def write_csv(result: RunResult, file: IO[str]) -> None:
    """Write the node table to `file` piece by piece."""
    for piece in iter_csv(result):
        file.write(piece)


_STEP_OUT, _STEP_OP_NAME = attrgetter("out"), attrgetter("op.name")


def iter_csv(result: RunResult) -> Iterator[str]:
    """The node table as CSV, in pieces of about `_CHUNK` lines. Names are
    identifiers and numbers are repr()s, so no field ever needs quoting;
    written directly for speed on big circuits."""
    circuit = result.circuit
    values, grads = by_slot(result.values, circuit), by_slot(result.grads, circuit)
    numerical = result.numerical_grads
    lines = ["name,op,in,value,grad" + (",numerical_grad" if numerical is not None else "")]
    for slot, name in enumerate(circuit.input_names):
        extra = f",{numerical[name]!r}" if numerical is not None else ""
        lines.append(f"{name},input,,{values[slot]!r},{grads[slot]!r}{extra}")
    yield "\n".join(lines) + "\n"

    names, tape, refs = circuit.names, circuit.tape, circuit.refs
    for start in range(0, len(tape), _CHUNK):
        steps = tape[start:start + _CHUNK]
        outs = list(map(_STEP_OUT, steps))
        try:
            ins = list(map(" ".join, refs[start:start + _CHUNK]))
        except TypeError:  # a number constant among them
            ins = [" ".join([ref if ref.__class__ is str else repr(ref) for ref in each])
                   for each in refs[start:start + _CHUNK]]
        columns = [map(names.__getitem__, outs), map(_STEP_OP_NAME, steps), ins,
                   map(repr, map(values.__getitem__, outs)), map(repr, map(grads.__getitem__, outs))]
        if numerical is not None:
            columns.append(repeat("", len(outs)))
        yield "\n".join(map(",".join, zip(*columns))) + "\n"


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


def summary_rows(rows: Sequence[TraceRow]) -> list[TraceRow]:
    """The first, evenly spaced and last of `rows`, as a table shows them."""
    from ..optimization.trace import KeepSummary

    sample = KeepSummary()
    for row in rows:
        sample.add(row)
    return sample.rows()


TRACE_COLUMNS = 8  # trainable inputs shown in a trace table
FINAL_ROWS = 30  # inputs listed with their start and final values


def render_optimization(run: OptimizationResult, input_names: Sequence[str],
                        start_values: dict[str, float]) -> str:
    settings = run.settings
    lines = [f"optimization: {settings.goal} by {_how(settings)}, step size {settings.step_size:g}, "
             f"{run.steps} step{'s' if run.steps != 1 else ''} ({stop_text(run)})"]
    every = list(run.trace[0].inputs) if run.trace else []
    # A table for people: a network's thousand weights would make it unreadable.
    trainable = every[:TRACE_COLUMNS]
    header = ["iteration", "output", *trainable]
    if settings.method != "random":
        header += [f"grad {name}" for name in trainable]
    shown = run.trace
    rows = []
    for row in _with_cuts(shown):
        if row is None:
            rows.append(["..."] + [""] * (len(header) - 1))
            continue
        cells = [str(row.iteration), number(row.output), *(number(row.inputs[n]) for n in trainable)]
        if settings.method != "random":
            cells += [number((row.grads or {}).get(n)) for n in trainable]
        rows.append(cells)
    if len(shown) < run.rows:
        lines.append(f"  {len(shown)} of {run.rows:,} rows shown (--every N to choose, "
                     "--trace FILE to keep them all)")
    if len(trainable) < len(every):
        lines.append(f"  {len(trainable)} of {len(every):,} trainable inputs shown (--format json or "
                     "--trace FILE has them all)")
    lines.append(table(header, rows, right=tuple(range(len(header)))))
    start = run.trace[0].output if run.trace else run.final_output
    final = "last finite output" if run.stop == "diverged" else "final output"
    lines.append(f"  {final} {number(run.final_output)} (started at {number(start)}, "
                 f"change {number(run.final_output - start)})")
    final_rows = [[name, number(start_values[name]), number(run.final_inputs[name])]
                  for name in input_names[:FINAL_ROWS]]
    if len(input_names) > FINAL_ROWS:
        final_rows.append([f"... {len(input_names) - FINAL_ROWS:,} more", "", ""])
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
