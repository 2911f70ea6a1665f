"""Where a node of a spec was written, found again after a run.

A successful run keeps no source positions in memory (for a big spec they
would cost more than the circuit), so when a numerical error must point at
a gate, its file is read again here. Standard input cannot be read twice and
gets no position.
"""

from __future__ import annotations

from typing import Optional

from ..errors import CircuitRunError
from ..limits import Limits
from ..loading.document import load_file
from ..loading.source import STDIN


def node_position(path: str, name: str, limits: Limits = Limits()) -> Optional[tuple[int, int]]:
    """(line, column) of the key that names `name` (a gate or an input) in
    the spec file at `path`, or None when it cannot be found."""
    if path == STDIN:
        return None
    try:
        document = load_file(path, limits)
        gates = document.data.get("gates", {})
        section = "gates" if isinstance(gates, dict) and name in gates else "inputs"
        line, column = document.position((section, name), key=True)
    except (CircuitRunError, OSError, AttributeError, TypeError):
        return None  # the file changed since the first read; the message still names the node
    return (line, column) if line else None
