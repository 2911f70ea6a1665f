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

from ._version import __version__
from .check import CheckResult, check_expectations
from .compiler import compile_spec
from .engine import Circuit
from .errors import CircuitRunError, NumericalError, Problem, SpecError
from .loader import Limits
from .models import Spec
from .ops import OPS, Op
from .optimize import Optimization, OptimizationResult, TraceRow, optimize
from .run import RunResult, run_spec
from .validate import load_spec, load_spec_text

__all__ = [
    "__version__", "load_spec", "load_spec_text", "compile_spec", "run_spec", "optimize",
    "check_expectations", "Spec", "Circuit", "Op", "OPS", "Optimization", "OptimizationResult",
    "TraceRow", "RunResult", "CheckResult", "Limits", "CircuitRunError", "SpecError",
    "NumericalError", "Problem",
]
