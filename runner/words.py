"""Counting words in messages: "1 node", "2 nodes", "1,000 entries"."""

from __future__ import annotations

from typing import Optional


def counted(number: int, noun: str, plural: Optional[str] = None) -> str:
    """`number` and the noun in agreement with it, with thousands separators."""
    if number == 1:
        return f"1 {noun}"
    return f"{number:,} {plural or noun + 's'}"
