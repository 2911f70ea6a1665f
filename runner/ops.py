"""The op table: every gate kind, its arity, forward function and local derivative.

This table is the single source of truth for what a gate does; every other
part of circuit-run reads it: validation (names, arities), the engine (one
generic loop calls `forward` and `derivative`), the compiled fast path and
the page's JavaScript (the `code` templates), formulas (`symbol`), gradient
checks (`branch`, `kink`), diagrams and the docs' op table (`formula`,
`gradient`, `domain`). Adding an op means adding one `Op` row here; the
tests of every op are generated from this table.

`derivative(args, out)` returns d(out)/d(arg_i) for each input, given the
input values and the gate's own forward value (so sigmoid and tanh can reuse
it). Domain errors are left to Python's `math` module, which raises instead
of returning NaN (log of a negative number, sqrt below 0, division by zero,
overflow of exp and pow); the engine turns them into a `NumericalError`
naming the gate.
"""

from __future__ import annotations

import math
from typing import Callable, Hashable, NamedTuple, Optional


class Op(NamedTuple):
    """One row of the table (a named tuple: immutable, and cheap to define at start-up)."""

    name: str
    min_arity: int
    max_arity: Optional[int]  # None: any number of inputs from min_arity up
    forward: Callable[..., float]
    derivative: Callable[[tuple, float], tuple]
    formula: str  # forward, for people (docs, diagrams)
    gradient: str  # local derivatives, for people
    # The same computation as expression templates for arity n: a forward
    # expression and one derivative expression per input, over `{0}`, `{1}`,
    # ... (the inputs) and `{out}` (the gate's value), using arithmetic and
    # the HELPERS below only, so that they read the same in Python and in
    # JavaScript. They must compute exactly what `forward`/`derivative`
    # compute; tests check every op, bit for bit. None for an arity whose
    # templates would be too long (a 1,000-input mul): callers use the functions.
    code: Callable[[int], Optional[tuple[str, tuple[str, ...]]]]
    domain: str = ""  # what inputs are allowed, when not all reals
    note: str = ""  # anything else a user should know (docs)
    symbol: str = ""  # the operator that writes it in a formula: "+", "-", "*", "/", "**"
    # Piecewise ops: which piece the inputs are on (the sign of relu's input,
    # the winners of max), and at a point between pieces, where the op has no
    # derivative, what kink it is ("at 0", "with a tie"). Gradient checks use
    # them to tell a kink from a wrong derivative.
    branch: Optional[Callable[[tuple], Hashable]] = None
    kink: Optional[Callable[[tuple], str]] = None
    # A spec's own op (`ops:` of a spec, built by spec/custom_ops.py): the
    # names of its inputs, for messages ("d/da"); empty for the table's ops.
    arg_names: tuple[str, ...] = ()
    custom: bool = False

    def accepts(self, count: int) -> bool:
        return count >= self.min_arity and (self.max_arity is None or count <= self.max_arity)

    @property
    def arity_text(self) -> str:
        if self.max_arity is None:
            return f"at least {self.min_arity}"
        return str(self.min_arity) if self.min_arity == self.max_arity else \
            f"{self.min_arity} to {self.max_arity}"


# --------------------------------------------------------------------------
# Helpers: the functions templates may call, in Python and in JavaScript

def _sigmoid(a: float) -> float:
    # Two branches so that exp never overflows: sigmoid(-1000) is 0, not an error.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _relu(a: float) -> float:
    return a if a > 0 else 0.0


def _step(a: float) -> float:
    """relu's derivative: 1 above 0, else 0."""
    return 1.0 if a > 0 else 0.0


def _sign(a: float) -> float:
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0


def _same(a: float, b: float) -> float:
    """1 where a max/min input equals the winning value, else 0."""
    return 1.0 if a == b else 0.0


def _pow_base(a: float, b: float) -> float:
    """d(a^b)/da = b a^(b-1); 0 when b is 0 (a^0 is constant, even at a = 0)."""
    return b * math.pow(a, b - 1) if b != 0 else 0.0


def _pow_exponent(a: float, out: float) -> float:
    """d(a^b)/db = a^b ln a, which exists only for a > 0; the engine asks for
    it only when the exponent is a node, and reports the NaN as an error."""
    return out * math.log(a) if a > 0 else math.nan


class Helper(NamedTuple):
    python: Callable[..., float]
    javascript: str  # a JavaScript function expression computing the same
    # The same over numpy arrays, element by element, for data (core/batched.py):
    # a Python expression over `np` and `fold` (fold(f, a, rest): f applied
    # left to right), evaluated only when a spec has data, so numpy is not
    # imported otherwise. Errors become inf/nan there, which the caller reports.
    numpy: str = ""


