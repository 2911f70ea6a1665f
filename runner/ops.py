"""The op table: every gate kind, its arity, forward function and local derivative.

This table is the single source of truth for what a gate does. The engine runs
any op through one generic loop; adding an op means adding one `Op` row here
(and its tests). `derivative(args, out)` returns d(out)/d(arg_i) for each
input, given the input values and the gate's own forward value (so sigmoid
and tanh can reuse it).

Domain errors are left to Python's `math` module, which raises instead of
returning NaN (log of a negative number, sqrt below 0, division by zero,
overflow of exp and pow); the engine turns them into a `NumericalError`
naming the gate.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple


class Op(NamedTuple):
    """One row of the table (a named tuple: immutable, and cheap to define at start-up)."""

    name: str
    min_arity: int
    max_arity: int | None  # None: any number of inputs from min_arity up
    forward: Callable[..., float]
    derivative: Callable[[tuple, float], tuple]
    formula: str  # forward, for docs and diagrams
    gradient: str  # local derivatives, for docs
    domain: str = ""  # what inputs are allowed, when not all reals
    # Optional inline code for the generated fast path (codegen.py): given an
    # arity n, a forward expression and one derivative expression per input,
    # over `{0}`, `{1}`, ... (the inputs) and `{out}` (the gate's value), and
    # the helpers in codegen.HELPERS. They must compute exactly what
    # `forward`/`derivative` compute; tests compare them bit for bit. Ops
    # without code are called through their functions.
    code: Callable[[int], tuple[str, tuple[str, ...]]] | None = None

    def accepts(self, count: int) -> bool:
        return count >= self.min_arity and (self.max_arity is None or count <= self.max_arity)

    @property
    def arity_text(self) -> str:
        if self.max_arity is None:
            return f"at least {self.min_arity}"
        return str(self.min_arity) if self.min_arity == self.max_arity else \
            f"{self.min_arity} to {self.max_arity}"


def _product_of_others(args: tuple) -> tuple:
    if len(args) == 2:
        return (args[1], args[0])
    # prefix/suffix products: exact even when some input is 0
    prefix = [1.0] * len(args)
    for i in range(1, len(args)):
        prefix[i] = prefix[i - 1] * args[i - 1]
    result = [0.0] * len(args)
    suffix = 1.0
    for i in range(len(args) - 1, -1, -1):
        result[i] = prefix[i] * suffix
        suffix *= args[i]
    return tuple(result)


def _add(*args: float) -> float:
    total = args[0]
    for value in args[1:]:
        total += value
    return total


def _args(n: int) -> list[str]:
    return [f"{{{i}}}" for i in range(n)]


def _mul_code(n: int) -> tuple[str, tuple[str, ...]]:
    # the same products, in the same order, as _product_of_others
    names = _args(n)
    if n == 2:
        return "{0} * {1}", ("{1}", "{0}")
    grads = []
    for i in range(n):
        left = " * ".join(names[:i]) or "1.0"
        right = " * ".join(reversed(names[i + 1:])) or "1.0"
        grads.append(f"({left}) * ({right})")
    return " * ".join(names), tuple(grads)


def _fixed(forward: str, *grads: str) -> Callable[[int], tuple[str, tuple[str, ...]]]:
    return lambda n: (forward, grads)


def _mul(*args: float) -> float:
    product = 1.0
    for value in args:
        product *= value
    return product


def _winner_split(args: tuple, out: float) -> tuple:
    """Gradient 1 to the input that won max/min; a tie splits it evenly."""
    winners = sum(1 for value in args if value == out)
    share = 1.0 / winners
    return tuple(share if value == out else 0.0 for value in args)


def _sigmoid(a: float) -> float:
    # Two branches so that exp never overflows: sigmoid(-1000) is 0, not an error.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _pow_derivative(args: tuple, out: float) -> tuple:
    a, b = args
    d_base = b * math.pow(a, b - 1) if b != 0 else 0.0
    # d/d(exponent) = a^b ln a exists only for a > 0; the engine asks for it
    # only when the exponent is a node, and reports NaN there as an error.
    d_exponent = out * math.log(a) if a > 0 else math.nan
    return (d_base, d_exponent)


def _sign(a: float) -> float:
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0


OPS: dict[str, Op] = {op.name: op for op in (
    Op("add", 2, None, _add,
       lambda args, out: (1.0,) * len(args), "a + b + ...", "1 for each input",
       code=lambda n: (" + ".join(_args(n)), ("1.0",) * n)),
    Op("sub", 2, 2, lambda a, b: a - b,
       lambda args, out: (1.0, -1.0), "a - b", "1, -1", code=_fixed("{0} - {1}", "1.0", "-1.0")),
    Op("mul", 2, None, _mul,
       lambda args, out: _product_of_others(args), "a * b * ...", "the product of the other inputs",
       code=_mul_code),
    Op("div", 2, 2, lambda a, b: a / b,
       lambda args, out: (1.0 / args[1], -args[0] / (args[1] * args[1])), "a / b", "1/b, -a/b^2",
       "b != 0", code=_fixed("{0} / {1}", "1.0 / {1}", "-{0} / ({1} * {1})")),
    Op("neg", 1, 1, lambda a: -a,
       lambda args, out: (-1.0,), "-a", "-1", code=_fixed("-{0}", "-1.0")),
    Op("pow", 2, 2, math.pow, _pow_derivative, "a ^ b",
       "b * a^(b-1); a^b * ln(a) (only when b is a node, which needs a > 0)",
       "a > 0 when b is not an integer or is a node; a != 0 when b < 0"),
    Op("square", 1, 1, lambda a: a * a,
       lambda args, out: (2.0 * args[0],), "a^2", "2a", code=_fixed("{0} * {0}", "2.0 * {0}")),
    Op("sqrt", 1, 1, math.sqrt,
       lambda args, out: (0.5 / out,), "sqrt(a)", "1 / (2 sqrt(a))",
       "a >= 0 (a > 0 where a gradient must flow)", code=_fixed("_sqrt({0})", "0.5 / {out}")),
    Op("exp", 1, 1, math.exp,
       lambda args, out: (out,), "e^a", "e^a", "a <= 709.78 (beyond, e^a overflows)",
       code=_fixed("_exp({0})", "{out}")),
    Op("log", 1, 1, math.log,
       lambda args, out: (1.0 / args[0],), "ln(a)", "1/a", "a > 0", code=_fixed("_log({0})", "1.0 / {0}")),
    Op("sigmoid", 1, 1, _sigmoid,
       lambda args, out: (out * (1.0 - out),), "1 / (1 + e^-a)", "s (1 - s)",
       code=_fixed("_sigmoid({0})", "{out} * (1.0 - {out})")),
    Op("tanh", 1, 1, math.tanh,
       lambda args, out: (1.0 - out * out,), "tanh(a)", "1 - t^2",
       code=_fixed("_tanh({0})", "1.0 - {out} * {out}")),
    Op("relu", 1, 1, lambda a: a if a > 0 else 0.0,
       lambda args, out: (1.0 if args[0] > 0 else 0.0,), "max(0, a)", "1 if a > 0 else 0",
       code=_fixed("({0} if {0} > 0 else 0.0)", "(1.0 if {0} > 0 else 0.0)")),
    Op("abs", 1, 1, abs,
       lambda args, out: (_sign(args[0]),), "|a|", "sign(a), 0 at 0",
       code=_fixed("abs({0})", "(1.0 if {0} > 0 else -1.0 if {0} < 0 else 0.0)")),
    Op("sin", 1, 1, math.sin,
       lambda args, out: (math.cos(args[0]),), "sin(a)", "cos(a)", code=_fixed("_sin({0})", "_cos({0})")),
    Op("cos", 1, 1, math.cos,
       lambda args, out: (-math.sin(args[0]),), "cos(a)", "-sin(a)", code=_fixed("_cos({0})", "-_sin({0})")),
    Op("max", 2, None, max, _winner_split, "max(a, b, ...)",
       "1 to the largest input; a tie splits it evenly"),
    Op("min", 2, None, min, _winner_split, "min(a, b, ...)",
       "1 to the smallest input; a tie splits it evenly"),
)}

OP_NAMES: tuple[str, ...] = tuple(OPS)

# Points where an op has no derivative (the table gives a one-sided or split
# value there). Gradient checks flag them instead of calling them bugs.
def is_kink(op: str, args: tuple) -> bool:
    if op in ("relu", "abs"):
        return args[0] == 0
    if op in ("max", "min"):
        best = max(args) if op == "max" else min(args)
        return sum(1 for value in args if value == best) > 1
    return False
