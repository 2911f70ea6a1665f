"""A data file: CSV with a header row of column names, then rows of numbers.

`read_csv` returns the numbers with the file line of every row, or raises
`SpecError` naming the CSV itself, each problem at its FILE:LINE:COL (a
bad cell, a ragged row, a header that does not match the spec's columns).
Lines are counted as the csv module splits them (LF, CRLF or CR).

Whether a column name is a valid node name is a rule of the spec format,
checked by the spec stage; this reader only returns the names.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import Problem, SpecError
from ..limits import Limits
from ..words import counted
from .source import decode, fail, read_bytes

_UNPLAIN = re.compile(r"[^\x00-\x7f]|_")
MAX_PROBLEMS = 20  # shown per file; a wholly wrong file would otherwise print a line per row


@dataclass(frozen=True)
class DataTable:
    """The numbers of a CSV file, one list per row, in the header's column order."""

    path: Path
    columns: list[str]  # the header, names stripped of surrounding spaces
    rows: list[list[float]]
    lines: list[int]  # the 1-based file line where each row starts


def read_csv(path: Path, *, max_bytes: int, columns: list[str] | None = None) -> DataTable:
    """Read and check a data file. With `columns`, the header must name
    exactly those columns (in any order). Raises `SpecError`."""
    text = _read_text(Path(path), max_bytes)
    return _Parser(Path(path), text, columns).table()


def cell_locator(table: DataTable) -> Callable[[int, int], tuple[int, int]]:
    """A function (line, index) -> the 1-based (line, column) where cell
    `index` of the record starting at file `line` begins (line 1 is the
    header). For the spec stage's messages about names and values; it reads
    the file again, once."""
    text = _read_text(table.path, max_bytes=os.stat(table.path).st_size)
    return _Lines(text).cell


# ---- bytes -> text -------------------------------------------------------------

