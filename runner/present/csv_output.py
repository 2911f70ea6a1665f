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
    extra = "," if numerical is not None else ""
    for step, refs in zip(circuit.tape, circuit.refs):
        ins = " ".join([ref if ref.__class__ is str else repr(ref) for ref in refs])
        out = step.out
        lines.append(f"{circuit.names[out]},{step.op.name},{ins},{values[out]!r},{grads[out]!r}{extra}")
        if len(lines) >= _CHUNK:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"
