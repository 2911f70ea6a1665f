"""Independent references that circuit-run's numbers are checked against.

Nothing here imports circuit-run's op code: every op is written again from
the textbook formula, and gradients are estimated by central differences.
Tests of "every op" are generated from `every_op_cases`, which reads the op
table itself, so a new row of runner/ops.py is covered the moment it has a
reference and points here (and fails loudly until it has).
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, Mapping

# An independent implementation of every op, from the textbook formulas.
REFERENCE: dict[str, Callable[..., float]] = {
    "add": lambda *a: math.fsum(a),
    "sub": lambda a, b: a - b,
    "mul": lambda *a: math.prod(a),
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": lambda a, b: a ** b,
    "square": lambda a: a ** 2,
    "sqrt": lambda a: a ** 0.5,
    "exp": math.exp,
    "log": math.log,
    "sigmoid": lambda a: 0.5 * (1.0 + math.tanh(a / 2.0)),  # = 1/(1+e^-a), stable for any a
    "tanh": lambda a: math.tanh(a),
    "relu": lambda a: a if a > 0 else 0.0,
    "abs": math.fabs,
    "sin": math.sin,
    "cos": math.cos,
    "max": lambda *a: max(a),
    "min": lambda *a: min(a),
}

# Points where each op is differentiable, with every arity worth trying.
POINTS: dict[str, list[tuple[float, ...]]] = {
    "add": [(3.0, 4.0), (-2.5, 1e-3, 7.0, 0.5)],
    "sub": [(3.0, 4.0), (-1.5, -7.25)],
    "mul": [(3.0, 4.0), (-2.0, 0.5, 3.0), (2.0, 0.0, 5.0, -1.0)],
    "div": [(3.0, 4.0), (-1.0, 0.25)],
    "neg": [(3.0,), (-0.7,)],
    "pow": [(2.0, 3.0), (1.5, -0.5), (0.7, 2.2)],
    "square": [(3.0,), (-1.25,)],
    "sqrt": [(4.0,), (0.09,)],
    "exp": [(1.0,), (-3.0,)],
    "log": [(2.0,), (0.1,)],
    "sigmoid": [(2.0,), (-1.5,), (0.0,)],
    "tanh": [(0.5,), (-2.0,)],
    "relu": [(3.0,), (-2.0,)],
    "abs": [(3.0,), (-2.0,)],
    "sin": [(0.3,), (2.0,)],
    "cos": [(0.3,), (-2.0,)],
    "max": [(3.0, 4.0), (5.0, -1.0, 2.0)],
    "min": [(3.0, 4.0), (5.0, -1.0, 2.0)],
}

# Points on a kink (no derivative; the table's one-sided or split value is used).
KINKS: dict[str, list[tuple[float, ...]]] = {
    "relu": [(0.0,)], "abs": [(0.0,)], "max": [(4.0, 4.0), (1.0, 4.0, 4.0, 4.0)], "min": [(-2.0, 5.0, -2.0)],
}


def central_difference(f: Callable[..., float], x: list[float], i: int, h: float = 1e-6) -> float:
    """(f(x + h e_i) - f(x - h e_i)) / 2h."""
    plus, minus = list(x), list(x)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


def every_op_cases(ops: Mapping, *, kinks: bool = False) -> Iterator[tuple[str, tuple[float, ...]]]:
    """(op name, arguments) for every op of `ops` at each of its points (and
    its kinks, with `kinks=True`). An op without points raises: a new op must
    say where to test it."""
    for name in ops:
        if name not in POINTS or name not in REFERENCE:
            raise LookupError(f"op {name!r} has no reference or points in tests/reference.py")
        for args in POINTS[name] + (KINKS.get(name, []) if kinks else []):
            yield name, args