def _read_text(path: Path, max_bytes: int) -> str:
    source = str(path)
    if path.is_dir():
        raise fail(source, "is a directory, not a data file (CSV)")
    limits = Limits(max_bytes=max_bytes)
    return decode(read_bytes(source, limits, what="data"), source, limits, what="data file",
                  locate=_line_column)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of `text[offset]`, lines split as the csv module splits them."""
    lines = io.StringIO(text[:offset], newline="").readlines()
    if not lines or lines[-1].endswith(("\n", "\r")):
        return len(lines) + 1, 1
    return len(lines), len(lines[-1]) + 1


# ---- text -> rows --------------------------------------------------------------

class _Parser:
    """One pass of the csv module over the text. Rows are parsed on a fast
    path; a row that fails it is looked at again, cell by cell, to say
    where and why."""

    def __init__(self, path: Path, text: str, columns: list[str] | None):
        self.path, self.text, self.expected = path, text, columns
        self.problems: list[Problem] = []
        self.more = 0  # problems found beyond MAX_PROBLEMS
        self.end = 0  # the last line of the record read last
        self._lines: _Lines | None = None

    def table(self) -> DataTable:
        handle = io.StringIO(self.text, newline="")
        reader = csv.reader(handle, strict=True)
        try:
            header = self._next(reader)
            if header is None or _blank(header):
                self._empty(header is not None)
            names = self._header(header, 1)
            # float() also reads '1_000' and non-ASCII digits; a data file
            # holds neither, so rows are checked for them only if the rest of
            # the file has such characters at all.
            strict = _UNPLAIN.search(self.text, handle.tell()) is not None
            rows, lines = self._rows(reader, len(names), strict)
        except csv.Error as err:
            self._report(self.end + 1, 1, f"invalid CSV: {err}")
            self._raise_if_any()
        if not rows and not self.problems:
            self._report(1, 1, "the file has a header but no rows of numbers; add at least one row")
        self._raise_if_any()
        return DataTable(self.path, names, rows, lines)

    def _next(self, reader) -> list[str] | None:
        cells = next(reader, None)
        self.end = reader.line_num
        return cells

    def _empty(self, has_lines: bool) -> None:
        if not has_lines or not self.text.strip():
            message = "the file is empty; it needs a header row (the column names) and rows of numbers"
        else:
            message = "the first line is blank; it must be the header row (the column names)"
        self._report(1, 1, message)
        self._raise_if_any()

    def _header(self, header: list[str], line: int) -> list[str]:
        names = [cell.strip() for cell in header]
        first: dict[str, int] = {}
        for index, name in enumerate(names):
            if not name:
                self._report_cell(line, index, "a column without a name; write its name in the header")
            elif name in first:
                _, column = self._where(line, first[name])
                self._report_cell(line, index, f"the column '{name}' is named twice "
                                               f"(first at column {column})")
            else:
                first[name] = index
        if self.expected is not None:
            self._match_expected(names, line)
        self._raise_if_any()  # rows mean nothing under a broken header
        return names

    def _match_expected(self, names: list[str], line: int) -> None:
        wanted = list(dict.fromkeys(self.expected))
        missing = [name for name in wanted if name not in names]
        extra = [index for index, name in enumerate(names) if name and name not in wanted]
        for index in extra:
            self._report_cell(line, index, f"the column '{names[index]}' is not one of the data's "
                                           f"columns ({', '.join(wanted)}){_hint(names[index], missing)}")
        if missing:
            shown = ", ".join(f"'{name}'" for name in missing)
            self._report(line, 1, f"the header has no column {shown}; the data's columns are "
                                  f"{', '.join(wanted)}")

    def _rows(self, reader, width: int, strict: bool) -> tuple[list[list[float]], list[int]]:
        rows: list[list[float]] = []
        lines: list[int] = []
        blank = 0  # the first line of a run of blank lines, 0 when the last record was not blank
        for cells in reader:
            line, self.end = self.end + 1, reader.line_num
            if len(cells) == width and not (strict and not _plain(cells)):
                try:
                    rows.append([float(cell) for cell in cells])
                except ValueError:
                    pass
                else:
                    lines.append(line)
                    if blank:
                        self._blank_line(blank)
                        blank = 0
                    continue
            if _blank(cells):
                blank = blank or line
                continue
            if blank:
                self._blank_line(blank)
                blank = 0
            self._diagnose(cells, line, width)
        if not all(map(math.isfinite, itertools.chain.from_iterable(rows))):  # one pass, in C
            self._non_finite(rows, lines)
        return rows, lines

    def _non_finite(self, rows: list[list[float]], lines: list[int]) -> None:
        for row, line in zip(rows, lines):
            for index, value in enumerate(row):
                if not math.isfinite(value):
                    cell = self._lines_of_text().cells(line)[index]
                    self._report_cell(line, index, _cell_problem(cell))

    def _blank_line(self, line: int) -> None:
        self._report(line, 1, "a blank line between rows; remove it (only the end of the file "
                              "may have blank lines)")

    def _diagnose(self, cells: list[str], line: int, width: int) -> None:
        """Say what is wrong with a row that failed the fast path."""
        if len(cells) < width:
            where = self._where_end(line)
            self._report(*where, f"the row has {counted(len(cells), 'cell')}, the header has {width}; "
                                 "add the missing cells")
        elif len(cells) > width:
            self._report_cell(line, width, f"the row has {len(cells)} cells, the header has "
                                           f"{width}; remove the extra cells")
        for index, cell in enumerate(cells[:width]):
            problem = _cell_problem(cell)
            if problem:
                self._report_cell(line, index, problem)

    # -- reporting

    def _lines_of_text(self) -> "_Lines":
        if self._lines is None:
            self._lines = _Lines(self.text)
        return self._lines

    def _where(self, line: int, index: int) -> tuple[int, int]:
        return self._lines_of_text().cell(line, index)

    def _where_end(self, line: int) -> tuple[int, int]:
        return self._lines_of_text().end(line)

    def _report_cell(self, line: int, index: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self._report(*self._where(line, index), message)
        else:
            self.more += 1

    def _report(self, line: int, column: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, column, message))
        else:
            self.more += 1

    def _raise_if_any(self) -> None:
        if not self.problems:
            return
        problems = sorted(self.problems)
        if self.more:
            last = problems[-1]
            more = counted(self.more, "more problem")
            problems[-1] = last._replace(message=f"{last.message} ({more} in the file "
                                                 f"{'is' if self.more == 1 else 'are'} not shown)")
        raise SpecError(str(self.path), problems)


def _blank(cells: list[str]) -> bool:
    return not cells or (len(cells) == 1 and not cells[0].strip())


def _plain(cells: list[str]) -> bool:
    """No cell holds what float() accepts but a data file should not: '_' or non-ASCII."""
    return all(cell.isascii() and "_" not in cell for cell in cells)


def _cell_problem(cell: str) -> str:
    """Why a cell is not a finite number ('' when it is one)."""
    text = cell.strip()
    shown = text if len(text) <= 40 else text[:37] + "..."
    if not text:
        return "an empty cell; every cell must be a number"
    if not cell.isascii() or "_" in cell:
        return f"'{shown}' is not a number (write plain ASCII digits, like 1.5 or -2e-3)"
    try:
        value = float(cell)
    except ValueError:
        return f"'{shown}' is not a number"
    if not math.isfinite(value):
        return f"'{shown}' is not a finite number; every cell must be finite"
    return ""


def _hint(name: str, candidates: list[str]) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Lines:
    """The text split into lines as the csv module counts them, to turn a
    (record, cell) into a (line, column). Built only when reporting."""

    def __init__(self, text: str):
        self.lines = io.StringIO(text, newline="").readlines()

    def cell(self, line: int, index: int) -> tuple[int, int]:
        offset = _cell_offsets(self._record(line))
        start = offset[index] if index < len(offset) else offset[-1]
        return self._position(line, start)

    def cells(self, line: int) -> list[str]:
        """The cells of the record starting at `line`, as the csv module reads them."""
        return next(csv.reader([self._record(line)]))

    def end(self, line: int) -> tuple[int, int]:
        record = self._record(line).rstrip("\r\n")
        return self._position(line, len(record))

    def _record(self, line: int) -> str:
        """The text from `line` on that one csv record can span (a quoted cell may hold line breaks)."""
        return "".join(self.lines[line - 1: line - 1 + _max_span(self.lines, line)])

    def _position(self, line: int, offset: int) -> tuple[int, int]:
        """Offset `offset` of the record starting at `line` -> (line, column);
        an offset on a line break counts as just after the line's text."""
        for text in itertools.islice(self.lines, line - 1, None):
            if offset < len(text):
                return line, min(offset, len(text.rstrip("\r\n"))) + 1
            offset -= len(text)
            line += 1
        last = self.lines[-1].rstrip("\r\n") if self.lines else ""
        return max(line - 1, 1), len(last) + 1


def _max_span(lines: list[str], line: int) -> int:
    """How many lines the record starting at `line` covers."""
    reader = csv.reader(itertools.islice(lines, line - 1, None))
    try:
        next(reader)
    except (csv.Error, StopIteration):
        return 1
    return max(reader.line_num, 1)


def _cell_offsets(record: str) -> list[int]:
    """The offset in `record` where each cell starts (after leading spaces),
    reading quotes as the csv module's default dialect does: a quote opens
    a quoted cell only as the cell's first character, and "" inside it is
    a quote."""
    offsets, at, size = [0], 0, len(record)
    while at < size:
        if record[at] == '"' and at == offsets[-1]:
            at = _closing_quote(record, at + 1)
        elif record[at] == ",":
            offsets.append(at + 1)
        elif record[at] in "\r\n":
            break
        at += 1
    return [_skip_spaces(record, offset) for offset in offsets]


def _closing_quote(record: str, at: int) -> int:
    while at < len(record):
        if record[at] == '"':
            if record[at + 1: at + 2] != '"':
                return at
            at += 1
        at += 1
    return at


def _skip_spaces(record: str, offset: int) -> int:
    while offset < len(record) and record[offset] in " \t":
        offset += 1
    return offset
