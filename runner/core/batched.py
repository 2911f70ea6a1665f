"""The tape over many rows at once: forward and backward with numpy arrays.

A circuit with data is the same compiled tape as any other (engine.py); here
every node that depends on a data column holds an array with one value per
row, and each gate on such a node is one array operation, never a Python loop
over rows. Nodes that do not depend on data (the parameters, and gates over
them only) stay plain floats and are computed by the op table's own
functions, exactly as the scalar engine does. Backward accumulates a row-free
node's gradient as the sum over rows of its per-row contributions.

The array kernels are made from the op table's templates (`Op.code`) with the
numpy spelling of each helper (`Helper.numpy`), so an op is still one row of
ops.py. This is the plain reference path; fused.py speeds up dense layers
behind one boundary and is tested against it.

numpy is imported here, and this module is imported only for specs with data.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import NumericalError
from ..ops import HELPERS, Op
from .engine import Circuit, Step


def _fold(function: Callable, first: Any, rest: Sequence[Any]) -> Any:
    for value in rest:
        first = function(first, value)
    return first


_NAMESPACE: dict[str, Any] = {"np": np, "fold": _fold}
_NAMESPACE.update({name: eval(helper.numpy, dict(_NAMESPACE)) for name, helper in HELPERS.items()})


class Kernel:
    """An op of arity n over arrays: `forward(*args)` and
    `backward(upstream, *args, out)` -> the upstream gradient times each
    local derivative (one array per input)."""

    __slots__ = ("forward", "backward")

    def __init__(self, forward: Callable, backward: Callable):
        self.forward, self.backward = forward, backward


@functools.cache
def kernel(op: Op, arity: int) -> Kernel:
    """The array kernel of `op` with `arity` inputs, made from its templates."""
    code = op.code(arity)
    if code is None:  # a product of many inputs: its templates would be too long
        return Kernel(lambda *args: _fold(np.multiply, args[0], args[1:]), _product_backward)
    forward, grads = code
    args = [f"a{i}" for i in range(arity)]
    terms = []
    for grad in grads:
        text = grad.format(*args, out="out")
        terms.append("g" if text == "1.0" else "-g" if text == "-1.0" else f"g * ({text})")
    source = (f"(lambda {', '.join(args)}: {forward.format(*args, out='out')}, "
              f"lambda g, {', '.join(args)}, out: ({', '.join(terms)},))")
    forward_function, backward_function = eval(source, dict(_NAMESPACE))
    return Kernel(forward_function, backward_function)


def _product_backward(g: Any, *args: Any) -> tuple:
    """d(a0 * a1 * ...)/d(ai) = the product of the others (prefix and suffix products)."""
    values = args[:-1]
    prefix = [1.0]
    for value in values[:-1]:
        prefix.append(prefix[-1] * value)
    result = [None] * len(values)
    suffix: Any = 1.0
    for i in range(len(values) - 1, -1, -1):
        result[i] = g * prefix[i] * suffix
        suffix = suffix * values[i]
    return tuple(result)


class BatchedTape:
    """Forward and backward of a circuit's tape with some inputs per row.

    `per_row` is the set of input slots that hold arrays (the data columns);
    which gates depend on them is worked out once here."""

    def __init__(self, circuit: Circuit, per_row: Sequence[int]):
        self.circuit = circuit
        rows = [False] * len(circuit.values)
        for slot in per_row:
            rows[slot] = True
        for step in circuit.tape:
            rows[step.out] = any(rows[slot] for slot in step.ins)
        self.per_row = rows
        self.kernels = [kernel(step.op, len(step.ins)) if rows[step.out] else None for step in circuit.tape]
        self.first_gate = circuit.n_inputs + circuit.n_constants

    def live(self, target: int) -> list[tuple[Step, Kernel | None]]:
        """The steps `target` depends on, with their kernels, in tape order."""
        needed = [False] * len(self.circuit.values)
        needed[target] = True
        chosen = []
        for step, found in zip(reversed(self.circuit.tape), reversed(self.kernels)):
            if needed[step.out]:
                chosen.append((step, found))
                for slot in step.ins:
                    needed[slot] = True
        return chosen[::-1]

    def forward(self, values: list) -> None:
        """Every gate's value, in place: `values` holds a float or an array
        (the columns) per slot on entry."""
        with np.errstate(all="ignore"):
            for step, found in zip(self.circuit.tape, self.kernels):
                ins = step.ins
                if found is None:
                    values[step.out] = step.op.forward(*[values[slot] for slot in ins])
                else:
                    values[step.out] = found.forward(*[values[slot] for slot in ins])

    def backward(self, values: list, steps: list[tuple[Step, Kernel | None]], target: int,
                 seed: Any) -> list:
        """Gradients of sum-over-rows(seed * target) for every slot (None
        where nothing flows): arrays for per-row nodes, floats otherwise."""
        grads: list = [None] * len(values)
        grads[target] = seed
        with np.errstate(all="ignore"):
            for step, found in reversed(steps):
                self.backward_step(step, found, values, grads)
        return grads

    def backward_step(self, step: Step, found: Kernel | None, values: list, grads: list) -> None:
        """Add one gate's terms into its inputs' gradients (nothing when no
        gradient reached the gate). A term flowing from a per-row gate into a
        node with one value (a parameter) is summed over the rows."""
        upstream = grads[step.out]
        if upstream is None:
            return
        ins = step.ins
        args = [values[slot] for slot in ins]
        if found is None:
            parts = [upstream * d for d in step.op.derivative(tuple(args), values[step.out])]
        else:
            parts = found.backward(upstream, *args, values[step.out])
        per_row, first_gate, n_inputs = self.per_row, self.first_gate, self.circuit.n_inputs
        for slot, part in zip(ins, parts):
            if n_inputs <= slot < first_gate:
                continue  # a constant
            if not per_row[slot] and per_row[step.out]:
                part = float(np.sum(part))
            held = grads[slot]
            grads[slot] = part if held is None else held + part


def row_error(circuit: Circuit, values: list, per_row: list[bool], rows: Any, what: str) -> NumericalError:
    """The first gate whose value (`what` = "value") or gradient is not
    finite, named with the data row where it happens."""
    for step in circuit.tape:
        held = values[step.out]
        if held is None:
            continue
        bad = ~np.isfinite(np.asarray(held, dtype=float))
        if bad.any():
            if per_row[step.out]:
                at = int(np.flatnonzero(bad)[0])
                row = int(rows[at]) if rows is not None else at
                inputs = [(str(circuit._ref(slot)), float(values[slot][at]) if per_row[slot] else
                           float(values[slot])) for slot in step.ins]
                return NumericalError(circuit.names[step.out], step.op.name, inputs,
                                      f"gives a non-finite {what} at data row {row + 1}")
            inputs = [(str(circuit._ref(slot)), float(values[slot])) for slot in step.ins]
            return NumericalError(circuit.names[step.out], step.op.name, inputs, f"gives a non-finite {what}")
    return NumericalError(circuit.output_name, "loss", [], f"the loss is not a finite number ({what})")
