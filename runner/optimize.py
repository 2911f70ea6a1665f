"""Stage 5: optimize a circuit's trainable inputs, one trace row per state.

The update rules are those of Karpathy's "Hacker's guide to Neural Networks",
chapter 1: gradient ascent/descent with an analytic (backprop) or numerical
(forward difference) gradient, or random local search that keeps a random
nearby point only when it is strictly better.

`Optimization` is an iterator of `TraceRow`s (row 0 is the start), so a long
run can be streamed to a file row by row; `optimize()` collects it all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Iterator, Optional

from .engine import Circuit
from .errors import NumericalError
from .models import Optimize


@dataclass(frozen=True)
class TraceRow:
    iteration: int
    output: float
    inputs: dict[str, float]  # the trainable inputs
    grads: Optional[dict[str, float]]  # d(output)/d(input); None for the random method

    def as_dict(self) -> dict:
        return {"iteration": self.iteration, "output": self.output,
                "inputs": self.inputs, "grads": self.grads}


@dataclass
class OptimizationResult:
    settings: Optimize
    trace: list[TraceRow]
    steps: int
    stop: str  # "iterations" or "tolerance"
    final_output: float
    final_inputs: dict[str, float] = field(default_factory=dict)  # every input


class Optimization:
    """Iterate to run; `steps` and `stop` tell how the run ended."""

    def __init__(self, circuit: Circuit, settings: Optimize):
        self.circuit = circuit
        self.settings = settings
        self.steps = 0
        self.stop = "iterations"
        self.last_row: TraceRow | None = None

    def _gradient(self) -> Optional[dict[str, float]]:
        circuit, method = self.circuit, self.settings.method
        if method == "analytic":
            circuit.backward_pass()
            grads = circuit.grads
            return dict(zip(circuit.trainable, [grads[slot] for slot in circuit.trainable_slots]))
        if method == "numerical":
            return circuit.numerical_gradient(self.settings.h, names=circuit.trainable)
        return None

    def _row(self, iteration: int, output: float, grads: Optional[dict[str, float]]) -> TraceRow:
        circuit = self.circuit
        values = circuit.values
        row = TraceRow(iteration, output,
                       dict(zip(circuit.trainable, [values[slot] for slot in circuit.trainable_slots])), grads)
        self.last_row = row
        return row

    def __iter__(self) -> Iterator[TraceRow]:
        circuit, settings = self.circuit, self.settings
        sign = 1.0 if settings.goal == "maximize" else -1.0
        rng = random.Random(settings.seed)
        iteration = 0
        if _worth_compiling(len(circuit.tape), settings.iterations):
            circuit.accelerate()
        try:
            output = circuit.forward()
            grads = self._gradient()
            yield self._row(0, output, grads)
            for iteration in range(1, settings.iterations + 1):
                if settings.method == "random":
                    output = self._random_step(rng, sign, output)
                    yield self._row(iteration, output, None)
                    self.steps = iteration
                    continue
                assert grads is not None
                values, rate = circuit.values, sign * settings.step_size
                for slot, name in zip(circuit.trainable_slots, circuit.trainable):
                    values[slot] += rate * grads[name]
                previous, output = output, circuit.forward()
                grads = self._gradient()
                self.steps = iteration
                yield self._row(iteration, output, grads)
                if settings.tolerance is not None and abs(output - previous) < settings.tolerance:
                    self.stop = "tolerance"
                    return
        except NumericalError as err:
            err.iteration = iteration
            raise

    def _random_step(self, rng: random.Random, sign: float, output: float) -> float:
        circuit, step = self.circuit, self.settings.step_size
        current = {name: circuit.value(name) for name in circuit.trainable}
        candidate = {name: value + step * rng.uniform(-1, 1) for name, value in current.items()}
        circuit.set_inputs(candidate)
        try:
            tried = circuit.forward()
        except NumericalError:
            tried = None  # a candidate outside the domain is simply not better
        if tried is not None and sign * (tried - output) > 0:
            return tried
        circuit.set_inputs(current)
        circuit.forward()
        return output


def _worth_compiling(gates: int, iterations: int) -> bool:
    """Compiling the tape (codegen.py) costs about as much as 100 interpreted
    passes and makes each pass 4-5x faster; for small circuits the cost is
    a fraction of a second, so it is paid from 10 iterations on."""
    return iterations >= 100 or (iterations >= 10 and gates <= 10_000)


def optimize(circuit: Circuit, settings: Optimize) -> OptimizationResult:
    """Run the whole optimization and keep every trace row."""
    run = Optimization(circuit, settings)
    trace = list(run)
    return OptimizationResult(settings, trace, run.steps, run.stop, trace[-1].output, circuit.input_values())
