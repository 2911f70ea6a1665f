"""Results as CSV for programs: the node table, one row per input and gate.

With several specs in one output, every row starts with the spec's
`circuit` name and `spec` file (quoted as CSV needs: they are any text),
under one header, so the rows of different circuits can be told apart."""

from __future__ import annotations

from typing import IO, Iterator

from ..results.run import RunResult, by_slot


def render_csv(result: RunResult) -> str:
    """The node table as CSV (see `iter_csv`)."""
    return "".join(iter_csv(result))


def write_csv(result: RunResult, file: IO[str]) -> None:
    """Write the node table to `file` piece by piece."""
    for piece in iter_csv(result):
        file.write(piece)


_CHUNK = 10_000  # lines per piece of output


def csv_header(*, numerical: bool, circuit_columns: bool = False) -> str:
    """The header line: `name,op,in,value,grad` (then `numerical_grad` with
    --numerical), after `circuit,spec` when several specs share the output."""
    return ("circuit,spec," if circuit_columns else "") + "name,op,in,value,grad" + \
        (",numerical_grad" if numerical else "") + "\n"


def iter_csv(result: RunResult, *, circuit_columns: bool = False, header: bool = True) -> Iterator[str]:
    """The node table as CSV, in pieces of about `_CHUNK` lines. Names are
    identifiers and numbers are repr()s, so no field ever needs quoting;
    `circuit_columns` starts every row with the circuit's name and spec file
    (which may need it). `header=False` leaves out the header line (written
    once for several specs)."""
    circuit = result.circuit
    if result.loss is not None:
        yield from _data_lines(result)
        return
    values, grads = by_slot(result.values, circuit), by_slot(result.grads, circuit)
    numerical = result.numerical_grads
    lead = _fields(result.spec.name or "", result.spec.source) + "," if circuit_columns else ""
    lines = [csv_header(numerical=numerical is not None, circuit_columns=circuit_columns)] if header else []
    for slot, name in enumerate(circuit.input_names):
        extra = f",{numerical[name]!r}" if numerical is not None else ""
        lines.append(f"{lead}{name},input,,{values[slot]!r},{grads[slot]!r}{extra}\n")
    yield "".join(lines)
    extra = "," if numerical is not None else ""
    names, tape, refs = circuit.names, circuit.tape, circuit.refs
    for start in range(0, len(tape), _CHUNK):  # a piece per _CHUNK gates
        ins = _refs_texts(refs[start:start + _CHUNK])
        yield "".join([f"{lead}{names[step.out]},{step.op.name},{text},{values[step.out]!r},{grads[step.out]!r}"
                       f"{extra}\n" for step, text in zip(tape[start:start + _CHUNK], ins)])


def _fields(*texts: str) -> str:
    """Text fields as one CSV line's worth, quoted where CSV needs it."""
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(texts)  # the terminator's characters are quoted too
    return out.getvalue()[:-2]


def _refs_texts(refs: list) -> list[str]:
    """Each gate's inputs, separated by spaces."""
    try:
        return [" ".join(each) for each in refs]
    except TypeError:  # a number constant among them
        return [" ".join([ref if ref.__class__ is str else repr(ref) for ref in each]) for each in refs]


def _data_lines(result: RunResult) -> Iterator[str]:
    """With data: one line per node and row (`row` 1, 2, ...) for nodes that
    depend on data; one line with an empty `row` for the others."""
    circuit = result.circuit
    values, grads = by_slot(result.values, circuit), by_slot(result.grads, circuit)
    numerical = result.numerical_grads or {}
    yield "name,op,in,row,value,grad" + (",numerical_grad" if result.numerical_grads is not None else "") + "\n"
    extra = "," if result.numerical_grads is not None else ""

    def lines(name: str, op: str, text: str, slot: int, tail: str) -> str:
        value, grad = values[slot], grads[slot]
        if not hasattr(value, "tolist"):
            return f"{name},{op},{text},,{value!r},{grad!r}{tail}\n"
        grad_rows = grad.tolist() if hasattr(grad, "tolist") else [grad] * len(value)
        return "".join([f"{name},{op},{text},{row},{v!r},{g!r}{extra}\n"
                        for row, (v, g) in enumerate(zip(value.tolist(), grad_rows), start=1)])

    for slot, name in enumerate(circuit.input_names):
        tail = f",{numerical[name]!r}" if name in numerical else extra
        yield lines(name, "input", "", slot, tail)
    for step, text in zip(circuit.tape, _refs_texts(circuit.refs)):
        yield lines(circuit.names[step.out], step.op.name, text, step.out, extra)


def prediction_lines(columns: list[str], rows: list[list[float]], node: str, predicted) -> Iterator[str]:
    """--predict's CSV: the input file's columns and `node`'s value, one line per row."""
    yield ",".join([*columns, node]) + "\n"
    values = predicted.tolist()
    for start in range(0, len(rows), _CHUNK):
        yield "".join([",".join(map(repr, [*row, value])) + "\n"
                       for row, value in zip(rows[start:start + _CHUNK], values[start:start + _CHUNK])])
