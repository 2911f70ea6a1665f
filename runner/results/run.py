"""Stage 5: one spec, start to finish: compile, forward, backward, optimize, check.

This is the Python API's one-call entry point and what the command line
runs per file; its `RunResult` is what every presenter reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Optional, Sequence

from .expectations import CheckResult, check_expectations
from ..core.compiler import compile_spec
from ..core.engine import Circuit
from ..core.objective import Objective
from ..spec.models import Spec
from ..words import counted

if TYPE_CHECKING:  # annotations only; the modules are imported when a run needs them
    from .gradcheck import GradcheckResult
    from ..optimization.optimizer import OptimizationResult
    from ..optimization.trace import Keep, TraceRow


class NodeMap(Mapping[str, float]):
    """name -> number for every input and gate, read by slot from a list.

    A read-only view, so a 1,000,000-gate run needs no extra dict of
    1,000,000 entries per quantity (about 40 bytes a gate each).
    """

    __slots__ = ("_index", "_numbers")

    def __init__(self, index: Mapping[str, int], numbers: Sequence[float]):
        self._index = index
        self._numbers = numbers

    def __getitem__(self, name: str) -> float:
        return self._numbers[self._index[name]]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass
class RunResult:
    """Everything one run computed. `values`, `grads` and `output` are at the
    spec's starting inputs; after an optimization `circuit` itself holds the
    final state (its values and gradients), as `optimization` reports."""

    spec: Spec
    circuit: Circuit
    output: float  # at the starting inputs
    values: Mapping[str, float]  # every input and gate, at the starting inputs (a NodeMap)
    grads: Mapping[str, float]
    optimization: Optional[OptimizationResult] = None
    check: Optional[CheckResult] = None
    numerical_grads: Optional[dict[str, float]] = None
    gradcheck: Optional[GradcheckResult] = None
    warnings: list[str] = field(default_factory=list)
    # A spec with data: {"value", "data", "regularization"} of the loss (the
    # output), the metrics over all rows, and how many rows there are. Nodes
    # that depend on data then have an array of values (and gradients), one per row.
    loss: Optional[dict[str, float]] = None
    metrics: Optional[dict[str, float]] = None
    rows: int = 0
    objective: Optional[Objective] = None

    def final_grads(self) -> dict[str, float]:
        """d(output)/d(input) of every input where the optimization ended
        ({} without one): one more forward and backward pass, since random
        and numerical runs leave no analytic gradients behind."""
        if self.optimization is None:
            return {}
        data = self.spec.netlist.data
        if data is not None:  # the loss over every row, by the inputs that are not columns
            from ..core.data_objective import DataObjective

            names = [name for name in self.circuit.input_names if name not in data.columns]
            every_input: Objective = DataObjective(self.circuit, data, self.spec.loss, self.spec.metrics, names)
        else:
            every_input = Objective(self.circuit, self.circuit.input_names)
        _, grads = every_input.value_and_grad()
        return dict(zip(every_input.names, grads))


def run_spec(spec: Spec, *, overrides: Mapping[str, float] | None = None, run_optimization: bool = True,
             check: bool = False, numerical_h: float | None = None,
             gradcheck: Mapping[str, float] | None = None, keep: Keep | None = None,
             observe: Callable[[TraceRow], None] | None = None, interruptible: bool = False) -> RunResult:
    """Run a validated spec. Raises `NumericalError` if a value goes non-finite
    at the starting inputs; an optimization that diverges later ends with
    `result.optimization.stop == "diverged"` (see `optimize`).

    `numerical_h`, when given, also computes central-difference gradients of
    the inputs with that step, to set beside the analytic ones. `gradcheck`,
    when given (`{}` for the defaults, or eps/atol/rtol), checks the analytic
    gradients against central differences at the starting inputs. `keep` and
    `observe` are passed to `optimize` (which rows to hold; a callback per row),
    and so is `interruptible` (Ctrl-C ends the optimization with the rows so far).
    """
    circuit = compile_spec(spec, overrides)
    if spec.netlist.data is not None:
        return _run_with_data(spec, circuit, run_optimization, check, numerical_h, gradcheck, keep, observe,
                              interruptible)
    output, _ = Objective(circuit).value_and_grad()  # every node's value and gradient, left in the circuit
    # Copies of the slot lists (8 bytes a node): optimization and the
    # gradient checks move the circuit's own values later.
    values = NodeMap(circuit.index, list(circuit.values))
    grads = NodeMap(circuit.index, list(circuit.grads))
    result = RunResult(spec, circuit, output, values, grads)
    unused = circuit.unused_nodes()
    if unused:
        shown = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
        result.warnings.append(f"{counted(len(unused), 'node')} {'does' if len(unused) == 1 else 'do'} not feed the output "
                               f"'{circuit.output_name}' (gradient 0): {shown}")
    if numerical_h is not None:
        every_input = Objective(circuit, circuit.input_names)
        result.numerical_grads = dict(zip(every_input.names, every_input.numerical_grad(numerical_h, central=True)))
    if gradcheck is not None:
        from .gradcheck import gradcheck as run_gradcheck

        result.gradcheck = run_gradcheck(circuit, **gradcheck)
    if spec.optimize is not None and run_optimization:
        from ..optimization.optimizer import optimize

        result.optimization = optimize(circuit, spec.optimize, keep=keep, observe=observe,
                                       interruptible=interruptible)
    if check:
        result.check = check_expectations(spec, output, result.values, grads, result.optimization,
                                          result.final_grads)
    return result


def _run_with_data(spec: Spec, circuit: Circuit, run_optimization: bool, check: bool,
                   numerical_h: float | None, gradcheck: Mapping[str, float] | None, keep: Keep | None,
                   observe: Callable[[TraceRow], None] | None, interruptible: bool) -> RunResult:
    """`run_spec` for a spec with data: the output is the loss over all rows."""
    from ..core.data_objective import DataObjective

    data = spec.netlist.data
    objective = DataObjective(circuit, data, spec.loss, spec.metrics)
    output, _ = objective.value_and_grad()
    value_list, grad_list = objective.node_lists()
    result = RunResult(spec, circuit, output, NodeMap(circuit.index, value_list),
                       NodeMap(circuit.index, grad_list), objective=objective, rows=len(data.rows))
    data_loss, regularization = objective.parts
    result.loss = {"value": output, "data": data_loss, "regularization": regularization}
    result.metrics = objective.metrics()
    names = [name for name in circuit.input_names if name not in data.columns]  # every input but the columns
    if numerical_h is not None:
        every_input = DataObjective(circuit, data, spec.loss, spec.metrics, names)
        result.numerical_grads = dict(zip(names, every_input.numerical_grad(numerical_h, central=True)))
    if gradcheck is not None:
        from .gradcheck import gradcheck as run_gradcheck

        result.gradcheck = run_gradcheck(circuit, objective=DataObjective(circuit, data, spec.loss, spec.metrics,
                                                                          names), **gradcheck)
    if spec.optimize is not None and run_optimization:
        from ..optimization.optimizer import optimize

        result.optimization = optimize(objective, spec.optimize, keep=keep, observe=observe,
                                       interruptible=interruptible)
    if check:
        result.check = check_expectations(spec, output, result.values, result.grads, result.optimization,
                                          result.final_grads, metrics=result.metrics)
    return result


def row_result(result: RunResult, row: int = 0) -> RunResult:
    """A spec with data seen at one of its rows (default the first): a plain
    run of the circuit with each column at that row's value, and the node the
    loss reduces (`loss.of`) as its output, at the run's starting inputs. The
    chain-rule walkthrough and the diagram show this; the loss of the whole
    data set is the sum or mean of such rows. A run without data is returned as it is."""
    if result.loss is None:
        return result
    import copy

    spec, original = result.spec, result.circuit
    circuit = copy.copy(original)
    circuit._compiled = None
    circuit.values = list(original.values)
    circuit.grads = [0.0] * len(original.values)
    for slot, name in enumerate(original.input_names):
        held = result.values[name]
        circuit.values[slot] = float(held[row]) if hasattr(held, "tolist") else float(held)
    of = spec.loss.of if spec.loss is not None and spec.loss.of else original.output_name
    circuit.output = original.index[of]
    circuit._live_reversed = circuit._feeding_output()[::-1]
    output, _ = Objective(circuit).value_and_grad()
    return RunResult(spec, circuit, output, NodeMap(circuit.index, list(circuit.values)),
                     NodeMap(circuit.index, list(circuit.grads)), rows=result.rows)


def by_slot(numbers: Mapping[str, float], circuit: Circuit) -> Sequence[float]:
    """`numbers` (name -> number, e.g. `RunResult.values`) as a list indexed
    by the circuit's slots; the entries of constants' slots are not meaningful.
    Free for a `NodeMap` of that circuit; otherwise built once."""
    if isinstance(numbers, NodeMap) and numbers._index is circuit.index:
        return numbers._numbers
    slots = [0.0] * len(circuit.names)
    for name, slot in circuit.index.items():
        slots[slot] = numbers[name]
    return slots
