"""Compare another engine's results on one circuit with circuit-run's own
and with the spec's `expect` block: one `CaseResult` per circuit.

The engine runs the compiled tape (so formulas and module instances reach it
as the plain gates they became); circuit-run's run at the same inputs is the
reference. A case passes when the output and every input's gradient agree
within |engine - circuit-run| <= abs + rel * |circuit-run| (the spec's expect
tolerance, 1e-9 and 1e-9 by default), and so do the expect block's entries.
Two kinds of cases ask something else of the gradients: at a kink (relu at 0,
a tie of max) any subgradient passes, and a second `backward()` may give the
same gradients again or add them up once more (PyTorch's accumulation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Optional, Sequence

from ..errors import Problem, SpecError
from ..ops import OPS
from .expectations import Comparison
from .run import by_slot

if TYPE_CHECKING:  # annotations only
    from ..core.engine import Circuit
    from ..spec.models import Expect, Spec
    from .foreign_engine import ForeignEngine
    from .run import RunResult

DEFAULT_TOLERANCE = (1e-9, 1e-9)  # abs, rel: the expect block's defaults


class Judging(NamedTuple):
    """How a case's input gradients are judged (the conformance suite sets it)."""

    kind: str = "exact"  # exact | subgradient (at a kink) | twice (backward() called twice)
    ranges: dict = {}  # subgradient: input -> (low, high) allowed
    total: Optional[tuple] = None  # subgradient: ((inputs...), their gradients' sum)


EXACT = Judging()


@dataclass
class CaseResult:
    """One row: `status` is pass, fail, skipped or error."""

    name: str
    status: str
    detail: str
    failures: list[tuple[str, Comparison]] = field(default_factory=list)  # (against, comparison)
    checked: int = 0

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error")

    def as_dict(self) -> dict:
        return {"case": self.name, "status": self.status, "detail": self.detail, "checked": self.checked,
                "failures": [dict(comparison.as_dict(), against=against)
                             for against, comparison in self.failures]}


def check_circuit(engine: ForeignEngine, name: str, run: RunResult, *, tolerance: Sequence[float] = DEFAULT_TOLERANCE,
                  expect: Optional[Expect] = None, judging: Judging = EXACT) -> CaseResult:
    """Run `run.circuit` (at its starting inputs) with the engine and compare."""
    circuit = run.circuit
    custom = next((step for step in circuit.tape if OPS.get(step.op.name) is not step.op), None)
    if custom is not None:
        return CaseResult(name, "skipped", f"custom op '{custom.op.name}' (gate '{circuit.names[custom.out]}'): "
                                           "only circuit-run knows its derivative")
    reply = engine.run(job(circuit, twice=judging.kind == "twice"))
    if reply.status == "skipped":
        return CaseResult(name, "skipped", reply.data["reason"])
    if reply.status == "error":
        data = reply.data
        return CaseResult(name, "error", f"{data['type']}: {data['message']} (in {data['where']})")
    return _compare(name, run, reply.data, tuple(tolerance), expect, judging)


def job(circuit: Circuit, twice: bool = False) -> dict:
    """The request the worker builds the circuit from (see engine_worker)."""
    values, first_gate = circuit.values, circuit.n_inputs + circuit.n_constants
    return {"names": circuit.names,
            "inputs": [[slot, values[slot]] for slot in range(circuit.n_inputs)],
            "constants": [[slot, values[slot]] for slot in range(circuit.n_inputs, first_gate)],
            "tape": [[step.op.name, step.out, list(step.ins)] for step in circuit.tape],
            "output": circuit.output, "twice": twice}


def _compare(name: str, run: RunResult, reply: dict, tolerance: tuple, expect: Optional[Expect],
             judging: Judging) -> CaseResult:
    circuit = run.circuit
    grads = [0.0 if grad is None else grad for grad in (reply["grads_first"] or reply["grads"])]
    reference = by_slot(run.grads, circuit)
    mine = [Comparison("output", run.output, reply["output"], *tolerance)]
    checked_inputs = [slot for slot in range(circuit.n_inputs) if circuit.names[slot] not in judging.ranges]
    mine += [Comparison(f"grads.{circuit.names[slot]}", reference[slot], grads[slot], *tolerance)
             for slot in checked_inputs]
    failures = [("circuit-run", c) for c in mine if not c.passed]
    theirs = _expected(circuit, expect, reply) if expect is not None else []
    failures += [("expect", c) for c in theirs if not c.passed]
    checked = len(mine) + len(theirs)
    if failures:
        return CaseResult(name, "fail", _first_failure(failures, run, reply, tolerance), failures, checked)
    if judging.kind == "subgradient":
        return _judge_kink(name, circuit, grads, judging, checked)
    if judging.kind == "twice":
        return _judge_twice(name, circuit, reply, tolerance, checked)
    inputs = circuit.n_inputs
    agree = f"output and {inputs} gradient{'s' if inputs != 1 else ''} agree with circuit-run"
    return CaseResult(name, "pass", agree + (f"; {len(theirs)} expect entries" if theirs else ""),
                      checked=checked)


