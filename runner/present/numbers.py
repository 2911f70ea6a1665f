"""Numbers for people: the one way every table, diagram and plot writes them."""

from __future__ import annotations

from typing import Any


def number(value: float | None) -> str:
    """A float for people: up to 10 significant digits, no trailing zeros."""
    if value is None:
        return "-"
    text = format(value, ".10g")
    return "0" if text == "-0" else text


def reference(ref: Any) -> str:
    return ref if isinstance(ref, str) else number(ref)

