"""Stage 5: optimize a circuit's trainable inputs, one trace row per state.

The update rules start from Karpathy's "Hacker's guide to Neural Networks",
chapter 1: gradient ascent/descent with an analytic (backprop) or numerical
(forward difference) gradient, or random local search that keeps a random
nearby point only when it is strictly better. A gradient becomes a step
through an optimizer: plain `sgd` (the guide's rule), `momentum` or `adam`,
written as torch.optim.SGD and torch.optim.Adam define them.

`Optimization` is an iterator of `TraceRow`s (row 0 is the start), so a long
run can be streamed to a file row by row; `optimize()` runs it to the end and
keeps the rows a `keep` policy asks for (all of them by default).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Protocol, Sequence

from pydantic import ValidationError

from ..core.engine import Circuit
from ..errors import NumericalError
from ..spec.models import Optimize, Spec

Bounds = Mapping[str, tuple[Optional[float], Optional[float]]]


class TraceRow:
    """One state of an optimization: iteration, output, the trainable inputs
    and their gradients (None for random search).

    `inputs` and `grads` are dicts; a row made by the optimizer builds them
    only when first read, because most rows of a long run are counted and
    dropped unread (a table shows a sample of them).
    """

    __slots__ = ("iteration", "output", "_names", "_inputs", "_grads")

    def __init__(self, iteration: int, output: float, inputs: Mapping[str, float],
                 grads: Optional[Mapping[str, float]]):
        self.iteration = iteration
        self.output = output
        self._names = None
        self._inputs = inputs
        self._grads = grads

    @classmethod
    def of(cls, iteration: int, output: float, names: Sequence[str], inputs: Sequence[float],
           grads: Optional[Sequence[float]]) -> "TraceRow":
        """A row from values in the order of `names`; the dicts come later."""
        row = cls(iteration, output, inputs, grads)
        row._names = names
        return row

    @property
    def inputs(self) -> dict[str, float]:
        if self._names is not None:
            self._materialize()
        return self._inputs

    @property
    def grads(self) -> Optional[dict[str, float]]:
        if self._names is not None:
            self._materialize()
        return self._grads

    def _materialize(self) -> None:
        names, self._names = self._names, None
        self._inputs = dict(zip(names, self._inputs))
        if self._grads is not None:
            self._grads = dict(zip(names, self._grads))

    def as_dict(self) -> dict:
        return {"iteration": self.iteration, "output": self.output,
                "inputs": self.inputs, "grads": self.grads}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TraceRow) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return (f"TraceRow(iteration={self.iteration!r}, output={self.output!r}, "
                f"inputs={self.inputs!r}, grads={self.grads!r})")


@dataclass
class OptimizationResult:
    settings: Optimize
    trace: list[TraceRow]  # the rows kept (every row unless a keep policy dropped some)
    steps: int
    stop: str  # "iterations", "tolerance" or "diverged"
    final_output: float  # after divergence: at the last finite row
    final_inputs: dict[str, float] = field(default_factory=dict)  # every input
    error: Optional[NumericalError] = None  # why the run diverged

    @property
    def rows(self) -> int:
        """How many rows the run produced (kept or not)."""
        return self.steps + 1


class Keep(Protocol):
    """Which rows of a run to hold in memory (see runner/trace.py)."""

    def add(self, row: TraceRow) -> None: ...

    def rows(self) -> list[TraceRow]: ...


class KeepAll:
    def __init__(self) -> None:
        self._rows: list[TraceRow] = []
        self.add = self._rows.append

    def rows(self) -> list[TraceRow]:
        return self._rows


# --------------------------------------------------------------------------
# Optimizers: gradient -> direction. The step is x + step_size * direction to
# maximize and x - step_size * direction to minimize; every direction is odd in
# the gradient, so minimizing is maximizing with the gradient negated, which
# is how torch's `maximize=True` works too.

class Sgd:
    """direction = grad."""

    def __init__(self, settings: Optimize):
        pass

    def direction(self, grads: Sequence[float]) -> Sequence[float]:
        return grads


class Momentum:
    """torch.optim.SGD(momentum=mu): v = mu * v + grad (v starts at 0); direction = v."""

    def __init__(self, settings: Optimize):
        self.mu = settings.momentum
        self.velocity: list[float] | None = None

    def direction(self, grads: Sequence[float]) -> Sequence[float]:
        mu = self.mu
        velocity = self.velocity or [0.0] * len(grads)
        self.velocity = [mu * v + grad for v, grad in zip(velocity, grads)]
        return self.velocity


class Adam:
    """torch.optim.Adam: m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2,
    direction = (m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, settings: Optimize):
        self.b1, self.b2, self.eps = settings.beta1, settings.beta2, settings.eps
        self.m: list[float] = []
        self.v: list[float] = []
        self.t = 0

    def direction(self, grads: Sequence[float]) -> Sequence[float]:
        self.t += 1
        b1, b2, eps = self.b1, self.b2, self.eps
        correction1 = 1 - b1 ** self.t
        root_correction2 = math.sqrt(1 - b2 ** self.t)
        m = self.m or [0.0] * len(grads)
        v = self.v or [0.0] * len(grads)
        self.m = m = [b1 * old + (1 - b1) * grad for old, grad in zip(m, grads)]
        self.v = v = [b2 * old + (1 - b2) * grad * grad for old, grad in zip(v, grads)]
        return [(mean / correction1) / (math.sqrt(var) / root_correction2 + eps) for mean, var in zip(m, v)]


