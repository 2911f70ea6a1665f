"""Optimization traces as files, streamed row by row.

Writers take one row at a time, so a run of any length keeps memory flat:
- `.csv`: a header `iteration,output,inputs.NAME...,grads.NAME...` (the names
  `pandas.json_normalize` gives the JSON rows), then one line per row;
- `.jsonl`: one JSON object per row, flushed as it is written, so a killed
  run leaves every finished row on disk;
- `.json`: one document, the `optimization` object of `--format json` plus
  the circuit's name; it is complete only once the run ends.
Floats are written exactly (repr), like the JSON output.

`--format json` needs every row, but only as text: `JsonRows` keeps their
JSON, in a temporary file once it is long.
"""

from __future__ import annotations

import json
import tempfile
from collections import deque
from pathlib import Path
from typing import IO, Any, Iterator, Optional

from ..optimization.optimizer import OptimizationResult
from ..optimization.trace import Keep, TraceRow

TRACE_FORMATS = (".csv", ".jsonl", ".json")


def row_json(row: TraceRow) -> str:
    """`json.dumps(row.as_dict())`, about twice as fast: input names are
    identifiers (nothing to escape) and every value is a finite float, whose
    repr is a JSON number."""
    inputs = ", ".join([f'"{name}": {value!r}' for name, value in row.inputs.items()])
    grads = "null" if row.grads is None else \
        "{" + ", ".join([f'"{name}": {value!r}' for name, value in row.grads.items()]) + "}"
    metrics = "" if row.metrics is None else \
        ', "metrics": {' + ", ".join([f'"{name}": {value!r}' for name, value in row.metrics.items()]) + "}"
    return (f'{{"iteration": {row.iteration}, "output": {row.output!r}, "inputs": {{{inputs}}}, '
            f'"grads": {grads}{metrics}}}')


class TraceWriter:
    """Base: one line per row, each written with a single unbuffered write,
    so the file on disk always ends with a whole row, whenever the process
    is killed. Subclasses say how a row looks."""

    buffered = False

    def __init__(self, path: str, header: dict[str, Any]):
        self.path = path
        self.header = header  # circuit name and settings, for formats that carry them
        self.file: IO[bytes] = open(path, "wb", buffering=-1 if self.buffered else 0)
        self.rows = 0

    def line(self, row: TraceRow) -> str:
        raise NotImplementedError

    def write(self, row: TraceRow) -> None:
        self.file.write(self.line(row).encode())
        self.rows += 1

    def finish(self, result: Optional[OptimizationResult], stop: str = "") -> None:
        """Close the file. `result` is None when the run did not end normally;
        `stop` then says why ("interrupted" or "error")."""
        self.file.close()

    def __enter__(self) -> "TraceWriter":
        return self

    def __exit__(self, kind, error, tb) -> None:
        if not self.file.closed:
            self.finish(None, "interrupted" if kind is KeyboardInterrupt else "error")


class CsvTrace(TraceWriter):
    """Names are identifiers and values numbers, so no cell needs quoting."""

    def line(self, row: TraceRow) -> str:
        cells = [str(row.iteration), repr(row.output), *map(repr, row.inputs.values())]
        if row.grads is not None:
            cells += map(repr, row.grads.values())
        if row.metrics is not None:
            cells += map(repr, row.metrics.values())
        text = ",".join(cells) + "\n"
        if self.rows == 0:
            columns = ["iteration", "output", *(f"inputs.{n}" for n in row.inputs)]
            if row.grads is not None:
                columns += [f"grads.{n}" for n in row.grads]
            if row.metrics is not None:
                columns += [f"metrics.{n}" for n in row.metrics]
            text = ",".join(columns) + "\n" + text
        return text


class JsonlTrace(TraceWriter):
    def line(self, row: TraceRow) -> str:
        return row_json(row) + "\n"


