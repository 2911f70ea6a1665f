"""Stage 4: the engine — a compiled circuit and its forward and backward passes.

A `Circuit` is a flat tape: every node (input, constant, gate) has a slot in
the `values` and `grads` lists, and the gates are stored in topological order
as `(op, out_slot, in_slots)`. Forward is one loop down the tape, backward one
loop up it (micrograd's algorithm without its recursion, so depth is only
bounded by memory). The engine knows nothing of YAML or of the spec models;
`compiler.py` builds circuits from specs.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence

from ..errors import NumericalError
from ..ops import Op

_ARITHMETIC_ERRORS = (ArithmeticError, ValueError)


class Step(NamedTuple):
    """One gate on the tape."""

    op: Op
    out: int
    ins: tuple[int, ...]


class Circuit:
    """A compiled circuit. Slots: inputs first, then constants, then gates."""

    def __init__(self, names: Sequence[str], values: Sequence[float], tape: Sequence[Step],
                 output: int, n_inputs: int, n_constants: int, trainable: Sequence[str],
                 refs: Sequence[Sequence[str | float]] | None = None):
        self.names = list(names)
        first_gate = n_inputs + n_constants  # constants have no names to look up
        self.index = dict(zip(self.names[:n_inputs], range(n_inputs)))
        self.index.update(zip(self.names[first_gate:], range(first_gate, len(self.names))))
        self.values = list(map(float, values))
        self.grads = [0.0] * len(self.values)
        self.tape = list(tape)
        self.output = output
        self.n_inputs = n_inputs
        self.n_constants = n_constants
        self.trainable = list(trainable)
        self.bounds: dict[str, tuple[float | None, float | None]] = {}  # input -> (min, max) for optimization
        # the gates a user wrote as a formula or a module instance, by name (a
        # spec.netlist.Group each): their nodes are that name, or start with it and a dot
        self.groups: dict = {}
        # each gate's inputs as written: names, and numbers for constants (for reports)
        self.refs = list(refs) if refs is not None else [
            [self._ref(slot) for slot in step.ins] for step in self.tape]
        self._live_reversed = self._feeding_output()[::-1]
        self._zeros = [0.0] * len(self.values)
        self._compiled: dict[str, Callable] | None = None  # compiled passes, once accelerated

    def accelerate(self) -> bool:
        """Run forward and backward as straight-line code (codegen.py) from
        now on, each pass compiled when first used.

        Worth it when the same circuit runs many times (optimization,
        numerical gradients); results are identical to the interpreter's.
        Returns whether the fast path is on (circuits beyond
        `codegen.MAX_GATES` keep the interpreter).
        """
        from . import codegen

        if self._compiled is None and len(self.tape) <= codegen.MAX_GATES:
            self._compiled = {}
        return self._compiled is not None

    def _fast(self, name: str) -> Callable | None:
        """The compiled pass `name` (see codegen.PASSES), or None without `accelerate`."""
        compiled = self._compiled
        if compiled is None:
            return None
        function = compiled.get(name)
        if function is None:
            from . import codegen

            function = compiled[name] = codegen.compile_pass(self, name)
        return function

    # ---- structure ----------------------------------------------------------

    @property
    def input_names(self) -> list[str]:
        return self.names[: self.n_inputs]

    @property
    def gate_names(self) -> list[str]:
        return [self.names[step.out] for step in self.tape]

    @property
    def output_name(self) -> str:
        return self.names[self.output]

    def group_of(self, name: str) -> str | None:
        """The formula or instance a node was made for, or None."""
        head = name.split(".", 1)[0]
        return head if head in self.groups else None

    def is_constant(self, slot: int) -> bool:
        return self.n_inputs <= slot < self.n_inputs + self.n_constants

    def _ref(self, slot: int) -> str | float:
        return self.values[slot] if self.is_constant(slot) else self.names[slot]

    def _feeding_output(self) -> list[Step]:
        """The steps the output depends on, in tape order."""
        needed = [False] * len(self.values)
        needed[self.output] = True
        live = []
        for step in reversed(self.tape):
            if needed[step.out]:
                live.append(step)
                for slot in step.ins:
                    needed[slot] = True
        self._needed = needed
        return live[::-1]

    def unused_nodes(self) -> list[str]:
        """Inputs and gates that do not feed the output (their gradient is 0)."""
        needed, first_gate = self._needed, self.n_inputs + self.n_constants
        if all(needed[:self.n_inputs]) and all(needed[first_gate:]):  # the usual case, at C speed
            return []
        return [name for name, slot in self.index.items() if not needed[slot]]

    # ---- passes -------------------------------------------------------------

    def set_inputs(self, inputs: Mapping[str, float]) -> None:
        for name, value in inputs.items():
            slot = self.index.get(name)
            if slot is None or slot >= self.n_inputs:
                raise KeyError(f"'{name}' is not an input of this circuit")
            self.values[slot] = float(value)

    def forward(self, inputs: Mapping[str, float] | None = None) -> float:
        """Compute every gate's value; return the output's.

        Raises `NumericalError` naming the first gate whose value is not a
        finite number (or whose op refused its inputs).
        """
        if inputs:
            self.set_inputs(inputs)
        values = self.values
        fast = self._fast("forward")
        if fast is not None:
            try:
                output = fast(values)
                if _finite_sum(values):
                    return output
            except _ARITHMETIC_ERRORS:
                pass  # the interpreter below finds the gate and raises
        get = values.__getitem__
        op = out = ins = None
        try:
            for op, out, ins in self.tape:
                # one or two inputs are the common cases, faster spelled out
                arity = len(ins)
                if arity == 1:
                    values[out] = op.forward(values[ins[0]])
                elif arity == 2:
                    values[out] = op.forward(values[ins[0]], values[ins[1]])
                else:
                    values[out] = op.forward(*map(get, ins))
        except _ARITHMETIC_ERRORS as exc:
            raise self._error(Step(op, out, ins), _reason(op, exc)) from None
        if not all(map(math.isfinite, values)):
            for step in self.tape:
                if not math.isfinite(values[step.out]):
                    raise self._error(step, f"gives {values[step.out]!r} (its value overflows)")
        return values[self.output]

    def forward_backward(self) -> float:
        """`forward` then `backward_pass` (gradients left in `self.grads`); one
        fused pass when the circuit is compiled. Returns the output's value."""
        fast = self._fast("forward_backward")
        if fast is not None:
            try:
                output = fast(self.values, self.grads)
                if _finite_sum(self.values) and _finite_sum(self.grads):
                    return output
            except _ARITHMETIC_ERRORS:
                pass  # the interpreter below finds the gate and raises
        output = self.forward()
        self.backward_pass()
        return output

    def backward(self) -> dict[str, float]:
        """Backpropagate from the output (seeded with 1.0) to every node.

        Gradients are reset first, so calling it again gives the same answer;
        fan-out accumulates with `+=`. Assumes `forward` has run. Returns the
        gradient of every input and gate by name.
        """
        self.backward_pass()
        return self.grad_map()

    def backward_pass(self) -> None:
        """`backward` without building the name -> gradient map: the
        gradients are left in `self.grads`, by slot (for hot loops)."""
        grads = self.grads
        fast = self._fast("backward")
        if fast is not None:
            try:
                fast(self.values, grads)
                if _finite_sum(grads):
                    return
            except _ARITHMETIC_ERRORS:
                pass  # the interpreter below finds the gate and raises
        grads[:] = self._zeros
        grads[self.output] = 1.0
        values = self.values
        get = values.__getitem__
        op = out = ins = None
        try:
            for op, out, ins in self._live_reversed:
                # one or two inputs are the common cases, faster spelled out
                arity = len(ins)
                if arity == 1:
                    slot = ins[0]
                    grads[slot] += grads[out] * op.derivative((values[slot],), values[out])[0]
                elif arity == 2:
                    first, second = ins  # may be the same slot: then both terms add up there
                    d_first, d_second = op.derivative((values[first], values[second]), values[out])
                    upstream = grads[out]
                    grads[first] += upstream * d_first
                    grads[second] += upstream * d_second
                else:
                    upstream = grads[out]
                    for slot, derivative in zip(ins, op.derivative(tuple(map(get, ins)), values[out])):
                        grads[slot] += upstream * derivative
        except _ARITHMETIC_ERRORS:
            raise self._error(Step(op, out, ins), "has no finite gradient at these inputs") from None
        first_constant, first_gate = self.n_inputs, self.n_inputs + self.n_constants
        if not (all(map(math.isfinite, grads[:first_constant])) and
                all(map(math.isfinite, grads[first_gate:]))):
            self._raise_gradient_culprit()

    def _raise_gradient_culprit(self) -> None:
        """Slow path, taken only after a non-finite gradient: redo backward
        with a check at every gate to name the one where it went wrong."""
        values = self.values
        grads = list(self._zeros)
        grads[self.output] = 1.0
        for step in self._live_reversed:
            local = step.op.derivative(tuple([values[slot] for slot in step.ins]), values[step.out])
            for slot, derivative in zip(step.ins, local):
                if self.is_constant(slot):
                    continue
                if not math.isfinite(derivative):
                    raise self._error(step, "has no finite gradient at these inputs "
                                            f"(d/d{self.names[slot]} is {derivative!r})")
                grads[slot] += grads[step.out] * derivative
                if not math.isfinite(grads[slot]):
                    raise self._error(step, f"makes the gradient of '{self.names[slot]}' overflow")

    def numerical_gradient(self, h: float = 1e-4, *, central: bool = False,
                           names: Iterable[str] | None = None) -> dict[str, float]:
        """d(output)/d(input) by finite differences, one input at a time
        (see `Objective.numerical_grad`); every input unless `names` says."""
        from .objective import Objective

        objective = Objective(self, self.input_names if names is None else list(names))
        return dict(zip(objective.names, objective.numerical_grad(h, central=central)))

    # ---- reading results ----------------------------------------------------

    def value(self, name: str) -> float:
        return self.values[self.index[name]]

    def grad(self, name: str) -> float:
        return self.grads[self.index[name]]

    def value_map(self) -> dict[str, float]:
        return {name: self.values[slot] for name, slot in self.index.items()}

    def grad_map(self) -> dict[str, float]:
        return {name: self.grads[slot] for name, slot in self.index.items()}

    def input_values(self) -> dict[str, float]:
        return {name: self.values[slot] for slot, name in enumerate(self.input_names)}

    # ---- errors -------------------------------------------------------------

    def _error(self, step: Step, reason: str) -> NumericalError:
        inputs = [(str(self._ref(slot)), self.values[slot]) for slot in step.ins]
        return NumericalError(self.names[step.out], step.op.name, inputs, reason)


def _finite_sum(numbers: list[float]) -> bool:
    """True when every number is finite (cheap test first: an inf or NaN
    anywhere makes the sum non-finite; a sum that merely overflows is
    checked one by one)."""
    total = sum(numbers)
    return total - total == 0.0 or all(map(math.isfinite, numbers))


def _reason(op: Op, exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "divides by zero"
    if isinstance(exc, OverflowError):
        return "overflows (the result is beyond about 1.8e308)"
    domain = f": {op.name} needs {op.domain}" if op.domain else ""
    return f"is outside its op's domain{domain}"
