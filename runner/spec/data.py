"""A spec's rows of data: written inline under `data.rows`, or read from
the CSV file `data.file` (relative to the spec). Each problem is reported
where the cell is written: the YAML row, or FILE:LINE:COL in the CSV."""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem, SpecError
from ..limits import Limits
from ..loading.document import Document
from ..loading.source import STDIN_NAME
from .messages import format_path
from .models import Spec
from .netlist import DataSet
from .wiring import label_problems


def load_rows(spec: Spec, document: Document, limits: Limits) -> DataSet:
    """The checked rows of a spec with data; raises `SpecError`."""
    data = spec.data
    assert data is not None
    labels = {entry.label for entry in _classifiers(spec)}
    if data.rows is not None:
        if not data.rows:
            line, column = document.position(("data", "rows"))
            raise SpecError(document.source, [Problem(line, column, "the data has no rows; add at least one",
                                                      "data.rows")])

        def where(row: int, column: int) -> tuple[int, int, str]:
            path = ("data", "rows", row, column)
            return (*document.position(path), format_path(path))

        rows = [list(row) for row in data.rows]
        found = DataSet(tuple(data.columns), rows, document.source)
        problems = label_problems(data.columns, rows, labels, where)
        if problems:
            raise SpecError(document.source, problems)
        return found
    return _from_file(spec, document, limits, labels)


def _from_file(spec: Spec, document: Document, limits: Limits, labels: set[str]) -> DataSet:
    from ..loading.csv_reader import cell_locator, read_csv

    assert spec.data is not None and spec.data.file is not None
    base = Path.cwd() if document.source == STDIN_NAME else Path(document.source).parent
    path = base / spec.data.file
    if not path.is_file():
        line, column = document.position(("data", "file"))
        raise SpecError(document.source, [Problem(line, column, f"no such data file '{path}' (the path is "
                                                  "relative to the spec file)", "data.file")])
    table = read_csv(path, max_bytes=limits.max_bytes, columns=list(spec.data.columns))
    source = str(table.path)  # read_csv refuses a file without rows
    locate = cell_locator(table) if labels else None

    def where(row: int, column: int) -> tuple[int, int, str]:
        assert locate is not None
        return (*locate(table.lines[row], column), "")

    problems = label_problems(table.columns, table.rows, labels, where)
    if problems:
        raise SpecError(source, problems)
    return DataSet(tuple(table.columns), table.rows, source, table.lines)


def _classifiers(spec: Spec) -> list:
    metrics = spec.metrics
    if metrics is None:
        return []
    return [entry for entry in (metrics.accuracy, metrics.errors, metrics.precision, metrics.recall)
            if entry is not None]
