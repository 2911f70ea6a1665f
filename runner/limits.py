"""Bounds that keep hostile files from exhausting memory, stack or time.

Every stage reads them: the loader (bytes, nesting, aliases), validation
(nodes, iterations) and the command line (its --max-* options).
"""

from __future__ import annotations

from typing import NamedTuple

# The most optimization steps a spec (or --iterations) may ask for.
MAX_ITERATIONS = 1_000_000_000


class Limits(NamedTuple):
    """Bounds that keep hostile files from exhausting memory, stack or time.

    The defaults are far above any hand-written or generated circuit we know
    of; each can be raised from the command line.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 64
    max_alias_nodes: int = 10_000
    max_nodes: int = 10_000_000  # inputs + gates; a 10**6-gate benchmark is far below

    # libyaml composes nested collections by C recursion; far past this it
    # would overflow the C stack, so no setting may go beyond it.
    HARD_MAX_DEPTH = 10_000

