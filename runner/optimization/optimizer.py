"""Stage 4: optimize an objective's parameters, one trace row per state.

The methods are those of Karpathy's "Hacker's guide to Neural Networks",
chapter 1: gradient ascent/descent with an analytic (backprop) or numerical
(forward difference) gradient, or random local search that keeps a random
nearby point only when it is strictly better. A gradient becomes a step
through an optimizer (steps.py): plain `sgd`, `momentum` or `adam`.

Everything here works on an `Objective` (core/objective.py): parameters in,
value and gradients out. `Optimization` is an iterator of `TraceRow`s (row 0
is the start), so a long run can be streamed to a file row by row;
`optimize()` runs it to the end and keeps the rows a `keep` policy asks for.
"""

from __future__ import annotations

import math
import random
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Optional, Sequence, Union

from ..core.engine import Circuit
from ..core.objective import Objective, check_finite
from ..errors import NumericalError
from ..spec.models import Optimize
from .steps import OPTIMIZERS
from .trace import Keep, KeepAll, TraceRow

Bounds = Mapping[str, tuple[Optional[float], Optional[float]]]


@dataclass
class OptimizationResult:
    settings: Optimize
    trace: list[TraceRow]  # the rows kept (every row unless a keep policy dropped some)
    steps: int
    stop: str  # "iterations", "tolerance", "stalled", "diverged" or "interrupted"
    final_output: float  # after divergence: at the last finite row
    final_inputs: dict[str, float] = field(default_factory=dict)  # every input
    error: Optional[NumericalError] = None  # why the run diverged
    final_metrics: Optional[dict[str, float]] = None  # with data: the metrics over all rows at the end

    @property
    def rows(self) -> int:
        """How many rows the run produced (kept or not)."""
        return self.steps + 1


def _clamp(value: float, bounds: tuple[Optional[float], Optional[float]]) -> float:
    low, high = bounds
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _objective(target: Union[Circuit, Objective], bounds: Bounds | None) -> Objective:
    objective = target if isinstance(target, Objective) else Objective(target)
    if bounds is not None:
        objective.bounds = [bounds.get(name, (None, None)) for name in objective.names]
    return objective


class Optimization:
    """Iterate to run; `steps`, `stop` and `last_row` tell how the run ended.

    `target` is a circuit (its trainable inputs are the parameters) or an
    `Objective`. A value or gradient that turns non-finite raises
    `NumericalError` with its `iteration` set; the rows yielded before it are
    the finite trace.
    """

    def __init__(self, target: Union[Circuit, Objective], settings: Optimize, bounds: Bounds | None = None):
        self.objective = _objective(target, bounds)
        self.bounded = self.objective.bounded  # asked once: a network has thousands of parameters
        self.settings = settings
        self.steps = 0
        self.stop = "iterations"
        self.last_row: TraceRow | None = None

    def _evaluate(self) -> tuple[float, Optional[Sequence[float]]]:
        """The value and the parameters' gradients at the current parameters
        (no gradients for random search)."""
        objective, settings = self.objective, self.settings
        if settings.method == "analytic":
            return objective.value_and_grad()
        output = objective.value()
        if settings.method == "numerical":
            grads = objective.numerical_grad(settings.h)
            check_finite(objective, grads, settings.h)
            return output, grads
        return output, None

    def _row(self, iteration: int, output: float, grads: Optional[Sequence[float]]) -> TraceRow:
        row = TraceRow.of(iteration, output, self.objective.names, self.objective.get(), grads,
                          self.objective.metrics())
        self.last_row = row
        return row

    def _step_size(self, step: int) -> float:
        """The step size of step `step` (1 to iterations): `step_size`, or with
        `step_size_end` a linear decay from one to the other over the run."""
        settings = self.settings
        end, count = settings.step_size_end, settings.iterations
        if end is None or count <= 1:
            return settings.step_size
        return settings.step_size + (end - settings.step_size) * (step - 1) / (count - 1)

    def _move(self, moves: Sequence[float], scale: float) -> bool:
        """params <- clamp(params + scale * moves); False when that changed
        nothing (the step is lost in rounding, or a bound holds every input).
        Runs once per step for every weight of a network, so it works on whole lists."""
        objective = self.objective
        old = objective.get()
        moved = [x + scale * step for x, step in zip(old, moves)]
        if self.bounded:
            moved = [_clamp(x, bounds) for x, bounds in zip(moved, objective.bounds)]
        total = sum(moved)
        if total - total != 0.0:  # an inf or NaN somewhere (or an overflowing sum): find it
            for name, before, after, step in zip(objective.names, old, moved, moves):
                if not math.isfinite(after):
                    raise NumericalError(name, "input", [(name, before), ("step", scale * step)],
                                         f"steps to {after!r}")
        if moved == old:
            return False
        objective.set(moved)
        return True

    def __iter__(self) -> Iterator[TraceRow]:
        objective, settings = self.objective, self.settings
        sign = 1.0 if settings.goal == "maximize" else -1.0
        rng = random.Random(settings.seed)
        optimizer = OPTIMIZERS[settings.optimizer](settings)
        iteration = 0
        if _worth_compiling(len(objective.circuit.tape), settings.iterations):
            objective.accelerate()
        objective.start_batches(settings.batch_size, settings.seed)
        try:
            output, grads = self._evaluate()
            yield self._row(0, output, grads)
            for iteration in range(1, settings.iterations + 1):
                if settings.method == "random":
                    objective.next_batch()
                    output = self._random_step(rng, sign, output)
                    self.steps = iteration
                    yield self._row(iteration, output, None)
                    continue
                assert grads is not None
                moved = self._move(optimizer.direction(grads), sign * self._step_size(iteration))
                previous = output
                objective.next_batch()
                output, grads = self._evaluate()
                self.steps = iteration
                yield self._row(iteration, output, grads)
                if not moved and optimizer.settled():  # every later step would be this one again
                    self.stop = "stalled"
                    return
                if settings.tolerance is not None and abs(output - previous) < settings.tolerance:
                    self.stop = "tolerance"
                    return
        except NumericalError as err:
            err.iteration = iteration
            self.stop = "diverged"
            raise

    def _random_step(self, rng: random.Random, sign: float, output: float) -> float:
        objective, step = self.objective, self.settings.step_size
        current = objective.get()
        objective.set([_clamp(value + step * rng.uniform(-1, 1), bounds)
                       for value, bounds in zip(current, objective.bounds)])
        try:
            tried = objective.value()
        except NumericalError:
            tried = None  # a candidate outside the domain is simply not better
        if tried is not None and sign * (tried - output) > 0:
            return tried
        objective.set(current)
        objective.value()
        return output


