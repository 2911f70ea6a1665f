"""The objective: a circuit's output as a function of some of its inputs.

An optimizer, a gradient check or a surface plot needs only this: the
parameters (by default the trainable inputs) as a list of numbers, the value
at the current parameters, and the value with its gradient. None of them
touches the circuit itself, so an objective that sums a loss over rows of
data changes this one place, not every consumer.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..errors import NumericalError
from .engine import Circuit


class Objective:
    """f(params) = the circuit's output, params = the inputs `names`
    (default: the trainable ones), in that order."""

    def __init__(self, circuit: Circuit, names: Sequence[str] | None = None):
        self.circuit = circuit
        self.names = list(circuit.trainable if names is None else names)
        self.slots = [circuit.index[name] for name in self.names]
        low = self.slots[0] if self.slots else 0
        # parameters that sit side by side (the usual case) are read and written as one slice
        self._span = slice(low, low + len(self.slots)) if self.slots == list(
            range(low, low + len(self.slots))) else None
        self.bounds = [circuit.bounds.get(name, (None, None)) for name in self.names]

    @property
    def bounded(self) -> bool:
        """Whether any parameter has a min or a max."""
        return any(low is not None or high is not None for low, high in self.bounds)

    def get(self) -> list[float]:
        """The parameters' current values."""
        values = self.circuit.values
        return values[self._span] if self._span is not None else [values[slot] for slot in self.slots]

    def set(self, params: Sequence[float]) -> None:
        values = self.circuit.values
        if self._span is not None:
            values[self._span] = params
        else:
            for slot, value in zip(self.slots, params):
                values[slot] = value

    def value(self) -> float:
        """f at the current parameters (a forward pass)."""
        return self.circuit.forward()

    def value_and_grad(self) -> tuple[float, list[float]]:
        """f and df/d(param) for every parameter (forward, then backprop)."""
        circuit = self.circuit
        output = circuit.forward_backward()
        grads = circuit.grads
        return output, grads[self._span] if self._span is not None else [grads[slot] for slot in self.slots]

    def accelerate(self) -> bool:
        """Use the circuit's faster path for the many evaluations of an optimization."""
        return self.circuit.accelerate()

    # ---- rows of data: a plain circuit has none, so these do nothing ----------

    def start_batches(self, batch_size: int | None, seed: int) -> None:
        """Draw minibatches of `batch_size` rows from now on (data only)."""

    def next_batch(self) -> None:
        """Move on to the next minibatch (data only)."""

    def use_all_rows(self) -> None:
        """Evaluate on every row again (data only)."""

    def final_value(self, last: float) -> float:
        """The objective at the end of an optimization whose last value was
        `last` (with data: evaluated again over every row)."""
        return last

    def metrics(self) -> dict[str, float] | None:
        """The metrics at the last evaluation (data only; None otherwise)."""
        return None

    def input_values(self) -> dict[str, float]:
        """Every input's current value (for a circuit with data: not the columns)."""
        return self.circuit.input_values()

    def numerical_grad(self, h: float = 1e-4, *, central: bool = False) -> list[float]:
        """df/d(param) by finite differences, one parameter at a time:
        forward `(f(x+h) - f(x)) / h` as in the seed, or central
        `(f(x+h) - f(x-h)) / 2h`, far more accurate (error O(h^2)).
        The parameters are restored afterwards."""
        values = self.circuit.values
        base = self.value()
        result = []
        for name, slot in zip(self.names, self.slots):
            x = values[slot]
            if x + h == x:  # every difference would be 0: a gradient that lies
                raise NumericalError(name, "input", [(name, x)], f"cannot be nudged: h={h!r} is lost "
                                     f"in {name}'s rounding ({name} + h == {name}); use a larger h")
            values[slot] = x + h
            plus = self.value()
            if central:
                values[slot] = x - h
                minus = self.value()
                result.append((plus - minus) / (2 * h))
            else:
                result.append((plus - base) / h)
            values[slot] = x
        self.value()
        return result


def check_finite(objective: Objective, grads: Sequence[float], h: float) -> None:
    """Numerical gradients can overflow where backprop's do not; name the parameter."""
    for name, grad, value in zip(objective.names, grads, objective.get()):
        if not math.isfinite(grad):
            raise NumericalError(name, "input", [(name, value)],
                                 f"has a numerical gradient of {grad!r} (h={h:g})")
