"""The page's engine, generated from the op table: one JavaScript forward and
backward function per (op, arity) the tape uses.

Each op row of `ops.py` carries its forward and local derivatives as
expression templates over `{0}`, `{1}`, ... and `{out}`, written with
arithmetic and the `HELPERS` only, which have a JavaScript spelling. Those
templates are what the compiled Python path runs too, so the browser does the
same arithmetic in the same order as the engine: the interpreter's `+=` per
term, the upstream gradient times the local derivative. Nothing about an op
is written twice.

A kind's functions read the step's inputs from the flat `ins` array at
offset `p`: `f(v, ins, p)` returns the gate's value; `b(v, g, w, ins, p, o)`
adds the gate's terms into the inputs' gradients `g` and keeps each term in
`w` (the gradient that wire carries back, for the diagram).
"""

from __future__ import annotations

import json
from typing import Iterable, Optional

from ...ops import HELPERS, Op


def kind_key(op: Op, arity: int) -> str:
    return f"{op.name}/{arity}"


def helpers_source() -> str:
    """`const _exp = Math.exp;` ... for every helper a template may call."""
    return "".join(f"const {name} = {helper.javascript};\n" for name, helper in HELPERS.items())


def kind_source(op: Op, arity: int) -> Optional[str]:
    """The kind's `{op, arity, f, b}` object literal, or None when the op
    has no templates at this arity (then the page cannot run the circuit)."""
    code = op.code(arity)
    if code is None:
        return None
    forward, derivatives = code
    args = [f"x{i}" for i in range(arity)]
    loads = ", ".join(f"x{i} = v[ins[p + {i}]]" for i in range(arity))
    body = [f"const {loads}, out = v[o], u = g[o];"]
    for i, template in enumerate(derivatives):
        body.append(f"const t{i} = u * ({template.format(*args, out='out')});")
    for i in range(arity):
        body.append(f"w[p + {i}] = t{i}; g[ins[p + {i}]] += t{i};")
    return (f"{{op: {json.dumps(op.name)}, arity: {arity},\n"
            f"  f: function (v, ins, p) {{ const {loads}; return {forward.format(*args)}; }},\n"
            f"  b: function (v, g, w, ins, p, o) {{ {' '.join(body)} }}}}")


def engine_source(kinds: Iterable[tuple[Op, int]]) -> str:
    """The helpers and `const KINDS = {"op/arity": {...}, ...}` for the
    given (op, arity) pairs (a spec's custom ops are rows like the table's);
    a kind without templates maps to null."""
    entries = {}
    for op, arity in kinds:
        key = kind_key(op, arity)
        if key not in entries:
            entries[key] = f"{json.dumps(key)}: {kind_source(op, arity) or 'null'}"
    return helpers_source() + "const KINDS = {\n" + ",\n".join(entries.values()) + "\n};\n"
