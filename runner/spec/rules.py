"""Every rule of the spec format about single values, written once.

Each rule is a small function: it takes what the file holds and returns the
value to use, or raises `Invalid` with a message written for a person. The
pydantic models (models.py) call these rules through their validators, and
the fast path (fast_path.py) calls the very same functions, so a rule
tightened here is tightened everywhere. Rules about the wiring (references,
arity, cycles) live in wiring.py; the op table's arities in ops.py.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

from ..limits import MAX_ITERATIONS

# ---- names ------------------------------------------------------------------

NAME_BODY = r"[A-Za-z_][A-Za-z0-9_]*"  # what a node name is
NAME_PATTERN = f"^{NAME_BODY}$"
# Nodes that formulas and modules make are named after what made them,
# with dots: `f.1`, `h1.n3.w0`. A user's names have no dot, so they never clash.
NODE_PATTERN = rf"^{NAME_BODY}(?:\.[A-Za-z0-9_]+)*$"
NODE = re.compile(NODE_PATTERN[1:-1] + r"\Z")
NAME = re.compile(NAME_BODY + r"\Z")
RESERVED_NAMES = frozenset({"true", "false", "null"})
NAME_RULE = "use letters, digits and '_', not starting with a digit"


def is_reserved(name: str) -> bool:
    """`true`, `false` and `null` in any case: YAML readers disagree on what they mean."""
    return len(name) in (4, 5) and name.lower() in RESERVED_NAMES


def is_name(value: Any) -> bool:
    """A well-formed, unreserved node name."""
    return isinstance(value, str) and NAME.match(value) is not None and not is_reserved(value)


# ---- numbers ----------------------------------------------------------------

class Invalid(ValueError):
    """A value breaks a rule; the message says which and how to fix it."""


def describe(value: Any) -> str:
    """'a list', 'the string \\'x\\'' … for messages about wrong types."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        text = repr(value)
        return f"the number {text}" if len(text) <= 40 else f"a {len(text)}-digit number"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def number(value: Any) -> float:
    """A finite number (booleans are not numbers, whatever Python says)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"expected a number, got {describe(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise Invalid("the number is too large to represent (the limit is about 1.8e308)") from None
    if not math.isfinite(result):
        raise Invalid(f"must be a finite number, not {describe(value)}")
    return result


def positive(value: Any) -> float:
    """A step, h or tolerance: a finite number above 0."""
    result = number(value)
    if result <= 0:
        raise Invalid(f"must be greater than 0, got {result}")
    return result


def non_negative(value: Any) -> float:
    result = number(value)
    if result < 0:
        raise Invalid(f"must be 0 or more, got {result}")
    return result


def fraction(value: Any) -> float:
    """A decay rate: 0 <= x < 1."""
    result = number(value)
    if not 0 <= result < 1:
        raise Invalid(f"must be at least 0 and below 1, got {result}")
    return result


def whole(value: Any) -> int:
    """An integer; 3.0 counts as 3."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"expected a whole number, got {describe(value)}")
    return value


def step_count(value: Any) -> int:
    """How many steps a run took: a whole number, 0 or more."""
    count = whole(value)
    if count < 0:
        raise Invalid(f"must be 0 or more, got {count}")
    return count


def iterations(value: Any) -> int:
    count = whole(value)
    if not 0 <= count <= MAX_ITERATIONS:
        raise Invalid(f"must be between 0 and {MAX_ITERATIONS:,}, got {count}")
    return count


_RANDOM_INIT = re.compile(r"\s*(uniform|normal)\(\s*([^,()\s]+)\s*,\s*([^,()\s]+)\s*\)\s*\Z")


def random_init(value: Any) -> str:
    """A parameter's random starting value: 'uniform(A, B)' or 'normal(MEAN, STD)'."""
    if not isinstance(value, str):
        raise Invalid(f"expected a number or 'uniform(A, B)', got {describe(value)}")
    match = _RANDOM_INIT.match(value)
    numbers = None
    if match is not None:
        try:
            numbers = float(match[2]), float(match[3])
        except ValueError:
            pass
    if match is None or numbers is None or not all(map(math.isfinite, numbers)):
        raise Invalid(f"'{value}' is not a random init; write uniform(A, B) or normal(MEAN, STD) with "
                      "numbers A < B (or MEAN and STD >= 0)")
    low, high = numbers
    if match[1] == "uniform" and not low < high:
        raise Invalid(f"uniform({match[2]}, {match[3]}) needs A < B")
    if match[1] == "normal" and high < 0:
        raise Invalid(f"normal({match[2]}, {match[3]}) needs STD >= 0")
    return value


