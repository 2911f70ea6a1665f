"""The circuit a valid spec describes, flat: what the compiler builds a tape from.

A `Spec` is the file as its author wrote it; its `Netlist` is every input and
every gate, each gate an op with its references, listed in an order where
each gate comes after the gates it reads. Validation produces it (it has
worked the order out already); the compiler only reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, NamedTuple, Optional, Sequence

if TYPE_CHECKING:  # annotations only
    from .models import Gate, Input


class Group(NamedTuple):
    """A gate the user wrote that became several nodes: a formula, or a
    module instance. Its nodes are named after it (`f`, `f.1`; `h.w0`, `h.n3`),
    so presenters can fold them back into one row, cluster or note."""

    kind: str  # "formula" or "instance"
    formula: str = ""  # the formula as written
    module: str = ""  # the module an instance uses
    copies: int = 1  # an instance's repeat
    activation: Optional[str] = None
    bindings: tuple = ()  # an instance's inputs as written


class DataSet(NamedTuple):
    """A spec's rows of data, checked: one finite number per column and row."""

    columns: tuple[str, ...]
    rows: list[list[float]]
    source: str  # the file the rows are written in (the spec itself, or its CSV file)
    lines: Optional[list[int]] = None  # each row's line in a CSV file


class Netlist:
    __slots__ = ("inputs", "gates", "order", "output", "reads", "groups", "ops", "data")

    def __init__(self, inputs: Mapping[str, Input], gates: Mapping[str, Gate], order: Sequence[str],
                 output: str, reads: Sequence[int] | None = None, groups: Mapping[str, Group] | None = None,
                 ops: Mapping[str, Any] | None = None):
        self.inputs = inputs  # name -> Input (value, trainable, min, max)
        self.gates = gates  # name -> Gate (op, in_), in any order
        self.order = order  # the gates' names, each after the gates it reads
        self.output = output  # the gate whose value is the circuit's output
        # Every reference of every gate (gates in `order`) as the position of
        # the node it names among inputs-then-gates, when validation has
        # worked them out on its way (the fast path does, for circuits without
        # number constants); None otherwise.
        self.reads = reads
        self.groups = dict(groups or {})  # user-level gate -> what it was written as
        self.ops = dict(ops or {})  # the spec's custom ops: name -> ops.Op, like rows of the op table
        self.data: Optional[DataSet] = None  # the rows, for a spec with data (its columns are among the inputs)

    def ordered_gates(self) -> list[Gate]:
        gates = self.gates
        if self.order == list(gates):
            return list(gates.values())  # listed in order already: no lookups
        return [gates[name] for name in self.order]