OPTIMIZERS = {"sgd": Sgd, "momentum": Momentum, "adam": Adam}


def with_settings(spec: Spec, changes: Mapping[str, Any]) -> Spec:
    """`spec` with its optimize block changed by `changes` (field -> value).

    A spec without an optimize block gets one: the defaults plus `changes`.
    Raises ValueError, with a message for people, when the result is not a
    valid block (for example method random with the spec's optimizer adam).
    """
    if not changes:
        return spec
    given = spec.optimize.model_dump(exclude_unset=True) if spec.optimize is not None else {}
    try:
        settings = Optimize.model_validate({**given, **changes})
    except ValidationError as err:
        raise ValueError("; ".join(f"optimize.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                   for e in err.errors(include_url=False))) from None
    return spec.model_copy(update={"optimize": settings})


def _clamp(value: float, bounds: tuple[Optional[float], Optional[float]] | None) -> float:
    if bounds is None:
        return value
    low, high = bounds
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


# --------------------------------------------------------------------------
# The run

class Optimization:
    """Iterate to run; `steps`, `stop` and `last_row` tell how the run ended.

    A value or gradient that turns non-finite raises `NumericalError` with
    its `iteration` set; the rows yielded before it are the finite trace.
    """

    def __init__(self, circuit: Circuit, settings: Optimize, bounds: Bounds | None = None):
        self.circuit = circuit
        self.settings = settings
        self.bounds = dict(circuit.bounds if bounds is None else bounds)
        self.steps = 0
        self.stop = "iterations"
        self.last_row: TraceRow | None = None

    def _evaluate(self) -> tuple[float, Optional[Sequence[float]]]:
        """The output and the trainable inputs' gradients (in the order of
        `circuit.trainable`) at the current inputs."""
        circuit = self.circuit
        if self.settings.method == "analytic":
            output = circuit.forward_backward()
            return output, circuit.pick_trainable(circuit.grads)
        output = circuit.forward()
        grads = self._gradient()
        return output, None if grads is None else [grads[name] for name in circuit.trainable]

    def _gradient(self) -> Optional[dict[str, float]]:
        circuit, method = self.circuit, self.settings.method
        if method == "analytic":
            circuit.backward_pass()
            grads = circuit.grads
            return dict(zip(circuit.trainable, circuit.pick_trainable(circuit.grads)))
        if method == "numerical":
            grads = circuit.numerical_gradient(self.settings.h, names=circuit.trainable)
            for name, grad in grads.items():
                if not math.isfinite(grad):
                    raise NumericalError(name, "input", [(name, circuit.value(name))],
                                         f"has a numerical gradient of {grad!r} (h={self.settings.h:g})")
            return grads
        return None

    def _row(self, iteration: int, output: float, grads: Optional[Sequence[float]]) -> TraceRow:
        circuit = self.circuit
        row = TraceRow.of(iteration, output, circuit.trainable, circuit.pick_trainable(circuit.values), grads)
        self.last_row = row
        return row

    def _move(self, moves: Sequence[float], scale: float) -> None:
        """x <- clamp(x + scale * move) for every trainable input, `moves` in
        the order of `circuit.trainable`. Runs once per step for every weight
        of a network, so it works on whole lists."""
        circuit, bounds = self.circuit, self.bounds
        values, slots, names = circuit.values, circuit.trainable_slots, circuit.trainable
        moved = [x + scale * step for x, step in zip(circuit.pick_trainable(values), moves)]
        if bounds:
            moved = [_clamp(x, bounds.get(name)) for x, name in zip(moved, names)]
        total = sum(moved)
        if total - total != 0.0:  # an inf or NaN somewhere (or an overflowing sum): find it
            for old, new, name, step in zip(circuit.pick_trainable(values), moved, names, moves):
                if not math.isfinite(new):
                    raise NumericalError(name, "input", [(name, old), ("step", scale * step)],
                                         f"steps to {new!r}")
        if circuit.trainable_span is not None:
            start, stop = circuit.trainable_span
            values[start:stop] = moved
        else:
            for slot, x in zip(slots, moved):
                values[slot] = x

    def __iter__(self) -> Iterator[TraceRow]:
        circuit, settings = self.circuit, self.settings
        sign = 1.0 if settings.goal == "maximize" else -1.0
        rng = random.Random(settings.seed)
        optimizer = OPTIMIZERS[settings.optimizer](settings)
        iteration = 0
        if _worth_compiling(len(circuit.tape), settings.iterations):
            circuit.accelerate()
        try:
            output, grads = self._evaluate()
            yield self._row(0, output, grads)
            for iteration in range(1, settings.iterations + 1):
                if settings.method == "random":
                    output = self._random_step(rng, sign, output)
                    self.steps = iteration
                    yield self._row(iteration, output, None)
                    continue
                assert grads is not None
                self._move(optimizer.direction(grads), sign * settings.step_size)
                previous = output
                output, grads = self._evaluate()
                self.steps = iteration
                yield self._row(iteration, output, grads)
                if settings.tolerance is not None and abs(output - previous) < settings.tolerance:
                    self.stop = "tolerance"
                    return
        except NumericalError as err:
            err.iteration = iteration
            self.stop = "diverged"
            raise

    def _random_step(self, rng: random.Random, sign: float, output: float) -> float:
        circuit, step = self.circuit, self.settings.step_size
        current = {name: circuit.value(name) for name in circuit.trainable}
        candidate = {name: _clamp(value + step * rng.uniform(-1, 1), self.bounds.get(name))
                     for name, value in current.items()}
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


def optimize(circuit: Circuit, settings: Optimize, *, bounds: Bounds | None = None,
             keep: Keep | None = None,
             observe: Callable[[TraceRow], None] | None = None) -> OptimizationResult:
    """Run the whole optimization.

    `bounds` (input -> (min, max)) defaults to the circuit's, from its spec.
    `keep` chooses which rows stay in memory (default: all); `observe` sees
    every row as it is made (to stream a trace file or move a progress bar).
    A run that diverges after its first row returns what it had: `stop` is
    "diverged", `error` says where, and the final values are those of the
    last finite row (the circuit is put back there too). A run that cannot
    even compute its first row raises the `NumericalError`.
    """
    run = Optimization(circuit, settings, bounds)
    keep = keep if keep is not None else KeepAll()
    error = None
    try:
        for row in run:
            keep.add(row)
            if observe is not None:
                observe(row)
    except NumericalError as err:
        if run.last_row is None:
            raise
        error = err
        circuit.set_inputs(run.last_row.inputs)
        circuit.forward()
    assert run.last_row is not None
    return OptimizationResult(settings, keep.rows(), run.steps, run.stop, run.last_row.output,
                              circuit.input_values(), error)
