"""A spec with data evaluated on other rows: predictions after training.

The circuit keeps its current parameters (after an optimization, the final
ones); the rows given replace the data's. Only the columns the chosen node
depends on are needed (a file of new points need not have labels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import Problem, SpecError
from ..limits import Limits
from .run import RunResult


def default_node(result: RunResult) -> str:
    """What `--predict` reports without `--predict-node`: the score of the
    first metric (a classifier's raw output), else the node the loss reduces."""
    spec = result.spec
    if spec.metrics is not None:
        for name in ("accuracy", "errors", "precision", "recall"):
            entry = getattr(spec.metrics, name)
            if entry is not None:
                return entry.score
    if spec.loss is not None and spec.loss.of:
        return spec.loss.of
    return result.circuit.output_name


def needed_columns(result: RunResult, node: str) -> list[str]:
    """The data columns `node` depends on, in the data's order."""
    from ..core.batched import BatchedTape

    circuit, data = result.circuit, result.spec.netlist.data
    tape = BatchedTape(circuit, [])
    read = {slot for step, _ in tape.live(circuit.index[node]) for slot in step.ins} | {circuit.index[node]}
    return [column for column in data.columns if circuit.index[column] in read]


def evaluate_at(result: RunResult, columns: Mapping[str, Sequence[float]], node: str) -> Any:
    """`node`'s value on each of the rows in `columns` (name -> values), as
    a numpy array, at the circuit's current parameters."""
    import numpy as np

    from ..core.batched import BatchedTape

    circuit, data = result.circuit, result.spec.netlist.data
    count = len(next(iter(columns.values())))
    values = list(circuit.values)
    slots = []
    for name in data.columns:
        slot = circuit.index[name]
        slots.append(slot)
        values[slot] = np.asarray(columns[name], dtype=float) if name in columns else np.zeros(count)
    BatchedTape(circuit, slots).forward(values)
    return np.broadcast_to(values[circuit.index[node]], (count,))


def predict_file(result: RunResult, path: str, node: str | None, limits: Limits) -> tuple[list[str], list[list[float]], str, Any]:
    """Read the rows of a CSV file and evaluate `node` (default: `default_node`)
    on them. Returns the file's columns, its rows, the node and its values.
    Raises `SpecError` for a bad file or a node that needs a missing column."""
    from ..loading.csv_reader import read_csv

    node = node or default_node(result)
    circuit = result.circuit
    if node not in circuit.index:
        raise SpecError(result.spec.source, [Problem(0, 0, f"--predict-node: the spec has no node '{node}'")])
    table = read_csv(Path(path), max_bytes=limits.max_bytes)
    missing = [name for name in needed_columns(result, node) if name not in table.columns]
    if missing:
        raise SpecError(str(table.path), [Problem(1, 1, f"--predict: '{node}' needs the column "
                                                      f"{', '.join(repr(name) for name in missing)}, which the "
                                                      "file's header lacks")])
    columns = {name: [row[index] for row in table.rows] for index, name in enumerate(table.columns)}
    return table.columns, table.rows, node, evaluate_at(result, columns, node)
