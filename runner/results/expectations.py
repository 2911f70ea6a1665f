"""Stage 6: compare a run's results with the spec's `expect` block.

An entry passes when |actual - expected| <= abs + rel * |expected|, with the
spec's tolerance unless the entry carries its own `abs`/`rel`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Optional

if TYPE_CHECKING:  # annotations only
    from ..spec.models import Expected, ExpectOptimized, Spec, Tolerance
    from ..optimization.optimizer import OptimizationResult


UNFINISHED = ("diverged", "interrupted")  # how an optimization can stop short of its end


class Comparison(NamedTuple):
    path: str  # e.g. "grads.x", "optimized.inputs.y"
    expected: float
    actual: Optional[float]  # None when the result does not exist (no optimization ran)
    abs_tol: float
    rel_tol: float

    @property
    def allowed(self) -> float:
        return self.abs_tol + self.rel_tol * abs(self.expected)

    @property
    def difference(self) -> Optional[float]:
        return None if self.actual is None else abs(self.actual - self.expected)

    @property
    def passed(self) -> bool:
        difference = self.difference
        return difference is not None and math.isfinite(difference) and difference <= self.allowed

    def as_dict(self) -> dict:
        # |a - e| or abs + rel*|e| can overflow to inf for huge numbers; JSON gets null then
        return {"path": self.path, "expected": self.expected, "actual": self.actual,
                "difference": _finite(self.difference), "allowed": _finite(self.allowed)}


@dataclass
class CheckResult:
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # failures that are not a number mismatch

    @property
    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.notes and not self.failures

    def as_dict(self) -> dict:
        failures = [c.as_dict() for c in self.failures]
        failures += [{"path": None, "message": note} for note in self.notes]
        return {"passed": self.passed, "checked": len(self.comparisons), "failures": failures}


def check_expectations(spec: Spec, output: float, values: Mapping[str, float],
                       grads: Mapping[str, float],
                       optimization: Optional[OptimizationResult],
                       final_grads: Callable[[], Mapping[str, float]] = dict, *,
                       metrics: Optional[Mapping[str, float]] = None) -> CheckResult:
    """Compare results at the spec's starting inputs (and after optimizing).
    `final_grads` gives the inputs' gradients at the final inputs (asked
    only when the spec pins some). With data, a node's expected list is
    compared row by row, and `metrics` (over all rows) with `expect.metrics`."""
    result = CheckResult()
    expect = spec.expect
    if expect is None:
        result.notes.append("the spec has no 'expect' block; add one (or run --update-expect) "
                            "to say what it should compute")
        return result
    default = expect.tolerance
    if optimization is not None and optimization.stop in UNFINISHED:
        at = optimization.steps + (optimization.stop == "diverged")  # the step that failed, or the last one
        result.notes.append(f"the optimization did not run to the end ({optimization.stop} at step {at}), "
                            "so the spec does not pass")

    def compare(path: str, entry: Expected, actual: Optional[float]) -> None:
        result.comparisons.append(_comparison(path, entry, actual, default))

    if expect.output is not None:
        compare("output", expect.output, output)
    for name, entry in expect.values.items():
        if isinstance(entry, list):
            _compare_rows(result, f"values.{name}", entry, values[name], default)
        else:
            compare(f"values.{name}", entry, _one_number(values[name]))
    for name, entry in expect.metrics.items():
        compare(f"metrics.{name}", entry, (metrics or {}).get(name))
    for name, entry in expect.grads.items():
        compare(f"grads.{name}", entry, grads[name])
    if expect.optimized is not None:
        if optimization is None:
            result.notes.append("the spec expects optimized results, but no optimization ran")
        final_output = optimization.final_output if optimization else None
        final_inputs = optimization.final_inputs if optimization else {}
        if expect.optimized.output is not None:
            compare("optimized.output", expect.optimized.output, final_output)
        for name, entry in expect.optimized.inputs.items():
            compare(f"optimized.inputs.{name}", entry, final_inputs.get(name))
        final_metrics = (optimization.final_metrics if optimization else None) or {}
        for name, entry in expect.optimized.metrics.items():
            compare(f"optimized.metrics.{name}", entry, final_metrics.get(name))
        _check_how_it_ended(expect.optimized, optimization, final_grads, compare, result)
    return result


def _check_how_it_ended(expected: ExpectOptimized, optimization: Optional[OptimizationResult],
                        final_grads: Callable[[], Mapping[str, float]],
                        compare: Callable[[str, Expected, Optional[float]], None], result: CheckResult) -> None:
    """optimized.grads (with tolerances), steps (exactly) and stop."""
    if expected.grads:
        at_end = final_grads() if optimization is not None else {}
        for name, entry in expected.grads.items():
            compare(f"optimized.grads.{name}", entry, at_end.get(name))
    if expected.steps is not None:
        steps = float(optimization.steps) if optimization is not None else None
        result.comparisons.append(Comparison("optimized.steps", float(expected.steps), steps, 0.0, 0.0))
    if expected.stop is not None and optimization is not None and optimization.stop != expected.stop:
        result.notes.append(f"optimized.stop: expected '{expected.stop}', got '{optimization.stop}'")


def _one_number(actual: Any) -> Optional[float]:
    """A node's value; a per-row node (with data) compared with one number is
    compared with its first row only when there is one row."""
    if hasattr(actual, "tolist"):
        rows = actual.tolist()
        return rows if not isinstance(rows, list) else rows[0] if len(rows) == 1 else None
    return actual


def _compare_rows(result: CheckResult, path: str, entries: list, actual: Any, default: Tolerance) -> None:
    """A per-row expectation: one comparison per row (`values.cost[2]`)."""
    rows = actual.tolist() if hasattr(actual, "tolist") else actual
    if not isinstance(rows, list):
        rows = [rows] * len(entries)  # a node that does not depend on data: the same in every row
    if len(rows) != len(entries):
        result.notes.append(f"{path} lists {len(entries)} values, but the data has {len(rows)} rows")
        return
    for index, (entry, row) in enumerate(zip(entries, rows)):
        result.comparisons.append(_comparison(f"{path}[{index}]", entry, float(row), default))


def _comparison(path: str, entry: Expected, actual: Optional[float], default: Tolerance) -> Comparison:
    return Comparison(path, entry.value, actual,
                      entry.abs if entry.abs is not None else default.abs,
                      entry.rel if entry.rel is not None else default.rel)


def _finite(value: Optional[float]) -> Optional[float]:
    return value if value is not None and math.isfinite(value) else None
