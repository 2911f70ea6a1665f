"""The objective of a spec with data: a loss over rows, and metrics.

loss(params) = reduce(node `of` over the rows) + weight * sum(p^2 over the
L2 parameters), reduce being the mean or the sum. Gradients are d(loss)/dp,
by one batched backward pass (batched.py) from the node `of`, seeded with 1
(sum) or 1/rows (mean) per row, plus the L2 term's 2 * weight * p.

The parameters live in the circuit's value list as for any objective, so
`get`, `set` and finite differences work unchanged; the columns get one array
per row each evaluation. Minibatches are drawn without replacement, epoch by
epoch, by `random.Random(seed)`.
"""

from __future__ import annotations

import random
from operator import itemgetter, mul
from typing import Any, Sequence

import numpy as np

from ..spec.models import Loss, Metrics
from ..spec.netlist import DataSet
from .batched import BatchedTape, row_error
from .engine import Circuit
from .objective import Objective

METRIC_NAMES = ("accuracy", "errors", "precision", "recall")


class DataObjective(Objective):
    """f(params) = the loss over the current rows (all of them, or a minibatch)."""

    def __init__(self, circuit: Circuit, data: DataSet, loss: Loss | None, metrics: Metrics | None,
                 names: Sequence[str] | None = None):
        super().__init__(circuit, names)
        self.columns = list(data.columns)
        self.table = np.array(data.rows, dtype=float).reshape(len(data.rows), len(self.columns))
        self.all_columns = [np.ascontiguousarray(self.table[:, j]) for j in range(len(self.columns))]
        self.column_slots = [circuit.index[name] for name in self.columns]
        loss = loss if loss is not None else Loss()
        self.of = circuit.index[loss.of] if loss.of is not None else circuit.output
        self.reduce = loss.reduce
        self.l2_weight = loss.l2.weight if loss.l2 is not None else 0.0
        l2_names = (loss.l2.params if loss.l2 is not None and loss.l2.params is not None
                    else circuit.trainable)
        self.l2_slots = [circuit.index[name] for name in l2_names] if self.l2_weight else []
        self._l2_values = lambda values: [values[slot] for slot in self.l2_slots]
        if len(self.l2_slots) > 1:
            self._l2_values = itemgetter(*self.l2_slots)
        self.classifiers = {name: (circuit.index[getattr(metrics, name).score],
                                   circuit.index[getattr(metrics, name).label])
                            for name in METRIC_NAMES if metrics is not None and getattr(metrics, name)}
        self.tape = BatchedTape(circuit, self.column_slots)
        self.live = self.tape.live(self.of)
        self.fused = None  # a fused.FusedTape, once accelerated
        self.rows: np.ndarray | None = None  # None: every row
        self._batches: list[np.ndarray] = []
        self._batch_size: int | None = None
        self._rng: random.Random | None = None
        self.values: list = []  # every slot after the last forward: float, or array per row
        self.grads: list = []  # every slot after the last backward (None: no gradient flows)
        self.parts = (0.0, 0.0)  # (data loss, regularization) of the last evaluation

    @property
    def row_count(self) -> int:
        return len(self.table) if self.rows is None else len(self.rows)

    # ---- rows ---------------------------------------------------------------

    def start_batches(self, batch_size: int | None, seed: int) -> None:
        if batch_size is None or batch_size >= len(self.table):
            self.rows = None
            return
        self._batch_size, self._rng, self._batches = batch_size, random.Random(seed), []
        self.next_batch()

    def next_batch(self) -> None:
        if self._rng is None:
            return
        if not self._batches:  # a new epoch: every row once, in a fresh order
            order = list(range(len(self.table)))
            self._rng.shuffle(order)
            size = self._batch_size
            assert size is not None
            self._batches = [np.array(order[i:i + size]) for i in range(0, len(order), size)][::-1]
        self.rows = self._batches.pop()

    def use_all_rows(self) -> None:
        self.rows, self._rng, self._batches = None, None, []

    def final_value(self, last: float) -> float:
        self.use_all_rows()
        return self.value()

    def accelerate(self) -> bool:
        """Run dense layers as matrix products from now on (fused.py), for
        training: nodes inside a fused neuron are then not given values."""
        from .fused import FusedTape

        if self.fused is None:
            observed = tuple(slot for pair in self.classifiers.values() for slot in pair)
            self.fused = FusedTape(self.tape, self.of, observed)
        return bool(self.fused.layers)

    # ---- evaluation ---------------------------------------------------------

    def _forward(self) -> float:
        values = list(self.circuit.values)
        rows = self.rows
        for slot, column in zip(self.column_slots, self.all_columns):
            values[slot] = column if rows is None else column[rows]
        (self.fused or self.tape).forward(values)
        self.values = values
        of = values[self.of]
        count = self.row_count
        if self.tape.per_row[self.of]:
            data = float(np.sum(of)) if self.reduce == "sum" else float(np.mean(of))
        else:
            data = float(of) * count if self.reduce == "sum" else float(of)
        params = self.circuit.values
        penalized = self._l2_values(params)
        regularization = self.l2_weight * sum(map(mul, penalized, penalized))
        self.parts = (data, regularization)
        total = data + regularization
        if total - total != 0.0:
            if self.fused is not None:  # find the gate on the plain path, which has every value
                self.tape.forward(values)
            raise row_error(self.circuit, values, self.tape.per_row, rows, "value")
        return total

    def value(self) -> float:
        return self._forward()

    def value_and_grad(self) -> tuple[float, list[float]]:
        total = self._forward()
        seed = 1.0 if self.reduce == "sum" else 1.0 / self.row_count
        if self.tape.per_row[self.of]:
            seed = np.full(self.row_count, seed)
        else:
            seed = seed * self.row_count
        if self.fused is not None:
            grads = self.fused.backward(self.values, seed)
        else:
            grads = self.tape.backward(self.values, self.live, self.of, seed)
        twice = 2.0 * self.l2_weight
        for slot, value in zip(self.l2_slots, self._l2_values(self.circuit.values)):
            held = grads[slot]
            grads[slot] = twice * value if held is None else held + twice * value
        self.grads = grads
        result = [0.0 if grad is None else grad for grad in map(grads.__getitem__, self.slots)]
        check = sum(result)
        if check - check != 0.0:
            raise row_error(self.circuit, grads, self.tape.per_row, self.rows, "gradient")
        return total, result

    def metrics(self) -> dict[str, float] | None:
        """The classifier metrics over the rows of the last evaluation."""
        if not self.classifiers:
            return None
        result = {}
        for name, (score_slot, label_slot) in self.classifiers.items():
            score = np.broadcast_to(self.values[score_slot], (self.row_count,))
            label = np.broadcast_to(self.values[label_slot], (self.row_count,))
            result[name] = classify(name, score, label)
        return result

    def input_values(self) -> dict[str, float]:
        columns = set(self.columns)
        return {name: value for name, value in self.circuit.input_values().items() if name not in columns}

    def row_branches(self) -> dict[int, tuple]:
        """For each piecewise gate the loss depends on (an op with a `branch`):
        the piece every row is on, and the inputs of the first row sitting on
        a kink (else of the first row), for gradient checks. A Python loop
        over rows: this is a diagnostic, not a training path."""
        live = {step.out for step, _ in self.live}
        count, found = self.row_count, {}
        for position, step in enumerate(self.circuit.tape):
            op = step.op
            if op.branch is None or step.out not in live:
                continue
            columns = [np.broadcast_to(self.values[slot], (count,)).tolist() for slot in step.ins]
            rows = list(zip(*columns))
            pieces = tuple(op.branch(args) for args in rows)
            kinked = next((args for args in rows if op.kink is not None and op.kink(args)), rows[0])
            found[position] = (pieces, kinked)
        return found

    # ---- every node, for reports -------------------------------------------

    def node_lists(self) -> tuple[list, list]:
        """Every slot's value and gradient from the last evaluation, with
        per-row arrays as they are and missing gradients as 0."""
        values = self.values
        grads = [0.0 if grad is None else grad for grad in self.grads] if self.grads else [0.0] * len(values)
        return values, grads


def classify(name: str, score: Any, label: Any) -> float:
    """One metric of a classifier by sign: score > 0 predicts +1, else -1."""
    predicted = score > 0
    actual = label > 0
    if name == "accuracy":
        return float(np.mean(predicted == actual))
    if name == "errors":
        return float(np.count_nonzero(predicted != actual))
    true_positive = float(np.count_nonzero(predicted & actual))
    if name == "precision":
        chosen = float(np.count_nonzero(predicted))
        return true_positive / chosen if chosen else 0.0
    relevant = float(np.count_nonzero(actual))
    return true_positive / relevant if relevant else 0.0