HELPERS: dict[str, Helper] = {
    "_exp": Helper(math.exp, "Math.exp", "np.exp"),
    "_log": Helper(math.log, "Math.log", "np.log"),
    "_sqrt": Helper(math.sqrt, "Math.sqrt", "np.sqrt"),
    "_tanh": Helper(math.tanh, "Math.tanh", "np.tanh"),
    "_sin": Helper(math.sin, "Math.sin", "np.sin"),
    "_cos": Helper(math.cos, "Math.cos", "np.cos"),
    "_abs": Helper(abs, "Math.abs", "np.abs"),
    "_pow": Helper(math.pow, "Math.pow", "np.power"),
    "_max": Helper(max, "Math.max", "lambda a, *rest: fold(np.maximum, a, rest)"),
    "_min": Helper(min, "Math.min", "lambda a, *rest: fold(np.minimum, a, rest)"),
    "_sigmoid": Helper(_sigmoid, "(a) => { if (a >= 0) return 1 / (1 + Math.exp(-a)); "
                                 "const e = Math.exp(a); return e / (1 + e); }",
                       "lambda a: (lambda e: np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))"
                       "(np.exp(-np.abs(a)))"),
    "_relu": Helper(_relu, "(a) => (a > 0 ? a : 0)", "lambda a: np.where(a > 0, a, 0.0)"),
    "_step": Helper(_step, "(a) => (a > 0 ? 1 : 0)", "lambda a: np.where(a > 0, 1.0, 0.0)"),
    "_sign": Helper(_sign, "(a) => (a > 0 ? 1 : a < 0 ? -1 : 0)", "lambda a: np.sign(a) + 0.0"),
    "_same": Helper(_same, "(a, b) => (a === b ? 1 : 0)", "lambda a, b: np.where(a == b, 1.0, 0.0)"),
    "_pow_base": Helper(_pow_base, "(a, b) => (b !== 0 ? b * Math.pow(a, b - 1) : 0)",
                        "lambda a, b: np.where(b != 0, b * np.power(a, b - 1), 0.0)"),
    "_pow_exponent": Helper(_pow_exponent, "(a, out) => (a > 0 ? out * Math.log(a) : NaN)",
                            "lambda a, out: np.where(a > 0, out * np.log(np.where(a > 0, a, 1.0)), np.nan)"),
}


# --------------------------------------------------------------------------
# Functions of the ops with any number of inputs

def _add(*args: float) -> float:
    total = args[0]
    for value in args[1:]:
        total += value
    return total


def _mul(*args: float) -> float:
    product = 1.0
    for value in args:
        product *= value
    return product


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


def _winner_split(args: tuple, out: float) -> tuple:
    """Gradient 1 to the input that won max/min; a tie splits it evenly."""
    winners = sum(1 for value in args if value == out)
    share = 1.0 / winners
    return tuple(share if value == out else 0.0 for value in args)


def _winners(args: tuple, best: float) -> tuple:
    return tuple(i for i, value in enumerate(args) if value == best)


def _tie(args: tuple, best: float) -> str:
    return "with a tie" if len(_winners(args, best)) > 1 else ""


# --------------------------------------------------------------------------
# Templates

MAX_TEMPLATE_ARITY = 32  # mul's templates grow with the square of its inputs


def _args(n: int) -> list[str]:
    return [f"{{{i}}}" for i in range(n)]


def _fixed(forward: str, *grads: str) -> Callable[[int], tuple[str, tuple[str, ...]]]:
    return lambda n: (forward, grads)


def _add_code(n: int) -> tuple[str, tuple[str, ...]]:
    return " + ".join(_args(n)), ("1.0",) * n


def _mul_code(n: int) -> Optional[tuple[str, tuple[str, ...]]]:
    # the same products, in the same order, as _product_of_others
    names = _args(n)
    if n == 2:
        return "{0} * {1}", ("{1}", "{0}")
    if n > MAX_TEMPLATE_ARITY:
        return None
    grads = []
    for i in range(n):
        left = " * ".join(names[:i]) or "1.0"
        right = " * ".join(reversed(names[i + 1:])) or "1.0"
        grads.append(f"({left}) * ({right})")
    return " * ".join(names), tuple(grads)


def _extreme_code(helper: str) -> Callable[[int], tuple[str, tuple[str, ...]]]:
    """max/min: the winner split of _winner_split, input by input."""
    def code(n: int) -> tuple[str, tuple[str, ...]]:
        names = _args(n)
        winners = " + ".join(f"_same({name}, {{out}})" for name in names)
        return f"{helper}({', '.join(names)})", tuple(f"_same({name}, {{out}}) / ({winners})" for name in names)
    return code


# --------------------------------------------------------------------------
# The table

