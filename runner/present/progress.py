"""A progress bar on stderr for optimization runs that take a while.

It appears only once a run has lasted `delay` seconds (about one), only when
stderr is a terminal, only for the table format (JSON and CSV are for
programs), and never with --quiet. click's bar draws it; we only decide
when, and feed it at most ten times a second.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any, Callable, Optional

import click

from ..optimization.trace import TraceRow

DELAY = 1.0  # seconds a run lasts before its bar appears


def progress_wanted(*, quiet: bool, fmt: str, stream: Optional[IO[Any]] = None) -> bool:
    """Whether a long run should show a bar on `stream` (default stderr)."""
    stream = sys.stderr if stream is None else stream
    if quiet or fmt != "table":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """Observe trace rows; after `delay` seconds draw a bar of `total` steps.

    Use as a context manager around the run, and pass it as the run's
    `observe` callback; leaving the block finishes the bar's line.
    """

    def __init__(self, total: int, label: str, *, delay: float | None = None, interval: float = 0.1,
                 stream: Optional[IO[Any]] = None, clock: Callable[[], float] = time.monotonic):
        self.total, self.label = total, label
        self.delay = DELAY if delay is None else delay
        self.interval = interval
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.start = clock()
        self.next_draw = self.start + self.delay
        self.bar: Any = None
        self.drawn = 0  # steps the bar shows
        self.done = 0  # steps the run has made

    def __call__(self, row: TraceRow) -> None:
        self.done = row.iteration
        now = self.clock()
        if now < self.next_draw:
            return
        self.next_draw = now + self.interval
        if self.bar is None:
            self.bar = click.progressbar(length=self.total, label=self.label, file=self.stream,
                                         show_pos=True, show_percent=True, show_eta=True)
            self.bar.__enter__()
        self._draw()

    def _draw(self) -> None:
        if self.done > self.drawn:
            self.bar.update(self.done - self.drawn)
            self.drawn = self.done

    @property
    def shown(self) -> bool:
        return self.bar is not None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self._draw()
            self.bar.__exit__(None, None, None)