def random_init_parts(value: str) -> tuple[str, float, float]:
    """('uniform', A, B) or ('normal', MEAN, STD) of a valid random init."""
    match = _RANDOM_INIT.match(value)
    if match is None:
        raise Invalid(f"'{value}' is not a random init")
    return match[1], float(match[2]), float(match[3])


# ---- rules between fields ---------------------------------------------------
# Each returns the problem's message, or None when the fields agree.

def min_problem(value: Optional[float], low: Optional[float]) -> Optional[str]:
    """An input's `min` must not be above its starting value."""
    if low is not None and value is not None and low > value:
        return f"min {low} is above the input's value {value}; need min <= value <= max"
    return None


def max_problem(value: Optional[float], low: Optional[float], high: Optional[float]) -> Optional[str]:
    """An input's `max` must not be below its `min` or its starting value."""
    if high is None:
        return None
    if low is not None and high < low:
        return f"max {high} is below min {low}"
    if value is not None and high < value:
        return f"max {high} is below the input's value {value}; need min <= value <= max"
    return None


GOALS = ("maximize", "minimize")
METHODS = ("analytic", "numerical", "random")
OPTIMIZERS = ("sgd", "momentum", "adam")
STOPS = ("iterations", "tolerance", "stalled", "diverged")  # why an optimization ended
# Other names people use for a method or an optimizer -> the spec's word, for "did you mean"
SYNONYMS = {
    "backprop": "analytic", "backpropagation": "analytic", "autodiff": "analytic", "autograd": "analytic",
    "exact": "analytic", "gradient": "analytic", "finite_difference": "numerical",
    "finite-difference": "numerical", "finite_differences": "numerical", "finite-differences": "numerical",
    "random_search": "random", "random-search": "random", "search": "random",
    "gd": "sgd", "gradient_descent": "sgd", "gradient-descent": "sgd", "gradient_ascent": "sgd",
}


def tolerance_problem(method: Optional[str]) -> Optional[str]:
    """`tolerance` stops a gradient run; random search has no such stop."""
    if method == "random":
        return ("random search has no tolerance stop (it runs all its iterations); remove 'tolerance' "
                "or use method analytic or numerical")
    return None


def optimizer_problem(method: Optional[str]) -> Optional[str]:
    """An optimizer turns gradients into steps; random search has none."""
    if method == "random":
        return "random search uses no optimizer; remove 'optimizer' or use method analytic or numerical"
    return None


# which optimizer each optimizer setting belongs to
SETTING_OWNER = {"momentum": "momentum", "beta1": "adam", "beta2": "adam", "eps": "adam"}


def setting_problem(setting: str, optimizer: Optional[str]) -> Optional[str]:
    """`momentum`, `beta1`, … only with the optimizer that uses them
    (`optimizer` None: not given, so nothing to disagree with)."""
    owner = SETTING_OWNER[setting]
    if optimizer is not None and optimizer != owner:
        return (f"'{setting}' is a setting of optimizer {owner}, but the optimizer is {optimizer}; "
                f"add 'optimizer: {owner}' or remove '{setting}'")
    return None


OPTIMIZED_WITHOUT_OPTIMIZE = ("expects optimized results, but the spec has no 'optimize' block; "
                              "add one or remove this")


# ---- data, loss and metrics -------------------------------------------------

REDUCTIONS = ("mean", "sum")
# the metrics of a classifier by sign: a score > 0 predicts the label +1, else -1
METRICS = ("accuracy", "errors", "precision", "recall")
LABELS = (-1.0, 1.0)


def data_source_problem(has_rows: bool, has_file: bool) -> Optional[str]:
    """Data comes from inline `rows` or a CSV `file`, exactly one of them."""
    if has_rows and has_file:
        return "give either 'rows' or 'file', not both"
    if not has_rows and not has_file:
        return "give the data as 'rows: [[...], ...]' or as 'file: NAME.csv'"
    return None


def row_length_problem(row: Any, columns: int) -> Optional[str]:
    """Every data row has one cell per column."""
    if isinstance(row, list) and len(row) != columns:
        return f"the row has {len(row)} cell{'s' if len(row) != 1 else ''}, but there are {columns} columns"
    return None


def label_problem(value: float, column: str) -> Optional[str]:
    """A label of sign metrics is -1 or +1."""
    if value not in LABELS:
        return (f"label {value:g} in column '{column}' is not -1 or +1; sign metrics need labels "
                "-1 and +1 (map 0/1 labels to -1/+1)")
    return None


def batch_size(value: Any) -> int:
    """How many rows a minibatch holds: a whole number from 1 up."""
    count = whole(value)
    if count < 1:
        raise Invalid(f"must be at least 1, got {count}")
    return count


LOSS_IS_MINIMIZED = ("a loss is minimized, never maximized; remove 'goal' or write 'goal: minimize'")