OPS: dict[str, Op] = {op.name: op for op in (
    Op("add", 2, None, _add, lambda args, out: (1.0,) * len(args), "a + b + ...", "1 for each input",
       _add_code, symbol="+"),
    Op("sub", 2, 2, lambda a, b: a - b, lambda args, out: (1.0, -1.0), "a - b", "1, -1",
       _fixed("{0} - {1}", "1.0", "-1.0"), symbol="-"),
    Op("mul", 2, None, _mul, lambda args, out: _product_of_others(args), "a * b * ...",
       "the product of the other inputs", _mul_code, symbol="*"),
    Op("div", 2, 2, lambda a, b: a / b, lambda args, out: (1.0 / args[1], -args[0] / (args[1] * args[1])),
       "a / b", "1/b, -a/b^2", _fixed("{0} / {1}", "1.0 / {1}", "-{0} / ({1} * {1})"), "b != 0", symbol="/"),
    Op("neg", 1, 1, lambda a: -a, lambda args, out: (-1.0,), "-a", "-1", _fixed("-{0}", "-1.0")),
    Op("pow", 2, 2, math.pow, lambda args, out: (_pow_base(*args), _pow_exponent(args[0], out)), "a^b",
       "b * a^(b-1); a^b * ln(a) (only when b is a node, which needs a > 0)",
       _fixed("_pow({0}, {1})", "_pow_base({0}, {1})", "_pow_exponent({0}, {out})"),
       "a > 0 when b is not an integer or is a node; a != 0 when b < 0",
       "a number as exponent is a constant: then only the base gets a gradient, and a negative base "
       "is fine", symbol="**"),
    Op("square", 1, 1, lambda a: a * a, lambda args, out: (2.0 * args[0],), "a^2", "2a",
       _fixed("{0} * {0}", "2.0 * {0}")),
    Op("sqrt", 1, 1, math.sqrt, lambda args, out: (0.5 / out,), "sqrt(a)", "1 / (2 sqrt(a))",
       _fixed("_sqrt({0})", "0.5 / {out}"), "a >= 0 (a > 0 where a gradient must flow)"),
    Op("exp", 1, 1, math.exp, lambda args, out: (out,), "e^a", "e^a", _fixed("_exp({0})", "{out}"),
       "a <= 709.78 (beyond, e^a overflows)"),
    Op("log", 1, 1, math.log, lambda args, out: (1.0 / args[0],), "ln(a)", "1/a",
       _fixed("_log({0})", "1.0 / {0}"), "a > 0"),
    Op("sigmoid", 1, 1, _sigmoid, lambda args, out: (out * (1.0 - out),), "1 / (1 + e^-a)", "s (1 - s)",
       _fixed("_sigmoid({0})", "{out} * (1.0 - {out})"),
       note="computed without overflow: sigmoid(-1000) is 0, sigmoid(1000) is 1"),
    Op("tanh", 1, 1, math.tanh, lambda args, out: (1.0 - out * out,), "tanh(a)", "1 - t^2",
       _fixed("_tanh({0})", "1.0 - {out} * {out}")),
    Op("relu", 1, 1, _relu, lambda args, out: (_step(args[0]),), "max(0, a)", "1 if a > 0 else 0",
       _fixed("_relu({0})", "_step({0})"), note="no derivative at 0 (the table gives 0 there)",
       branch=lambda args: _sign(args[0]), kink=lambda args: "at 0" if args[0] == 0 else ""),
    Op("abs", 1, 1, abs, lambda args, out: (_sign(args[0]),), "|a|", "sign(a), 0 at 0",
       _fixed("_abs({0})", "_sign({0})"), note="no derivative at 0 (the table gives 0 there)",
       branch=lambda args: _sign(args[0]), kink=lambda args: "at 0" if args[0] == 0 else ""),
    Op("sin", 1, 1, math.sin, lambda args, out: (math.cos(args[0]),), "sin(a)", "cos(a)",
       _fixed("_sin({0})", "_cos({0})")),
    Op("cos", 1, 1, math.cos, lambda args, out: (-math.sin(args[0]),), "cos(a)", "-sin(a)",
       _fixed("_cos({0})", "-_sin({0})")),
    Op("max", 2, None, max, _winner_split, "max(a, b, ...)", "1 to the largest input; a tie splits it evenly",
       _extreme_code("_max"), note="no derivative at a tie (the table splits the gradient)",
       branch=lambda args: _winners(args, max(args)), kink=lambda args: _tie(args, max(args))),
    Op("min", 2, None, min, _winner_split, "min(a, b, ...)", "1 to the smallest input; a tie splits it evenly",
       _extreme_code("_min"), note="no derivative at a tie (the table splits the gradient)",
       branch=lambda args: _winners(args, min(args)), kink=lambda args: _tie(args, min(args))),
)}

OP_NAMES: tuple[str, ...] = tuple(OPS)
