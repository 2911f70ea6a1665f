"""The CSV reader of data files: numbers, positions of every problem, limits."""

from __future__ import annotations

import csv
import io
import math
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import SpecError
from runner.loading.csv_reader import MAX_PROBLEMS, DataTable, cell_locator, read_csv

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "corpus" / "data"
COLUMNS = ["x0", "x1", "y"]
MB = 1024 * 1024


def read(path, columns=None, max_bytes=MB) -> DataTable:
    return read_csv(Path(path), max_bytes=max_bytes, columns=columns)


def problems(path, columns=None, max_bytes=MB) -> list[tuple[str, str]]:
    """(LINE:COL or '', message) of every problem, in the order printed."""
    with pytest.raises(SpecError) as caught:
        read(path, columns, max_bytes)
    assert caught.value.source == str(path)
    return [(f"{p.line}:{p.column}" if p.line else "", p.message) for p in caught.value.problems]


def assert_problems(path, expected, columns=None, max_bytes=MB):
    found = problems(path, columns, max_bytes)
    assert [at for at, _ in found] == [at for at, _ in expected], found
    for (_, message), (_, fragment) in zip(found, expected):
        assert fragment in message, (fragment, message)


# --------------------------------------------------------------------------
# Good files

def test_reads_header_rows_and_lines(write):
    path = write("d.csv", "x0,x1,y\n1.2,0.7,1\n-0.3,-5e-1,-1\n")
    table = read(path, COLUMNS)
    assert table == DataTable(Path(path), COLUMNS, [[1.2, 0.7, 1.0], [-0.3, -0.5, -1.0]], [2, 3])


def test_the_result_is_frozen(write):
    table = read(write("d.csv", "a\n1\n"))
    with pytest.raises(AttributeError):
        table.rows = []  # type: ignore[misc]


def test_bom_crlf_and_trailing_blank_lines():
    table = read(DATA / "valid-bom-crlf.csv", COLUMNS)
    assert table.columns == COLUMNS  # the BOM is not part of the first name
    assert table.rows == [[1.2, 0.7, 1.0], [-0.3, -0.5, -1.0]]
    assert table.lines == [2, 3]


def test_old_mac_line_ends_count_as_lines(write):
    table = read(write("d.csv", "a,b\r1,2\r3,4\r"))
    assert table.rows == [[1.0, 2.0], [3.0, 4.0]] and table.lines == [2, 3]


def test_columns_may_come_in_any_order_and_are_returned_as_written(write):
    table = read(write("d.csv", "y, x1 ,x0\n1,2,3\n"), COLUMNS)
    assert table.columns == ["y", "x1", "x0"] and table.rows == [[1.0, 2.0, 3.0]]


def test_spaces_around_numbers_quotes_and_no_final_newline(write):
    table = read(write("d.csv", 'a,b,c\n 1.5 ,"2", +.5e1'))
    assert table.rows == [[1.5, 2.0, 5.0]]


def test_a_quoted_cell_with_a_line_break_keeps_later_line_numbers(write):
    table = read(write("d.csv", 'a,"b\nc"\n1,2\n3,4\n'))
    assert table.columns == ["a", "b\nc"] and table.lines == [3, 4]


def test_underscores_in_the_header_do_not_slow_or_break_the_rows(write):
    table = read(write("d.csv", "x_0,x_1\n1,2\n"))
    assert table.columns == ["x_0", "x_1"] and table.rows == [[1.0, 2.0]]


def test_underscores_in_the_header_do_not_excuse_them_in_rows(write):
    assert_problems(write("d.csv", "x_0,y\n1,2\n1_0,2\n"), [("3:1", "'1_0' is not a number")])


def test_without_columns_any_header_is_returned(write):
    assert read(write("d.csv", "p,q\n1,2\n")).columns == ["p", "q"]


# --------------------------------------------------------------------------
# The committed bad data files (the spec corpus points at them too)

CORPUS = {
    "non-numeric.csv": [("3:6", "'abc' is not a number")],
    "non-finite.csv": [("3:6", "'nan' is not a finite number"), ("4:1", "'inf' is not a finite number")],
    "overflow.csv": [("3:6", "'1e999' is not a finite number")],
    "empty-cell.csv": [("3:6", "an empty cell")],
    "ragged-short.csv": [("3:10", "the row has 2 cells, the header has 3; add the missing cells")],
    "ragged-long.csv": [("3:14", "the row has 4 cells, the header has 3; remove the extra cells")],
    "missing-column.csv": [("1:1", "the header has no column 'x1'; the data's columns are x0, x1, y")],
    "extra-column.csv": [("1:7", "the column 'x2' is not one of the data's columns (x0, x1, y)")],
    "duplicate-column.csv": [("1:7", "the column 'x0' is named twice (first at column 1)")],
    "empty.csv": [("1:1", "the file is empty")],
    "header-only.csv": [("1:1", "the file has a header but no rows of numbers")],
    "blank-line.csv": [("3:1", "a blank line between rows")],
    "not-utf8.csv": [("3:6", "the file is not valid UTF-8 (byte 0xb5)")],
    "underscore.csv": [("3:6", "'1_000' is not a number")],
}
VALID_CSV_BAD_SPEC = ["bad-name.csv", "named-like-input.csv", "label-outside.csv", "valid-bom-crlf.csv"]


