"""`--engine` results for people (one row per case and a count) and for
programs (one JSON object per case, one per line).

Rows are printed as each case finishes, so the case column's width is
worked out from the names before the first one runs.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable

from ..results.engine_check import CaseResult

VERDICTS = {"pass": "pass", "fail": "FAIL", "skipped": "skipped", "error": "error"}
_WIDTH = max(map(len, VERDICTS.values()))


def row(result: CaseResult, name_width: int) -> str:
    return f"{VERDICTS[result.status]:<{_WIDTH}}  {result.name:<{name_width}}  {result.detail}".rstrip() + "\n"


def summary(results: Iterable[CaseResult], target: str) -> str:
    """`12 cases: 9 pass, 1 FAIL, 1 skipped, 1 error (engine M:C)`."""
    counts = {status: 0 for status in VERDICTS}
    for result in results:
        counts[result.status] += 1
    total = sum(counts.values())
    shown = ", ".join(f"{count} {VERDICTS[status]}" for status, count in counts.items())
    return f"{total} case{'s' if total != 1 else ''}: {shown} (engine {target})\n"


def row_json(result: CaseResult, target: str) -> str:
    """The case as one line of JSON; a number that is not finite (an engine's
    NaN) becomes null, as in circuit-run's other JSON."""
    return json.dumps(_finite({"engine": target, **result.as_dict()}), allow_nan=False) + "\n"


def _finite(thing: Any) -> Any:
    if isinstance(thing, float):
        return thing if math.isfinite(thing) else None
    if isinstance(thing, dict):
        return {key: _finite(value) for key, value in thing.items()}
    if isinstance(thing, list):
        return [_finite(value) for value in thing]
    return thing
