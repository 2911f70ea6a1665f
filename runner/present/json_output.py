"""Results as JSON for programs: one document per spec, on one line.

The shape is the command line's contract (see docs/output.md); floats are
written exactly (Python's repr), and non-finite numbers never appear. The
document comes in pieces (`iter_json`), so a million-node result is never
one string.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, IO, Any, Iterable, Iterator, Mapping, Sequence

from ..results.run import RunResult, by_slot

if TYPE_CHECKING:  # imported only for annotations, to keep start-up light
    from ..optimization.optimizer import OptimizationResult
    from ..spec.models import Optimize


def to_json_dict(result: RunResult) -> dict:
    circuit, spec = result.circuit, result.spec
    nodes: dict[str, dict] = {}
    value, grad = _number_or_rows(result.values), _number_or_rows(result.grads, result.values)
    for name in circuit.input_names:
        nodes[name] = {"op": "input", "in": [], "value": value(name), "grad": grad(name),
                       "trainable": name in circuit.trainable}
        if result.numerical_grads is not None and name in result.numerical_grads:
            nodes[name]["numerical_grad"] = result.numerical_grads[name]
    for step, refs in zip(circuit.tape, circuit.refs):
        name = circuit.names[step.out]
        nodes[name] = {"op": step.op.name, "in": list(refs), "value": value(name), "grad": grad(name)}
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
    if result.circuit.groups:  # only for specs with formulas or module instances
        document["groups"] = groups_json(result.circuit.groups)
    if getattr(spec, "ops", None):  # only for specs with ops of their own
        document["ops"] = custom_ops_json(spec.ops)
    if result.loss is not None:  # only for specs with data
        document.update(data_json(result))
    return document


def data_json(result: RunResult) -> dict:
    """The members a spec with data adds: its rows, the loss in parts, the metrics."""
    data = result.spec.netlist.data
    return {"data": {"columns": list(data.columns), "rows": result.rows, "source": data.source},
            "loss": dict(result.loss or {}), "metrics": result.metrics}


def _number_or_rows(numbers: Mapping[str, Any], shape: Mapping[str, Any] | None = None):
    """name -> a node's number, or its list of per-row numbers (a gradient
    that is a plain 0 for a per-row node, when nothing flows to it, becomes
    a list of zeros like its values)."""

    def get(name: str) -> Any:
        held = numbers[name]
        if hasattr(held, "tolist"):
            return held.tolist()
        if shape is not None and hasattr(shape[name], "tolist") and getattr(shape[name], "ndim", 0):
            return [float(held)] * len(shape[name])
        return held

    return get


def _optimization_json(run: OptimizationResult | None) -> dict | None:
    if run is None:
        return None
    from .trace_files import final_json

    settings = run.settings
    document = {**settings_json(settings), "steps": run.steps, "stop": run.stop,
                "trace": [row.as_dict() for row in run.trace],
                "final": final_json(run)}
    if run.error is not None:
        document["error"] = str(run.error)
    return document


def groups_json(groups: Mapping) -> dict:
    """The gates written as formulas or module instances: what each was
    written as. Their nodes are in "nodes", named after them (f.1; h.n3.w0)."""
    document = {}
    for name, group in groups.items():
        if group.kind == "formula":
            document[name] = {"kind": "formula", "formula": group.formula}
        else:
            document[name] = {"kind": "instance", "module": group.module, "copies": group.copies,
                              "activation": group.activation, "in": list(group.bindings)}
    return document


def custom_ops_json(ops: Mapping) -> dict:
    """The spec's own ops as written: args, forward and grads."""
    return {name: {"args": list(op.args), "forward": op.forward, "grads": list(op.grads)}
            for name, op in ops.items()}