def test_every_data_file_is_listed_here():
    assert {path.name for path in DATA.iterdir()} == set(CORPUS) | set(VALID_CSV_BAD_SPEC)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_data_file(name):
    columns = None if name == "duplicate-column.csv" else COLUMNS
    assert_problems(DATA / name, CORPUS[name], columns)


@pytest.mark.parametrize("name", VALID_CSV_BAD_SPEC)
def test_files_that_only_a_spec_finds_wrong_read_cleanly(name):
    """Node names and labels are the spec stage's rules; the reader returns them."""
    table = read(DATA / name)
    assert len(table.rows) >= 2 and len(table.columns) == 3


def test_extra_column_suggests_the_missing_one(write):
    path = write("d.csv", "x0,x_1,y\n1,2,3\n")
    assert_problems(path, [("1:1", "the header has no column 'x1'"),
                           ("1:4", "'x_1' is not one of the data's columns (x0, x1, y); did you mean 'x1'?")],
                    COLUMNS)


# --------------------------------------------------------------------------
# More bad input, each at its exact position

@pytest.mark.parametrize("text,expected", [
    ("a,b\n1,-inf\n", [("2:3", "'-inf' is not a finite number")]),
    ("a,b\n1,Infinity\n", [("2:3", "'Infinity' is not a finite number")]),
    ("a,b\n1,NaN\n", [("2:3", "'NaN' is not a finite number")]),
    ("a,b\n1,\u0663\n", [("2:3", "'\u0663' is not a number (write plain ASCII digits")]),
    ("a,b\n1,0x10\n", [("2:3", "'0x10' is not a number")]),
    ("a,b\n1, 2 x\n", [("2:4", "'2 x' is not a number")]),
    ('a,b\n1,"two"\n', [("2:3", "'two' is not a number")]),
    ("a,b\n1,   \n", [("2:6", "an empty cell")]),
    ("a,b\n1\n", [("2:2", "the row has 1 cell, the header has 2")]),
    ("a,b\r\n1\r\n", [("2:2", "the row has 1 cell, the header has 2")]),
    ("a,b\n1,2,3,4\n", [("2:5", "the row has 4 cells, the header has 2")]),
    ("a,b\n1,x,3\n", [("2:3", "'x' is not a number"), ("2:5", "the row has 3 cells")]),
    ("a,b\n1,2\n   \n3,4\n", [("3:1", "a blank line between rows")]),
    ("a,b\n1,2\n\n\n3,4\n\n", [("3:1", "a blank line between rows")]),
    ("a,,b\n1,2,3\n", [("1:3", "a column without a name")]),
    ("a, a\n1,2\n", [("1:4", "the column 'a' is named twice (first at column 1)")]),
    ("\na,b\n1,2\n", [("1:1", "the first line is blank; it must be the header row")]),
    ("   \n\n", [("1:1", "the file is empty")]),
    ("a,b\n\n\n", [("1:1", "the file has a header but no rows of numbers")]),
    ("\ufeff", [("1:1", "the file is empty")]),
    ('a,b\n1,"2\n3,4\n', [("2:1", "invalid CSV: unexpected end of data")]),
    ('a,b\n1, "2"\n', [("2:4", "'\"2\"' is not a number")]),  # a quote opens only a cell's first character
    ('a,b\n1,"2"x\n', [("2:1", "invalid CSV: ',' expected after '\"'")]),
    ("a,b\n1,2\x003\n", [("2:4", "the file contains a NUL byte")]),
    ("a,b\n1\u00e9,2\n", [("2:1", "'1\u00e9' is not a number")]),
    ('a,"b\nc"\n1,x\n', [("3:3", "'x' is not a number")]),
    ('a,b,c\n1,2"x,y\n', [("2:3", "'2\"x' is not a number"), ("2:7", "'y' is not a number")]),
    ('a,b,c\n"1,""2",3,y\n', [("2:1", "'1,\"2' is not a number"), ("2:11", "'y' is not a number")]),
])
def test_bad_text(write, text, expected):
    assert_problems(write("d.csv", text), expected)


def test_a_cell_after_a_quoted_line_break_is_placed_on_its_own_line(write):
    path = write("d.csv", 'a,b,c\n1,"\n",x\n')
    assert_problems(path, [("2:3", "an empty cell"), ("3:3", "'x' is not a number")])


def test_all_problems_of_a_file_are_reported_in_order(write):
    path = write("d.csv", "a,b\n1,x\nnan,2\n3\n4,5\n")
    assert [at for at, _ in problems(path)] == ["2:3", "3:1", "4:2"]


