"""TEMPORARY stand-in for the dataio branch's CSV reader (same interface);
dropped when that branch is merged."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, SpecError


@dataclass
class DataTable:
    path: Path
    columns: list[str]
    rows: list[list[float]]
    lines: list[int]


def read_csv(path: Path, *, max_bytes: int, columns: list[str] | None = None) -> DataTable:
    source = str(path)
    try:
        if path.stat().st_size > max_bytes:
            raise SpecError(source, [Problem(0, 0, f"the file is larger than the limit of {max_bytes:,} bytes")])
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise SpecError(source, [Problem(0, 0, f"cannot read the file: {err.strerror or err}")]) from None
    reader = list(csv.reader(text.splitlines()))
    if not reader:
        raise SpecError(source, [Problem(1, 1, "the file is empty")])
    header = [cell.strip() for cell in reader[0]]
    if columns is not None and header != list(columns):
        raise SpecError(source, [Problem(1, 1, f"the header {header} is not the columns {list(columns)}")])
    rows, lines = [], []
    for number, cells in enumerate(reader[1:], start=2):
        if not cells:
            continue
        try:
            row = [float(cell) for cell in cells]
        except ValueError:
            raise SpecError(source, [Problem(number, 1, "a cell is not a number")]) from None
        if len(row) != len(header) or not all(map(math.isfinite, row)):
            raise SpecError(source, [Problem(number, 1, "bad row")])
        rows.append(row)
        lines.append(number)
    return DataTable(path, header, rows, lines)
