"""What an optimization records: one `TraceRow` per state, and which rows to keep.

A long run makes millions of rows; keep policies choose which stay in memory:
all of them (`KeepAll`, the API's default), the first, evenly spaced and last
rows (`KeepSummary`, the table's), or every Nth row (`KeepEvery`).
"""

from __future__ import annotations

from collections import deque
from typing import Mapping, Optional, Protocol, Sequence


class TraceRow:
    """One state of an optimization: iteration, output, the trainable inputs
    and their gradients (None for random search).

    `inputs` and `grads` are dicts; a row made by the optimizer builds them
    only when first read, because most rows of a long run are counted and
    dropped unread (a table shows a sample of them).
    """

    __slots__ = ("iteration", "output", "_names", "_inputs", "_grads", "metrics")

    def __init__(self, iteration: int, output: float, inputs: Mapping[str, float],
                 grads: Optional[Mapping[str, float]], metrics: Optional[dict[str, float]] = None):
        self.iteration = iteration
        self.output = output
        self._names = None
        self._inputs = inputs
        self._grads = grads
        # with data: the metrics over the rows the step's loss was computed on
        self.metrics = metrics

    @classmethod
    def of(cls, iteration: int, output: float, names: Sequence[str], inputs: Sequence[float],
           grads: Optional[Sequence[float]], metrics: Optional[dict[str, float]] = None) -> "TraceRow":
        """A row from values in the order of `names`; the dicts come later."""
        row = cls(iteration, output, inputs, grads, metrics)
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
        row = {"iteration": self.iteration, "output": self.output,
               "inputs": self.inputs, "grads": self.grads}
        if self.metrics is not None:
            row["metrics"] = self.metrics
        return row

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TraceRow) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return (f"TraceRow(iteration={self.iteration!r}, output={self.output!r}, "
                f"inputs={self.inputs!r}, grads={self.grads!r})")


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


class KeepSummary:
    """The first `head` rows, about `middle` evenly spaced rows, the last `tail`.

    The run's length is not known in advance (a tolerance may stop it), so the
    spacing grows as it goes: rows at multiples of a stride are kept, and when
    there are too many the stride moves up 1, 2, 10, 20, 100, 200, ... (each
    divides the next, so the rows already kept stay evenly spaced). A run of
    at most `show_all` rows keeps every row.
    """

    def __init__(self, head: int = 5, middle: int = 20, tail: int = 5, show_all: int = 25):
        self.head, self.middle_cap, self.show_all = head, middle, max(show_all, head)
        self.first: list[TraceRow] = []
        self.middle: list[TraceRow] = []
        self.last: deque[TraceRow] = deque(maxlen=tail)
        self.stride = 1
        self._next_factor = 2

    def add(self, row: TraceRow) -> None:
        if len(self.first) < self.show_all:
            self.first.append(row)
        self.last.append(row)
        if row.iteration % self.stride:
            return
        self.middle.append(row)
        if len(self.middle) > self.middle_cap:
            self.stride *= self._next_factor
            self._next_factor = 7 - self._next_factor  # alternate x2, x5
            self.middle = [r for r in self.middle if r.iteration % self.stride == 0]

    def rows(self) -> list[TraceRow]:
        last = self.last[-1].iteration if self.last else -1
        if last < self.show_all:
            return list(self.first)
        chosen = {r.iteration: r for r in [*self.first[:self.head], *self.middle, *self.last]}
        return [chosen[i] for i in sorted(chosen)]


class KeepEvery:
    """Rows 0, N, 2N, ... and the last row."""

    def __init__(self, every: int):
        self.every = every
        self.kept: list[TraceRow] = []
        self.last: TraceRow | None = None

    def add(self, row: TraceRow) -> None:
        if row.iteration % self.every == 0:
            self.kept.append(row)
        self.last = row

    def rows(self) -> list[TraceRow]:
        if self.last is not None and (not self.kept or self.kept[-1] is not self.last):
            return [*self.kept, self.last]
        return list(self.kept)