def test_a_wholly_wrong_file_reports_a_bounded_number_of_problems(write):
    path = write("d.csv", "a,b\n" + "1,x\n" * 1000)
    found = problems(path)
    assert len(found) == MAX_PROBLEMS
    assert found[-1][0] == f"{MAX_PROBLEMS + 1}:3"
    assert found[-1][1].endswith(f"({1000 - MAX_PROBLEMS:,} more problems in the file are not shown)")


def test_one_problem_past_the_limit_is_counted_in_the_singular(write):
    path = write("d.csv", "a,b\n" + "1,x\n" * (MAX_PROBLEMS + 1))
    assert problems(path)[-1][1].endswith("(1 more problem in the file is not shown)")


def test_an_invalid_utf8_byte_is_placed_by_character(write):
    assert_problems(write("d.csv", b"a,b\n\xc3\xa9,\xff\n"), [("2:3", "byte 0xff")])
    assert_problems(write("e.csv", b"\xef\xbb\xbfa,b\n1,\xff\n"), [("2:3", "byte 0xff")])  # after a BOM


def test_positions_count_old_mac_line_ends_as_lines(write):
    assert_problems(write("d.csv", b"a,b\r1,\x00\r"), [("2:3", "NUL byte")])
    assert_problems(write("e.csv", b"a,b\r1,\xff\r"), [("2:3", "byte 0xff")])


# --------------------------------------------------------------------------
# Files that cannot be read

def test_a_missing_file(tmp_path):
    assert problems(tmp_path / "nowhere.csv") == [("", "no such file")]


def test_a_directory(tmp_path):
    assert problems(tmp_path) == [("", "is a directory, not a data file (CSV)")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file(write):
    path = write("d.csv", "a\n1\n")
    os.chmod(path, 0)
    assert problems(path) == [("", "cannot read the file: Permission denied")]


def test_an_error_while_reading_is_reported(write, monkeypatch):
    """As test_an_unreadable_file, where root would read anything."""
    path = write("d.csv", "a\n1\n")

    def failing_open(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", failing_open)
    assert problems(path) == [("", "cannot read the file: Permission denied")]


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.truncate(1024 * MB)  # sparse: 1 GB that takes no disk
    read_sizes = []
    real_open = open

    def watched_open(*args, **kwargs):
        handle = real_open(*args, **kwargs)
        original = handle.read
        handle.read = lambda size=-1: read_sizes.append(size) or original(size)
        return handle

    monkeypatch.setattr("builtins.open", watched_open)
    start = time.perf_counter()
    found = problems(path, max_bytes=64 * MB)
    assert found == [("", "the file is larger than the limit of 67,108,864 bytes "
                          "(raise it with --max-bytes if the data is real)")]
    assert read_sizes == [] and time.perf_counter() - start < 1.0


def test_a_file_exactly_at_the_limit_is_read(write):
    text = "a\n1\n"
    assert read(write("d.csv", text), max_bytes=len(text)).rows == [[1.0]]
    assert problems(write("e.csv", text), max_bytes=len(text) - 1)[0][1].startswith("the file is larger")


# --------------------------------------------------------------------------
# Positions for the spec stage's messages

def test_cell_locator_finds_cells_of_rows_and_header(write):
    path = write("d.csv", 'x0, x1 ,"y"\n1.2,  0.7,1\n-0.3,"a\nb",-1\n')
    where = cell_locator(DataTable(Path(path), ["x0", "x1", "y"], [], [2, 3]))
    assert [where(1, 1), where(1, 2), where(2, 1), where(3, 2)] == [(1, 5), (1, 9), (2, 7), (4, 4)]


# --------------------------------------------------------------------------
# Properties: any table of finite numbers comes back as written; any text
# is either read or refused with positions inside the file

finite = st.floats(allow_nan=False, allow_infinity=False)


@given(rows=st.lists(st.lists(finite, min_size=3, max_size=3), min_size=1, max_size=20),
       newline=st.sampled_from(["\n", "\r\n", "\r"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
       trailing=st.integers(0, 3))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_written_tables_read_back_exactly(tmp_path, rows, newline, quoting, trailing):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline, quoting=quoting).writerows([COLUMNS, *map(_as_text, rows)])
    path = tmp_path / "t.csv"
    path.write_text(buffer.getvalue() + newline * trailing, encoding="utf-8", newline="")
    table = read(path, COLUMNS)
    assert table.rows == rows and table.lines == list(range(2, len(rows) + 2))


def _as_text(row: list[float]) -> list[str]:
    return [repr(value) for value in row]


@given(text=st.text(alphabet='ab1.e-,"_ \n\r\t\u00e9', max_size=60))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_is_read_or_refused_at_a_real_position(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        table = read(path)
    except SpecError as error:
        lines = io.StringIO(text, newline="").readlines() or [""]
        for problem in error.problems:
            assert 1 <= problem.line <= len(lines), (problem, lines)
            assert 1 <= problem.column <= len(lines[problem.line - 1].rstrip("\r\n")) + 1, (problem, lines)
    else:
        assert table.rows and all(len(row) == len(table.columns) for row in table.rows)
        assert all(map(math.isfinite, (value for row in table.rows for value in row)))
