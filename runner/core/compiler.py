"""Stage 3: a validated `Spec` -> a `Circuit` (the engine's flat tape).

Gates may be listed in any order; they are sorted here by an iterative
depth-first search, so a 100,000-gate chain compiles without recursion.
Where the file is already in dependency order, the tape keeps that order.
"""

from __future__ import annotations

from itertools import chain, compress, count, islice, repeat
from operator import attrgetter, is_not
from typing import Mapping, NamedTuple

from .engine import Circuit, Step
from ..loading.loader import paused_gc
from ..spec.models import Spec
from ..ops import OPS


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


class Wiring(NamedTuple):
    """What validation already worked out about a big circuit's gates, handed
    to the compiler so it need not go over 100,000s of gates again (see
    quickcheck.py). Valid for circuits without number constants whose gates
    are in dependency order as listed."""

    slots: dict[str, int]  # every input and gate -> its slot: inputs first, then gates as listed
    reads: list[int]  # the slots each gate reads, gate after gate
    refs: list[list]  # each gate's `in` list, gates as listed
    ops: list[str]  # each gate's op, gates as listed


def compile_spec(spec: Spec, overrides: Mapping[str, float] | None = None) -> Circuit:
    """Build the circuit of a spec, with input values from `overrides` where given."""
    with paused_gc():
        return _compile(spec, overrides or {})


def _compile(spec: Spec, overrides: Mapping[str, float]) -> Circuit:
    unknown = [name for name in overrides if name not in spec.inputs]
    if unknown:
        raise KeyError(f"'{unknown[0]}' is not an input of this circuit")
    gates = spec.gates
    order = spec._gate_order or find_cycle_free_order(
        {name: [r for r in gate.in_ if r.__class__ is str] for name, gate in gates.items()})
    assert order is not None, "validation guarantees an acyclic circuit"
    # Column by column with C-speed builtins: a big circuit has 100,000s of gates.
    names: list[str] = list(spec.inputs)
    values: list[float] = [overrides.get(name, entry.value) for name, entry in spec.inputs.items()]
    first_gate = len(names)
    wiring = spec._wiring
    if wiring is None:
        listed = list(gates.values()) if order == list(gates) else list(map(gates.__getitem__, order))
        refs, op_names = list(map(_IN, listed)), list(map(_OP, listed))
        wiring = wire(names, order, refs, op_names)
    if wiring is not None:
        slot, read, refs, op_names = wiring
    else:  # number constants: each distinct one gets a slot, before the gates
        flat = list(chain.from_iterable(refs))
        literals = list(dict.fromkeys(compress(flat, map(is_not, map(type, flat), repeat(str)))))
        slot = dict(zip(names, count()))
        slot.update(zip(literals, count(first_gate)))  # numbers never equal names
        first_gate += len(literals)
        slot.update(zip(order, count(first_gate)))
        names.extend(map(repr, literals))
        values.extend(literals)
        read = list(map(slot.__getitem__, flat))
    n_constants = first_gate - len(spec.inputs)
    names.extend(order)
    values.extend(repeat(0.0, len(order)))
    ins = list(map(tuple, map(islice, repeat(iter(read)), map(len, refs))))
    ops = list(map(OPS.__getitem__, op_names))
    tape = list(map(_new_step, repeat(Step), zip(ops, count(first_gate), ins)))
    trainable = [name for name, entry in spec.inputs.items() if entry.trainable]
    circuit = Circuit(names, values, tape, slot[spec.output_name], len(spec.inputs), n_constants,
                      trainable, refs, index=None if n_constants else slot)
    circuit.bounds = {name: (entry.min, entry.max) for name, entry in spec.inputs.items()
                      if entry.min is not None or entry.max is not None}
    return circuit


def wire(inputs: list[str], order: list[str], refs: list[list], ops: list[str]) -> Wiring | None:
    """The Wiring of gates listed in `order` with their `refs` and `ops`:
    every slot found with one lookup per reference. None when a gate reads a
    number constant (constants take slots too, so the gates' slots move)."""
    slots = dict(zip(inputs, count()))
    slots.update(zip(order, count(len(inputs))))
    try:
        reads = list(map(slots.__getitem__, chain.from_iterable(refs)))
    except KeyError:
        return None
    return Wiring(slots, reads, refs, ops)


_IN, _OP = attrgetter("in_"), attrgetter("op")
_new_step = tuple.__new__  # Step(op, out, ins) from a 3-tuple, without Python code per step