def settings_json(settings: Optimize) -> dict:
    """The optimize settings as JSON shows them: the optimizer's own settings
    only for the optimizer that uses them."""
    document = {"goal": settings.goal, "method": settings.method, "step_size": settings.step_size,
                "iterations": settings.iterations}
    if settings.method != "random":
        document["optimizer"] = settings.optimizer
        document.update(settings.optimizer_settings())
    return document


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
    if result.loss is not None:  # with data: per-row lists, written by json.dumps
        yield from _data_pieces(result, extra, trace)
        return
    if set(extra) & {"circuit", "spec", "output", "nodes", "optimization", "check", "gradcheck", "groups"}:
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
    if circuit.groups:
        yield f', "groups": {dumps(groups_json(circuit.groups))}'
    if getattr(result.spec, "ops", None):
        yield f', "ops": {dumps(custom_ops_json(result.spec.ops))}'
    for key, value in extra.items():
        yield f", {dumps(key)}: {dumps(value)}"
    yield "}"


def _data_pieces(result: RunResult, extra: Mapping[str, Any], trace: Iterable[str] | None) -> Iterator[str]:
    """The document of a spec with data, a node at a time: with 100,000 rows
    each node's lists are long, and the whole text must never exist at once."""
    circuit, spec = result.circuit, result.spec
    yield (f'{{"circuit": {_dumps(spec.name)}, "spec": {_dumps(spec.source)}, "output": '
           f'{{"name": {_dumps(circuit.output_name)}, "value": {_number(result.output)}}}, "nodes": {{')
    value, grad = _number_or_rows(result.values), _number_or_rows(result.grads, result.values)
    numerical = result.numerical_grads or {}
    first = True
    for name in circuit.input_names:
        node = {"op": "input", "in": [], "value": value(name), "grad": grad(name),
                "trainable": name in circuit.trainable}
        if name in numerical:
            node["numerical_grad"] = numerical[name]
        yield ("" if first else ", ") + f"{_dumps(name)}: {_dumps(node)}"
        first = False
    for step, refs in zip(circuit.tape, circuit.refs):
        name = circuit.names[step.out]
        node = {"op": step.op.name, "in": list(refs), "value": value(name), "grad": grad(name)}
        yield f", {_dumps(name)}: {_dumps(node)}"
    yield '}, "optimization": '
    if "optimization" in extra or result.optimization is None:
        yield _dumps(extra.get("optimization"))
    else:
        yield from _optimization_pieces(result.optimization, trace)
    rest = {"check": result.check.as_dict() if result.check is not None else None}
    if result.gradcheck is not None:
        rest["gradcheck"] = result.gradcheck.as_dict()
    if circuit.groups:
        rest["groups"] = groups_json(circuit.groups)
    if getattr(spec, "ops", None):
        rest["ops"] = custom_ops_json(spec.ops)
    rest.update(data_json(result))
    rest.update({key: item for key, item in extra.items() if key != "optimization"})
    for key, item in rest.items():
        yield f", {_dumps(key)}: {_dumps(item)}"
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
    entries = [_INPUT % entry for entry in zip(names[:n], _finite(values[:n]), _finite(grads[:n]), flags)]
    numerical = result.numerical_grads
    if numerical is not None:
        extra = _finite([numerical[name] for name in circuit.input_names])
        entries = [f'{entry}, "numerical_grad": {number!r}' for entry, number in zip(entries, extra)]
    yield "}, ".join(entries) + "}"
    first_gate = n + circuit.n_constants  # constants' slots are not written (their gradient means nothing)
    _finite(values[first_gate:]), _finite(grads[first_gate:])
    tape, refs = circuit.tape, circuit.refs
    for start in range(0, len(tape), _CHUNK):  # a piece per _CHUNK gates
        steps = tape[start:start + _CHUNK]
        texts = _refs_texts(refs[start:start + _CHUNK], names is circuit.names)
        yield ", " + ", ".join([_GATE % (names[step.out], step.op.name, text, values[step.out], grads[step.out])
                                for step, text in zip(steps, texts)])


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
    from .trace_files import final_json

    tail = f'], "final": {_dumps(final_json(run))}'
    if run.error is not None:
        tail += f', "error": {_dumps(str(run.error))}'
    yield tail + "}"

