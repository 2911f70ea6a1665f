"""The chain rule, term by term: how backprop made every gradient of a run.

`walk(result)` replays the backward pass of a `RunResult` (at its starting
inputs) and records, for each node, every term it received: the gradient of
the gate it feeds (upstream) times that gate's local derivative with respect
to it, taken from the op table (`OPS[op].derivative`), never recomputed here.
Terms are added in the order the engine adds them, so each node's sum is
bit-for-bit the engine's gradient.

Nodes come in the order backprop finishes them: the output (seeded with 1),
then every gate feeding it in reverse tape order, then the inputs. Constants
have no gradient and are left out; nodes that do not feed the output are
listed as unused.

`render_text` writes the walkthrough for people, with `·` and `∂` (or `*` and
`d` when `ascii=True`, for consoles that cannot show them); `to_json` gives the
same terms for programs. The diagram (`graph.py`) labels its wires with them.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from .numbers import number
from ..results.run import RunResult, row_result


class Term(NamedTuple):  # a tuple: cheap enough for circuits of 100,000 gates
    """One contribution to a node's gradient: upstream · local."""

    gate: str  # the gate the gradient comes from
    position: int  # which of the gate's inputs the node is (0-based)
    repeated: bool  # the node is more than one of that gate's inputs
    upstream: float  # d(output)/d(gate)
    local: float  # d(gate)/d(this input), from the op table
    product: float


class NodeGradient(NamedTuple):
    node: str
    role: Literal["output", "gate", "input"]
    terms: tuple[Term, ...]
    grad: float  # 1 for the output, else the sum of the terms
    unused: bool = False  # does not feed the output: gradient 0, no terms


def walk(result: RunResult) -> list[NodeGradient]:
    """Every input and gate with the terms of its gradient, in backprop order
    (for a spec with data: at its first row, see `row_result`)."""
    result = row_result(result)
    circuit, spec, values = result.circuit, result.spec, result.values
    output = circuit.output_name
    unused = set(circuit.unused_nodes())
    terms: dict[str, list[Term]] = {name: [] for name in circuit.index}
    grads: dict[str, float] = {output: 1.0}
    finished: list[NodeGradient] = []

    for step, refs in reversed(list(zip(circuit.tape, circuit.refs))):
        name = circuit.names[step.out]
        if name in unused:
            continue
        upstream = grads[name] if name == output else _sum(terms[name])
        grads[name] = upstream
        finished.append(NodeGradient(name, "output" if name == output else "gate",
                                     tuple(terms[name]), upstream))
        args = tuple(values[ref] if isinstance(ref, str) else ref for ref in refs)
        local = step.op.derivative(args, values[name])
        repeated = _repeated(refs)
        for position, (ref, derivative) in enumerate(zip(refs, local)):
            if isinstance(ref, str):  # constants get no gradient
                terms[ref].append(Term(name, position, ref in repeated, upstream, derivative,
                                       upstream * derivative))

    for name in circuit.input_names:
        if name not in unused:
            role = "output" if name == output else "input"
            grad = 1.0 if name == output else _sum(terms[name])
            finished.append(NodeGradient(name, role, tuple(terms[name]), grad))
    for name in circuit.index:
        if name in unused:
            finished.append(NodeGradient(name, "input" if circuit.index[name] < circuit.n_inputs else "gate", (), 0.0,
                                         unused=True))
    return finished


def _repeated(refs) -> set:
    """The references a gate uses more than once, in one pass (a gate with
    10,000 inputs must not compare each with all the others)."""
    if len(refs) == 2:
        return {refs[0]} if refs[0] == refs[1] else set()
    seen: set = set()
    twice: set = set()
    for ref in refs:
        if ref in seen:
            twice.add(ref)
        seen.add(ref)
    return twice


def _sum(terms: list[Term]) -> float:
    total = 0.0  # the engine's accumulation, in its order, so the sums agree exactly
    for term in terms:
        total += term.product
    return total


# --------------------------------------------------------------------------
# Text for people