def _expected(circuit: Circuit, expect: Expect, reply: dict) -> list[Comparison]:
    """The expect block's output, values and grads, against the engine's numbers."""
    default = expect.tolerance
    found = []

    def compare(path: str, entry, actual: Optional[float]) -> None:
        found.append(Comparison(path, entry.value, actual, default.abs if entry.abs is None else entry.abs,
                                default.rel if entry.rel is None else entry.rel))

    if expect.output is not None:
        compare("output", expect.output, reply["output"])
    for node, entry in expect.values.items():
        compare(f"values.{node}", entry, reply["values"][circuit.index[node]])
    for node, entry in expect.grads.items():
        grad = reply["grads"][circuit.index[node]]
        compare(f"grads.{node}", entry, 0.0 if grad is None else grad)
    return found


def _first_failure(failures: list, run: RunResult, reply: dict, tolerance: tuple) -> str:
    against, first = failures[0]
    engine = _number(first.actual) if first.actual is not None else "none"
    text = f"{first.path}: engine {engine}, {against} {_number(first.expected)} (allowed {first.allowed:.3g})"
    if first.path == "output" or first.path.startswith("values."):
        gate = _first_wrong_value(run, reply, tolerance)
        if gate and not gate.startswith(f"gate '{run.circuit.output_name}' "):
            text += f"; first wrong value: {gate}"
    more = len(failures) - 1
    return text + (f"; {more} more" if more else "")


def _first_wrong_value(run: RunResult, reply: dict, tolerance: tuple) -> str:
    circuit = run.circuit
    values = by_slot(run.values, circuit)
    for step in circuit.tape:
        mine, theirs = values[step.out], reply["values"][step.out]
        if not Comparison("", mine, theirs, *tolerance).passed:
            return f"gate '{circuit.names[step.out]}' ({step.op.name}): engine {_number(theirs)}, " \
                   f"circuit-run {_number(mine)}"
    return ""


def _judge_kink(name: str, circuit: Circuit, grads: list, judging: Judging, checked: int) -> CaseResult:
    """Any subgradient passes: each gradient in its range, their sum fixed."""
    shown = ", ".join(f"{node}={_number(grads[circuit.index[node]])}" for node in judging.ranges)
    for node, (low, high) in judging.ranges.items():
        grad = grads[circuit.index[node]]
        if not low - 1e-12 <= grad <= high + 1e-12:
            return CaseResult(name, "fail", f"grads.{node}: engine {_number(grad)}, a subgradient here is "
                                            f"between {_number(low)} and {_number(high)}", checked=checked + 1)
    if judging.total is not None:
        nodes, total = judging.total
        got = sum(grads[circuit.index[node]] for node in nodes)
        if abs(got - total) > 1e-9:
            return CaseResult(name, "fail", f"{shown}: they add up to {_number(got)}, not {_number(total)}",
                              checked=checked + len(judging.ranges))
    return CaseResult(name, "pass", f"{shown}: a subgradient at this kink", checked=checked + len(judging.ranges))


def _judge_twice(name: str, circuit: Circuit, reply: dict, tolerance: tuple, checked: int) -> CaseResult:
    """After a second backward(): the same gradients (reset) or twice them (accumulated)."""
    first = [0.0 if grad is None else grad for grad in reply["grads_first"]]
    second = [0.0 if grad is None else grad for grad in reply["grads"]]
    inputs = range(circuit.n_inputs)
    if all(Comparison("", first[slot], second[slot], *tolerance).passed for slot in inputs):
        return CaseResult(name, "pass", "the second backward() gives the same gradients", checked=checked)
    if all(Comparison("", 2 * first[slot], second[slot], *tolerance).passed for slot in inputs):
        return CaseResult(name, "pass", "the second backward() adds the gradients again (they double, "
                                        "as PyTorch accumulates)", checked=checked)
    same = {slot for slot in inputs if Comparison("", first[slot], second[slot], *tolerance).passed}
    double = {slot for slot in inputs if Comparison("", 2 * first[slot], second[slot], *tolerance).passed}
    odd = next((slot for slot in inputs if slot not in same | double), None)
    if odd is not None:
        return CaseResult(name, "fail", f"after a second backward(), grads.{circuit.names[odd]} is "
                                        f"{_number(second[odd])}, after the first {_number(first[odd])}: neither "
                                        "the same nor twice", checked=checked + 1)
    kept = ", ".join(circuit.names[slot] for slot in inputs if slot not in double)
    doubled = ", ".join(circuit.names[slot] for slot in inputs if slot not in same)
    return CaseResult(name, "fail", f"after a second backward(), some gradients are the same ({kept}) and "
                                    f"others twice ({doubled})", checked=checked + 1)


def _number(value: Optional[float]) -> str:
    if value is None:
        return "none"
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


class DataRefused(SpecError):
    """A spec with data, which --engine does not run (exit 2; the pytest plugin skips it)."""


def check_spec(engine: ForeignEngine, spec: Spec, source: str, overrides: Optional[dict] = None) -> CaseResult:
    """One spec file run by the engine, compared with circuit-run's run and
    with its expect block (not with --set: the block was written for the
    spec's own inputs). The optimize block is not run."""
    if getattr(spec, "data", None) is not None or getattr(getattr(spec, "netlist", None), "data", None) is not None:
        raise DataRefused(source, [Problem(0, 0, "--engine runs circuits over inputs only; this spec has a "
                                                 "'data:' section, which --engine does not support yet")])
    from .run import run_spec

    run = run_spec(spec, overrides=overrides, run_optimization=False)
    expect = spec.expect if not overrides else None
    tolerance = (spec.expect.tolerance.abs, spec.expect.tolerance.rel) if spec.expect else DEFAULT_TOLERANCE
    return check_circuit(engine, source, run, tolerance=tolerance, expect=expect)
