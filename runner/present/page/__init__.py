"""A run as one self-contained HTML page: a report and a playground.

`to_html(result)` returns the page: the diagram (laid out by the browser from
the tape), the node table, the optimization trace, the chain-rule
walkthrough, and a slider and a number box per input that re-run forward and
backward in JavaScript. The engine's JavaScript is generated from the op
table (javascript.py); the tape and the numbers travel as JSON (data.py).
Scripts and styles are inline and the page's Content-Security-Policy forbids
fetching anything, so it works opened from disk with the network off.

Circuits of more than `SUMMARY_GATES` gates (or inputs) get a summary view
instead of the diagram, table and playground, and the page says so.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from pathlib import Path

from ...errors import OutputError
from ...results.run import RunResult
from .data import SUMMARY_GATES, page_data, script_json, used_kinds
from .javascript import engine_source

__all__ = ["SUMMARY_GATES", "to_html", "write_html"]

_MARKER = re.compile(r"/\*@(\w+)@\*/")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def to_html(result: RunResult) -> str:
    """The page of a run, at the spec's starting inputs (a spec with data: at
    its first row, for the node its loss reduces, as --explain and --graph show it)."""
    from ...results.run import row_result

    result = row_result(result)
    data = page_data(result)
    kinds = used_kinds(result.circuit) if "tape" in data else []
    parts = {
        "TITLE": html.escape(f"{data['name']} · circuit-run", quote=True),
        "CSS": _asset("page.css"),
        "DATA": script_json(data),
        "ENGINE": engine_source(kinds),
        "JS": _asset("page.js"),
    }
    # one pass: text put in is never searched for markers again
    return _MARKER.sub(lambda found: parts[found.group(1)], _asset("page.html"))


def write_html(result: RunResult, path: str | Path) -> None:
    """Save the page of a run to `path` (any extension; .html is usual)."""
    text = to_html(result)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise OutputError(str(path), f"cannot write: {err.strerror or err}") from None
