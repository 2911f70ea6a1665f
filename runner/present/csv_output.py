"""Results as CSV for programs: the node table, one row per input and gate."""

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


def iter_csv(result: RunResult) -> Iterator[str]:
    """The node table as CSV, in pieces of about `_CHUNK` lines. Names are
    identifiers and numbers are repr()s, so no field ever needs quoting."""
    circuit = result.circuit
    values, grads = by_slot(result.values, circuit), by_slot(result.grads, circuit)
    numerical = result.numerical_grads
    lines = ["name,op,in,value,grad" + (",numerical_grad" if numerical is not None else "")]
    for slot, name in enumerate(circuit.input_names):
        extra = f",{numerical[name]!r}" if numerical is not None else ""
        lines.append(f"{name},input,,{values[slot]!r},{grads[slot]!r}{extra}")
    yield "\n".join(lines) + "\n"
    extra = "," if numerical is not None else ""
    names, tape, refs = circuit.names, circuit.tape, circuit.refs
    for start in range(0, len(tape), _CHUNK):  # a piece per _CHUNK gates
        ins = _refs_texts(refs[start:start + _CHUNK])
        yield "".join([f"{names[step.out]},{step.op.name},{text},{values[step.out]!r},{grads[step.out]!r}{extra}\n"
                       for step, text in zip(tape[start:start + _CHUNK], ins)])


def _refs_texts(refs: list) -> list[str]:
    """Each gate's inputs, separated by spaces."""
    try:
        return [" ".join(each) for each in refs]
    except TypeError:  # a number constant among them
        return [" ".join([ref if ref.__class__ is str else repr(ref) for ref in each]) for each in refs]
