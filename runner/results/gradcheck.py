"""Compare every analytic input gradient with a central-difference estimate.

Like `torch.autograd.gradcheck` (its float64 defaults: eps 1e-6, atol 1e-5,
rtol 1e-3), an input passes when

    |analytic - numerical| <= atol + rtol * |numerical|

with numerical = (f(x + eps) - f(x - eps)) / 2 eps, one input at a time.

A difference quotient means nothing where the function has a kink: relu and
abs at 0, max/min with a tie. Such an input is flagged "not differentiable
here" instead of failing. The test is per input: the branch each kinked gate
takes (the sign of relu's and abs's argument, the set of max/min winners) is
recorded at x - eps, x and x + eps; if nudging this input changes a branch,
the quotient crosses or touches a kink. That also catches a kink that is not
at x but within eps of it, where the analytic gradient is right and the
estimate is not.

When an input fails and its gradient flows through custom ops (a spec's
`ops:`, whose derivatives are written by hand), each such gate's written
derivatives are compared with central differences of its own forward, and
the ones that disagree are named: the op, its argument, the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Optional

from ..core.engine import Circuit
from ..core.objective import Objective
from ..errors import NumericalError

# torch.autograd.gradcheck's defaults for float64
EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3


@dataclass(frozen=True)
class InputCheck:
    name: str
    analytic: float
    numerical: Optional[float]  # None when f(x +- eps) could not be computed
    allowed: float
    status: str  # "ok", "mismatch", "kink" (not differentiable here) or "undefined"
    note: str = ""
    wrong_derivatives: tuple = ()  # WrongDerivative of custom ops on this input's path (a mismatch)

    @property
    def difference(self) -> Optional[float]:
        if self.numerical is None:
            return None
        return abs(self.analytic - self.numerical)

    def as_dict(self) -> dict:
        found = {"analytic": self.analytic, "numerical": self.numerical,
                 "difference": _finite_or_none(self.difference), "allowed": _finite_or_none(self.allowed),
                 "status": self.status, "note": self.note or None}
        if self.wrong_derivatives:
            found["wrong_derivatives"] = [wrong._asdict() for wrong in self.wrong_derivatives]
        return found


class WrongDerivative(NamedTuple):
    """A custom op's written derivative that disagrees with its forward at one gate."""

    gate: str
    op: str
    arg: str  # the op's name for the input
    at: dict  # the gate's input values, by the op's names for them
    written: float  # what the op's grads expression gives
    numerical: float  # the central difference of its forward
    more: int = 0  # other gates on the same input's path where this op's d/d(arg) is wrong too