class JsonTrace(TraceWriter):
    """Streams `{..settings.., "trace": [rows...], "steps", "stop", "final"}`;
    buffered, since a partial document is not valid JSON anyway."""

    buffered = True

    def __init__(self, path: str, header: dict[str, Any]):
        super().__init__(path, header)
        opening = json.dumps({**header, "trace": []}, allow_nan=False)
        self.file.write(opening[:-2].encode())  # leave the trace list open: drop ']}'

    def line(self, row: TraceRow) -> str:
        return ("," if self.rows else "") + "\n" + row_json(row)

    def finish(self, result: Optional[OptimizationResult], stop: str = "") -> None:
        if result is None:
            tail: dict[str, Any] = {"steps": max(self.rows - 1, 0), "stop": stop or "error", "final": None}
        else:
            tail = {"steps": result.steps, "stop": result.stop, "final": final_json(result)}
            if result.error is not None:
                tail["error"] = str(result.error)
        self.file.write(("\n]," + json.dumps(tail, allow_nan=False)[1:] + "\n").encode())
        super().finish(result)


def final_json(result: OptimizationResult) -> dict[str, Any]:
    """`optimization.final`: the output and inputs at the end (with data, the metrics too)."""
    final: dict[str, Any] = {"output": result.final_output, "inputs": result.final_inputs}
    if result.final_metrics is not None:
        final["metrics"] = result.final_metrics
    return final


def trace_format(path: str) -> str:
    """The trace format of `path` (".csv", ".jsonl" or ".json") from its
    extension. Raises ValueError, with the fix, for any other name, and for a
    name that is only an extension (".jsonl" is a hidden file without one)."""
    suffix = Path(path).suffix.lower()
    if suffix in TRACE_FORMATS:
        return suffix
    if Path(path).name.lower() in TRACE_FORMATS:
        raise ValueError(f"{path!r} has no name before its extension; write for example "
                         f"'trace{Path(path).name.lower()}' or '{{name}}{Path(path).name.lower()}'")
    raise ValueError(f"end the file name with {', '.join(TRACE_FORMATS)}, not {path!r}")


def open_trace(path: str, header: dict[str, Any]) -> TraceWriter:
    """The writer for `path`'s extension. Raises ValueError for another
    extension (see `trace_format`) and OSError when the file cannot be opened."""
    writer = {".csv": CsvTrace, ".jsonl": JsonlTrace, ".json": JsonTrace}[trace_format(path)]
    return writer(path, header)


class JsonRows:
    """Every row as its JSON text (`row_json`), for a document that must
    hold the whole trace, without a `TraceRow` per row in memory: about
    100 bytes a row of a small circuit instead of about 700, and past
    `memory` characters the texts move to a temporary file, so any length
    of run stays flat. `rows()` are those of the `inner` policy (for the
    uses that want row objects: plots, the note after a divergence).
    """

    BATCH = 1000  # rows joined into one string before it is stored

    def __init__(self, inner: Keep, memory: int = 16 << 20):
        self.inner = inner
        self.memory = memory
        self.count = 0
        self._batch: list[str] = []
        self._chunks: list[str] = []
        self._size = 0
        self._file: Optional[IO[str]] = None

    def add(self, row: TraceRow) -> None:
        self.inner.add(row)
        self._batch.append(row_json(row))
        if len(self._batch) >= self.BATCH:
            self._store()

    def rows(self) -> list[TraceRow]:
        return self.inner.rows()

    def _store(self) -> None:
        if not self._batch:
            return
        text = (", " if self.count else "") + ", ".join(self._batch)
        self.count += len(self._batch)
        self._batch = []
        if self._file is None and self._size + len(text) > self.memory:
            try:
                self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
            except OSError:  # no usable temporary directory: stay in memory
                self.memory = float("inf")  # type: ignore[assignment]
            else:
                self._file.writelines(self._chunks)
                self._chunks = []
        if self._file is not None:
            self._file.write(text)
        else:
            self._chunks.append(text)
            self._size += len(text)

    def texts(self, size: int = 1 << 20) -> Iterator[str]:
        """The rows' JSON joined by ", ", in pieces (read back once)."""
        self._store()
        if self._file is None:
            yield from self._chunks
            return
        self._file.seek(0)
        while True:
            piece = self._file.read(size)
            if not piece:
                break
            yield piece

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