def _worth_compiling(gates: int, iterations: int) -> bool:
    """Compiling the tape (codegen.py) costs about as much as 100 interpreted
    passes and makes each pass 4-5x faster; for small circuits the cost is
    a fraction of a second, so it is paid from 10 iterations on."""
    return iterations >= 100 or (iterations >= 10 and gates <= 10_000)


@contextmanager
def _ctrl_c_between_rows(enabled: bool) -> Iterator[Callable[[], bool]]:
    """While the block runs, a first Ctrl-C (SIGINT) only raises a flag, so
    the run can stop at a row boundary with every kept row also observed
    (written to the trace); a second one raises KeyboardInterrupt as usual.
    Yields the flag's reader. Only the main thread can take signals: elsewhere,
    or when not `enabled`, nothing changes."""
    pressed: list[bool] = []
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def on_ctrl_c(signum, frame) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def optimize(target: Union[Circuit, Objective], settings: Optimize, *, bounds: Bounds | None = None,
             keep: Keep | None = None, observe: Callable[[TraceRow], None] | None = None,
             interruptible: bool = False) -> OptimizationResult:
    """Run the whole optimization.

    `target` is a circuit (its trainable inputs are optimized) or an
    `Objective`. `bounds` (input -> (min, max)) defaults to the circuit's,
    from its spec. `keep` chooses which rows stay in memory (default: all);
    `observe` sees every row as it is made (to stream a trace file or move a
    progress bar). A run that diverges after its first row returns what it
    had: `stop` is "diverged", `error` says where, and the final values are
    those of the last finite row (the circuit is put back there too). A run
    that cannot even compute its first row raises the `NumericalError`.
    With `interruptible` (the command line), Ctrl-C ends the run after the
    row in progress, which is kept and observed like any other, with `stop`
    "interrupted"; a second Ctrl-C interrupts at once (KeyboardInterrupt).
    """
    run = Optimization(target, settings, bounds)
    objective = run.objective
    keep = keep if keep is not None else KeepAll()
    error = None
    with _ctrl_c_between_rows(interruptible) as interrupted:
        try:
            for row in run:
                keep.add(row)
                if observe is not None:
                    observe(row)
                if interrupted():
                    run.stop = "interrupted"
                    break
        except NumericalError as err:
            if run.last_row is None:
                raise
            error = err
            objective.set(list(run.last_row.inputs.values()))
            objective.value()
    assert run.last_row is not None
    final_output = objective.final_value(run.last_row.output)
    return OptimizationResult(settings, keep.rows(), run.steps, run.stop, final_output,
                              objective.input_values(), error, objective.metrics())
