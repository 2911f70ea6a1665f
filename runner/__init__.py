"""circuit-run: declarative circuits, their values, gradients and optimization.

The Python API follows the data flow of the command line::

    import runner
    spec = runner.load_spec("circuits/add-multiply.yaml")   # parse + validate
    circuit = runner.compile_spec(spec)                      # a flat tape of gates
    circuit.forward()                                        # -> the output's value
    grads = circuit.backward()                               # -> {name: d(output)/d(name)}
    circuit.numerical_gradient(h=1e-6, central=True)         # -> {input: estimate}
    result = runner.optimize(circuit, spec.optimize)         # -> trace, final values
    everything = runner.run_spec(spec, check=True)           # all of the above at once

Errors are typed: `SpecError` (invalid spec: `.problems` with line and
column) and `NumericalError` (a value or gradient left the finite numbers).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

# The public names and the module each lives in. They are imported on first
# use (PEP 562), so that `circuit-run` and the pytest plugin start without
# loading the whole package.
_EXPORTS = {
    "load_spec": "spec.validate", "load_spec_text": "spec.validate", "compile_spec": "core.compiler",
    "run_spec": "results.run", "RunResult": "results.run", "optimize": "optimization.optimizer",
    "Optimization": "optimization.optimizer", "OptimizationResult": "optimization.optimizer",
    "TraceRow": "optimization.trace", "check_expectations": "results.expectations",
    "CheckResult": "results.expectations", "Spec": "spec.models", "Circuit": "core.engine",
    "Op": "ops", "OPS": "ops", "Limits": "limits", "CircuitRunError": "errors", "SpecError": "errors",
    "NumericalError": "errors", "Problem": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'runner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and editors
    from .results.expectations import CheckResult, check_expectations
    from .core.compiler import compile_spec
    from .core.engine import Circuit
    from .errors import CircuitRunError, NumericalError, Problem, SpecError
    from .limits import Limits
    from .spec.models import Spec
    from .ops import OPS, Op
    from .optimization.optimizer import Optimization, OptimizationResult, optimize
    from .optimization.trace import TraceRow
    from .results.run import RunResult, run_spec
    from .spec.validate import load_spec, load_spec_text
