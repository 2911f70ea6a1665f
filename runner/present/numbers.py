"""Numbers for people: the one way every table, diagram and plot writes them."""

from __future__ import annotations

from typing import Any


ROWS_SHOWN = 3  # per-row values (data) shown before a summary


def number(value: float | None) -> str:
    """A float for people: up to 10 significant digits, no trailing zeros.
    A node with a value per data row (an array) shows its first rows and how
    many there are: `0.44, 1.37, 0 (3 rows)`, `1, 2, 3, ... (100 rows)`."""
    if value is None:
        return "-"
    if hasattr(value, "tolist"):
        rows = value.tolist()
        if not isinstance(rows, list):
            return number(rows)
        shown = ", ".join(number(row) for row in rows[:ROWS_SHOWN])
        return shown + (", ..." if len(rows) > ROWS_SHOWN else "") + f" ({len(rows):,} row{'s' if len(rows) != 1 else ''})"
    text = format(value, ".10g")
    return "0" if text == "-0" else text


def reference(ref: Any) -> str:
    return ref if isinstance(ref, str) else number(ref)

