"""Stage 3: a validated `Spec` -> a `Circuit` (the engine's flat tape).

Gates may be listed in any order; they are sorted here by an iterative
depth-first search, so a 100,000-gate chain compiles without recursion.
Where the file is already in dependency order, the tape keeps that order.
"""

from __future__ import annotations

from typing import Mapping

from .engine import Circuit, Step
from .loader import paused_gc
from .models import Spec
from .ops import OPS


def find_cycle_free_order(dependencies: Mapping[str, list[str]]) -> list[str] | None:
    """Order the keys of `dependencies` so each comes after those it reads,
    or None when they form a cycle.

    `dependencies[g]` lists what gate `g` reads (names that are not keys, such
    as inputs, are ignored). An iterative depth-first search, so a chain of
    any length sorts without recursion; a file already in dependency order
    keeps its order.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in dependencies:
        if root in state:
            continue
        stack = [(root, iter(dependencies[root]))]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            for dep in pending:
                seen = state.get(dep)
                if seen is None:
                    if dep in dependencies:
                        state[dep] = 1
                        stack.append((dep, iter(dependencies[dep])))
                        break
                elif seen == 1:
                    return None
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return order


def compile_spec(spec: Spec, overrides: Mapping[str, float] | None = None) -> Circuit:
    """Build the circuit of a spec, with input values from `overrides` where given."""
    with paused_gc():
        return _compile(spec, overrides or {})


def _compile(spec: Spec, overrides: Mapping[str, float]) -> Circuit:
    unknown = [name for name in overrides if name not in spec.inputs]
    if unknown:
        raise KeyError(f"'{unknown[0]}' is not an input of this circuit")
    names: list[str] = list(spec.inputs)
    values: list[float] = [overrides.get(name, entry.value) for name, entry in spec.inputs.items()]

    # each distinct number literal gets one slot, in order of appearance
    literals = dict.fromkeys(ref for gate in spec.gates.values() for ref in gate.in_ if ref.__class__ is not str)
    constants = {number: len(names) + index for index, number in enumerate(literals)}
    names.extend(map(repr, literals))
    values.extend(literals)
    n_constants = len(constants)

    gates = spec.gates
    order = spec._gate_order or find_cycle_free_order(
        {name: [r for r in gate.in_ if r.__class__ is str] for name, gate in gates.items()})
    assert order is not None, "validation guarantees an acyclic circuit"
    slot = {name: i for i, name in enumerate(spec.inputs)}
    slot.update(zip(order, range(len(names), len(names) + len(order))))
    names.extend(order)
    values.extend([0.0] * len(order))
    tape = []
    for name in order:
        gate = gates[name]
        tape.append(Step(OPS[gate.op], slot[name],
                         tuple([slot[r] if r.__class__ is str else constants[r] for r in gate.in_])))
    refs = [gates[name].in_ for name in order]
    trainable = [name for name, entry in spec.inputs.items() if entry.trainable]
    circuit = Circuit(names, values, tape, slot[spec.output_name], len(spec.inputs), n_constants,
                      trainable, refs)
    circuit.bounds = {name: (entry.min, entry.max) for name, entry in spec.inputs.items()
                      if entry.min is not None or entry.max is not None}
    return circuit