def render_text(result: RunResult, *, ascii: bool = False) -> str:
    """The walkthrough, one equation per node."""
    dot, partial = ("*", "d") if ascii else ("·", "∂")
    first = None
    if result.loss is not None:
        first = (f"  (with data: at data row 1 of {result.rows:,}, for the node the loss reduces; a "
                 "parameter's gradient of the loss adds up such rows)")
        result = row_result(result)
    f = result.circuit.output_name
    steps = walk(result)
    lines = [f"chain rule: how backprop made each gradient d{f}/d(node), from the output back to the inputs"]
    if first is not None:
        lines.append(first)
    circuit = result.circuit
    announced: set[str] = set()
    custom = {circuit.names[tape_step.out]: tape_step.op for tape_step in circuit.tape if tape_step.op.custom}
    for step in steps:
        if step.unused:
            continue
        group = circuit.group_of(step.node)
        if group is not None and group not in announced:  # say once where generated nodes come from
            announced.add(group)
            lines.append(f"  [{_group_text(circuit, group)}]")
        op = custom.get(step.node)
        if op is not None and op.name not in announced:  # and what a custom op computes
            announced.add(op.name)
            lines.append(f"  [{op.name} is a custom op of this spec: {op.name}({', '.join(op.arg_names)}) = "
                         f"{op.formula}; {op.gradient}]")
        left = f"d{f}/d{step.node}"
        if step.role == "output":
            lines.append(f"  {left} = 1  (the output: backprop starts here)")
            continue
        symbols = " + ".join(f"d{f}/d{t.gate} {dot} {partial}{t.gate}/{partial}{_wire(step.node, t)}"
                             for t in step.terms)
        products = " + ".join(f"{number(t.upstream)} {dot} {number(t.local)}" for t in step.terms)
        equation = f"  {left} = {symbols} = {products}"
        if len(step.terms) > 1:
            equation += " = " + " + ".join(number(t.product) for t in step.terms)
        lines.append(f"{equation} = {number(step.grad)}")
    lines.append(f"  ({partial}g/{partial}a is gate g's local derivative with respect to its input a, "
                 "from the op table" + (" (a custom op's: from its grads)" if custom else "") + ("; a[k]: a as the gate's k-th input" if _any_repeated(steps) else "")
                 + ")")
    constants = sorted({ref for refs in result.circuit.refs for ref in refs if not isinstance(ref, str)})
    if constants:
        lines.append("  constants get no gradient: " + ", ".join(number(c) for c in constants))
    unused = [step.node for step in steps if step.unused]
    if unused:
        lines.append(f"  unused (they do not feed {f}, gradient 0): " + ", ".join(unused))
    return "\n".join(lines) + "\n"


def _group_text(circuit, name: str) -> str:
    group = circuit.groups[name]
    if group.kind == "formula":
        steps = f"{name}.1" in circuit.index
        return f"formula {name} = {group.formula}" + (f"; its steps are {name}.1, {name}.2, ... and {name}"
                                                     if steps else "")
    copies = f", {group.copies} copies {name}.n0 ... {name}.n{group.copies - 1}" if group.copies > 1 else ""
    return f"{name}.* are the nodes of {name}, an instance of module {group.module}{copies}"


def _wire(node: str, term: Term) -> str:
    return f"{node}[{term.position + 1}]" if term.repeated else node


def _any_repeated(steps: list[NodeGradient]) -> bool:
    return any(term.repeated for step in steps for term in step.terms)


# --------------------------------------------------------------------------
# JSON for programs (the `explain` member of --format json)

def to_json(result: RunResult) -> list[dict]:
    """Per node, in backprop order: its terms and their sum (`grad`).

    A term's `input` is the node's 0-based position in the `in` list of the
    gate it comes from (`from`).
    """
    entries = []
    result = row_result(result)
    for step in walk(result):
        entry: dict = {"node": step.node, "role": step.role, "grad": step.grad,
                       "terms": [{"from": t.gate, "input": t.position, "upstream": t.upstream,
                                  "local": t.local, "product": t.product} for t in step.terms]}
        group = result.circuit.group_of(step.node)
        if group is not None:
            entry["group"] = group
        if step.unused:
            entry["unused"] = True
        entries.append(entry)
    return entries
