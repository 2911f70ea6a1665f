"""One spec, start to finish: compile, forward, backward, optimize, check.

This is the Python API's one-call entry point and what the CLI runs per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from .check import CheckResult, check_expectations
from .compiler import compile_spec
from .engine import Circuit
from .gradcheck import GradcheckResult, gradcheck as run_gradcheck
from .models import Spec
from .optimizer import Keep, OptimizationResult, TraceRow, optimize


@dataclass
class RunResult:
    """Everything one run computed. `values`, `grads` and `output` are at the
    spec's starting inputs; after an optimization `circuit` itself holds the
    final state (its values and gradients), as `optimization` reports."""

    spec: Spec
    circuit: Circuit
    output: float  # at the starting inputs
    values: dict[str, float]  # every input and gate, at the starting inputs
    grads: dict[str, float]
    optimization: Optional[OptimizationResult] = None
    check: Optional[CheckResult] = None
    numerical_grads: Optional[dict[str, float]] = None
    gradcheck: Optional[GradcheckResult] = None
    warnings: list[str] = field(default_factory=list)


def run_spec(spec: Spec, *, overrides: Mapping[str, float] | None = None, run_optimization: bool = True,
             check: bool = False, numerical_h: float | None = None,
             gradcheck: Mapping[str, float] | None = None, keep: Keep | None = None,
             observe: Callable[[TraceRow], None] | None = None) -> RunResult:
    """Run a validated spec. Raises `NumericalError` if a value goes non-finite
    at the starting inputs; an optimization that diverges later ends with
    `result.optimization.stop == "diverged"` (see `optimize`).

    `numerical_h`, when given, also computes central-difference gradients of
    the inputs with that step, to set beside the analytic ones. `gradcheck`,
    when given (`{}` for the defaults, or eps/atol/rtol), checks the analytic
    gradients against central differences at the starting inputs. `keep` and
    `observe` are passed to `optimize` (which rows to hold; a callback per row).
    """
    circuit = compile_spec(spec, overrides)
    output = circuit.forward()
    grads = circuit.backward()
    result = RunResult(spec, circuit, output, circuit.value_map(), grads)
    unused = circuit.unused_nodes()
    if unused:
        shown = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
        result.warnings.append(f"{len(unused)} node{'s' if len(unused) > 1 else ''} do not feed the output "
                               f"'{circuit.output_name}' (gradient 0): {shown}")
    if numerical_h is not None:
        result.numerical_grads = circuit.numerical_gradient(numerical_h, central=True)
    if gradcheck is not None:
        result.gradcheck = run_gradcheck(circuit, **gradcheck)
    if spec.optimize is not None and run_optimization:
        result.optimization = optimize(circuit, spec.optimize, keep=keep, observe=observe)
    if check:
        result.check = check_expectations(spec, output, result.values, grads, result.optimization)
    return result