@dataclass
class GradcheckResult:
    eps: float
    atol: float
    rtol: float
    inputs: list[InputCheck] = field(default_factory=list)

    @property
    def failures(self) -> list[InputCheck]:
        return [entry for entry in self.inputs if entry.status == "mismatch"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        return {"passed": self.passed, "eps": self.eps, "atol": self.atol, "rtol": self.rtol,
                "inputs": {entry.name: entry.as_dict() for entry in self.inputs}}


def gradcheck(circuit: Circuit, *, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
              objective: Optional[Objective] = None) -> GradcheckResult:
    """Check d(output)/d(input) of every input at the circuit's current inputs
    (or of `objective`'s parameters: with data, the loss over all rows).

    The circuit's inputs are restored afterwards. Raises `NumericalError`
    only if the unperturbed circuit fails.
    """
    objective = objective if objective is not None else Objective(circuit, circuit.input_names)
    start = objective.get()
    _, analytic = objective.value_and_grad()
    base_branches = _branches_of(objective)
    result = GradcheckResult(eps, atol, rtol)
    local: dict = {name: [] for name in circuit.unused_nodes()}  # custom-op gates checked, by name (unused: none)
    try:
        for index, name in enumerate(objective.names):
            entry = _check_input(objective, index, start, analytic[index], base_branches, eps, atol, rtol)
            if entry.status == "mismatch":
                objective.value()  # back at the starting point, where the gates' inputs are
                entry = _name_wrong_derivatives(circuit, entry, eps, atol, rtol, local)
            result.inputs.append(entry)
    finally:
        objective.set(start)
        objective.value()
    return result


def _check_input(objective: Objective, index: int, start: list[float], analytic: float, base: dict,
                 eps: float, atol: float, rtol: float) -> InputCheck:
    name, x = objective.names[index], start[index]
    outputs, branches = [], []
    for shifted in (x + eps, x - eps):
        params = list(start)
        params[index] = shifted
        objective.set(params)
        try:
            outputs.append(objective.value())
        except NumericalError as err:
            return InputCheck(name, analytic, None, atol, "undefined",
                              f"f cannot be computed at {name} = {shifted!r}: {err}")
        branches.append(_branches_of(objective))
    objective.set(start)
    numerical = (outputs[0] - outputs[1]) / (2 * eps)
    allowed = atol + rtol * abs(numerical)
    kink = _kink_note(objective.circuit, base, branches)
    if kink:
        return InputCheck(name, analytic, numerical, allowed, "kink", kink)
    passed = abs(analytic - numerical) <= allowed
    return InputCheck(name, analytic, numerical, allowed, "ok" if passed else "mismatch")


def _branches_of(objective: Objective) -> dict[int, tuple]:
    """`_branches` of the objective's circuit; with data, of every row (each
    piece a tuple over the rows, and the inputs of the first row at a kink)."""
    rows_of = getattr(objective, "row_branches", None)
    return rows_of() if rows_of is not None else _branches(objective.circuit)


def _name_wrong_derivatives(circuit: Circuit, entry: InputCheck, eps: float, atol: float, rtol: float,
                            local: dict) -> InputCheck:
    """The failing input, with the custom ops on its path whose written
    derivatives disagree with their own forward named in its note: each op
    and arg once, at the first such gate (how many more there are is
    counted). `local` keeps each gate's check for the next input (a gate
    that does not feed the output has none)."""
    first: dict[tuple[str, str], WrongDerivative] = {}
    more: dict[tuple[str, str], int] = {}
    reached = {circuit.index[entry.name]}
    for step in circuit.tape:
        if reached.isdisjoint(step.ins):
            continue
        reached.add(step.out)
        if not step.op.custom:
            continue
        gate = circuit.names[step.out]
        if gate not in local:
            local[gate] = _wrong_at(circuit, step, eps, atol, rtol)
        for slot, wrong in local[gate]:
            if slot in reached:
                key = (wrong.op, wrong.arg)
                if key in first:
                    more[key] = more.get(key, 0) + 1
                else:
                    first[key] = wrong
    if not first:
        return entry
    found = tuple(wrong._replace(more=more.get(key, 0)) for key, wrong in first.items())
    return InputCheck(entry.name, entry.analytic, entry.numerical, entry.allowed, entry.status,
                      "; ".join(map(_wrong_text, found)), found)


def _wrong_at(circuit: Circuit, step, eps: float, atol: float, rtol: float) -> list:
    """(slot, WrongDerivative) for each input of a custom-op gate whose
    written derivative disagrees with a central difference of the op's forward."""
    values, op = circuit.values, step.op
    args = tuple(values[slot] for slot in step.ins)
    written = op.derivative(args, values[step.out])
    found = []
    for index, slot in enumerate(step.ins):
        slope = _slope(op.forward, args, index, eps)
        if slope is not None and not abs(written[index] - slope) <= atol + rtol * abs(slope):
            found.append((slot, WrongDerivative(circuit.names[step.out], op.name, op.arg_names[index],
                                                dict(zip(op.arg_names, args)), written[index], slope)))
    return found


def _wrong_text(wrong: WrongDerivative) -> str:
    at = ", ".join(f"{name} = {value:.10g}" for name, value in wrong.at.items())
    others = f" (and at {wrong.more} more gate{'' if wrong.more == 1 else 's'})" if wrong.more else ""
    return (f"custom op {wrong.op} has a wrong derivative: at gate '{wrong.gate}' ({at}) its grads give "
            f"d/d{wrong.arg} = {wrong.written:.10g}, its forward's slope is {wrong.numerical:.10g}{others}")


def _slope(forward, args: tuple, position: int, eps: float) -> Optional[float]:
    """The central difference of an op's forward in one of its inputs, or
    None where the forward cannot be computed."""
    try:
        shifted = [list(args), list(args)]
        shifted[0][position] += eps
        shifted[1][position] -= eps
        return (forward(*shifted[0]) - forward(*shifted[1])) / (2 * eps)
    except (ArithmeticError, ValueError):
        return None


def _branches(circuit: Circuit) -> dict[int, tuple]:
    """For each piecewise gate feeding the output (an op with a `branch`):
    which piece it is on, and its inputs."""
    unused = set(circuit.unused_nodes())
    found = {}
    for position, step in enumerate(circuit.tape):
        if step.op.branch is None or circuit.names[step.out] in unused:
            continue
        args = tuple(circuit.values[slot] for slot in step.ins)
        found[position] = (step.op.branch(args), args)
    return found


def _kink_note(circuit: Circuit, base: dict, shifted: list[dict]) -> str:
    """Why this input's difference quotient crosses a kink, or ''."""
    for position, (branch, args) in base.items():
        if all(other[position][0] == branch for other in shifted):
            continue
        step = circuit.tape[position]
        gate, op = circuit.names[step.out], step.op
        where = op.kink(args) if op.kink is not None else ""
        if where:
            return f"not differentiable here: gate '{gate}' is {op.name} {where}"
        return (f"not differentiable within eps: gate '{gate}' ({op.name}) reaches its kink within +-eps; "
                "try a smaller eps")
    return ""


def _finite_or_none(value: Optional[float]) -> Optional[float]:
    return value if value is not None and value == value and abs(value) != float("inf") else None
