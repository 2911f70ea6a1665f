"""The engine's fast path: a circuit's forward and backward passes written out
as straight-line Python and compiled once.

The tape interpreter in engine.py pays, per gate, for a loop step, a tuple of
arguments and a call into the op table. An optimization runs the same tape
thousands of times, so here each gate becomes one line of code built from its
op's `code` templates (ops.py), with values and gradients in local variables.
This is the engine's only acceleration; `Circuit.accelerate` is its boundary.
The arithmetic is the same, in the same order, as the interpreter's, so
results are identical to the last bit (tests check it). Errors are not
handled here: on any exception or non-finite result the engine reruns the
interpreter, which names the gate.
"""

from __future__ import annotations

from typing import Callable

from ..ops import HELPERS

# Compiling costs ~100 µs a gate; beyond this it is not worth a run's wait.
MAX_GATES = 50_000


PASSES = ("forward", "backward", "forward_backward")


def compile_pass(circuit, name: str) -> Callable:
    """One pass of `circuit` as a compiled function: forward(values) ->
    output, backward(values, grads), or both at once,
    forward_backward(values, grads) -> output.

    The fused pass is what an optimization step runs: it keeps every value
    in a local variable from the forward half to the backward half. Each
    pass is compiled on its own, as it is first needed: compiling is most of
    the cost, and an optimization needs only one of them.
    """
    namespace: dict = {name: helper.python for name, helper in HELPERS.items()}
    if name == "forward":
        source = _forward_source(circuit, namespace)
    elif name == "backward":
        source = _backward_source(circuit, namespace)
    elif name == "forward_backward":
        source = _fused_source(_forward_source(circuit, namespace), _backward_source(circuit, namespace))
    else:
        raise ValueError(f"no pass named {name!r}; one of {', '.join(PASSES)}")
    exec(compile(source, f"<circuit {circuit.output_name}: {name}>", "exec"), namespace)
    return namespace[name]


def _fused_source(forward_source: str, backward_source: str) -> str:
    """forward's body (minus its return), then backward's body (minus the
    loads of values the forward half already holds), returning the output."""
    forward_lines = forward_source.splitlines(keepends=True)
    backward_lines = backward_source.splitlines(keepends=True)
    body = forward_lines[1:-1]  # drop "def forward(v):" and "return ..."
    loads = [line for line in backward_lines[1:] if line.lstrip().startswith("v") and "= v[" in line]
    rest = [line for line in backward_lines[1:] if line not in loads]
    return "def forward_backward(v, g):\n" + "".join(body) + "".join(rest) + forward_lines[-1]


def _names(circuit) -> list[str]:
    """The expression for each slot: a local for nodes, a literal for constants."""
    names = [f"v{slot}" for slot in range(len(circuit.values))]
    for slot in range(circuit.n_inputs, circuit.n_inputs + circuit.n_constants):
        names[slot] = f"({circuit.values[slot]!r})"
    return names


def _first_gate(circuit) -> int:
    return circuit.n_inputs + circuit.n_constants


def _unpack(names: list[str], start: int, stop: int) -> str:
    if stop <= start:
        return ""
    targets = ", ".join(names[start:stop])
    return f"    {targets}, = v[{start}:{stop}]\n"


def _templates(step, namespace: dict) -> tuple[str, tuple[str, ...]] | None:
    """The op's templates for this arity, or None: then the generated code
    calls the op's functions, which are put in the namespace."""
    op = step.op
    code = op.code(len(step.ins))
    if code is None:
        namespace[f"_forward_{op.name}"] = op.forward
        namespace[f"_derivative_{op.name}"] = op.derivative
    return code


def _forward_source(circuit, namespace: dict) -> str:
    names = _names(circuit)
    lines = ["def forward(v):\n", _unpack(names, 0, circuit.n_inputs)]
    for step in circuit.tape:
        args = [names[slot] for slot in step.ins]
        code = _templates(step, namespace)
        if code is None:
            expression = f"_forward_{step.op.name}({', '.join(args)})"
        else:
            expression = code[0].format(*args)
        lines.append(f"    {names[step.out]} = {expression}\n")
    first = _first_gate(circuit)
    if circuit.tape:
        lines.append(f"    v[{first}:] = [{', '.join(names[first:])}]\n")
    lines.append(f"    return {names[circuit.output]}\n")
    return "".join(lines)


def _backward_source(circuit, namespace: dict) -> str:
    names = _names(circuit)
    first = _first_gate(circuit)
    lines = ["def backward(v, g):\n", _unpack(names, 0, circuit.n_inputs),
             _unpack(names, first, len(names))]
    # How many terms reach each slot: a slot with one term that is a plain
    # copy of its consumer's gradient (an add gate's input) gets no variable
    # of its own; it shares the consumer's, which is final by then.
    terms: dict[int, int] = {}
    for step in circuit._live_reversed:
        for slot in step.ins:
            terms[slot] = terms.get(slot, 0) + 1
    var: dict[int, str] = {circuit.output: f"d{circuit.output}"}
    lines.append(f"    d{circuit.output} = 1.0\n")
    for step in circuit._live_reversed:
        args = [names[slot] for slot in step.ins]
        code = _templates(step, namespace)
        upstream = var[step.out]
        if code is None:
            lines.append(f"    _t = _derivative_{step.op.name}(({', '.join(args)},), {names[step.out]})\n")
            derivatives = [f"_t[{i}]" for i in range(len(args))]
        else:
            derivatives = [template.format(*args, out=names[step.out]) for template in code[1]]
        for slot, derivative in zip(step.ins, derivatives):
            if circuit.is_constant(slot):
                continue
            # upstream * 1.0 and upstream * -1.0 are exact, so these match the interpreter
            term = upstream if derivative == "1.0" else f"-{upstream}" if derivative == "-1.0" \
                else f"{upstream} * ({derivative})"
            if slot in var:
                lines.append(f"    {var[slot]} += {term}\n")
            elif term == upstream and terms[slot] == 1:
                var[slot] = upstream
            else:
                # The interpreter adds the first term to 0.0, which turns a -0.0
                # into 0.0; a plain copy of another gradient needs no such care,
                # since no gradient variable here ever holds -0.0.
                var[slot] = f"d{slot}"
                lines.append(f"    d{slot} = {term}\n" if term == upstream else
                             f"    d{slot} = 0.0 + {term}\n")
    grads = [var.get(slot, "0.0") for slot in range(len(names))]
    lines.append(f"    g[:] = [{', '.join(grads)}]\n")
    return "".join(lines)
