"""Stage 3: a validated spec's `Netlist` -> a `Circuit` (the engine's flat tape).

Validation has already put the gates in an order where each comes after the
gates it reads; here every node gets a slot (inputs first, then the number
constants, then the gates in that order) and every gate becomes a `Step` of
the tape: its op, its own slot and the slots it reads.
"""

from __future__ import annotations

from typing import Mapping

from ..gc_pause import paused_gc
from ..ops import OPS
from ..spec.models import Spec
from ..spec.netlist import Netlist
from .engine import Circuit, Step


def compile_spec(spec: Spec, overrides: Mapping[str, float] | None = None) -> Circuit:
    """Build the circuit of a spec, with input values from `overrides` where given."""
    with paused_gc():
        return compile_netlist(spec.netlist, overrides or {})


def compile_netlist(netlist: Netlist, overrides: Mapping[str, float]) -> Circuit:
    inputs = netlist.inputs
    unknown = [name for name in overrides if name not in inputs]
    if unknown:
        raise KeyError(f"'{unknown[0]}' is not an input of this circuit")
    gates = netlist.ordered_gates()
    refs = [gate.in_ for gate in gates]
    names = list(inputs)
    values = [overrides.get(name, entry.value) for name, entry in inputs.items()]
    slot = {name: index for index, name in enumerate(names)}
    # Each distinct number constant gets one slot, after the inputs (a number
    # never equals a name, so both can share one lookup table).
    constants = list(dict.fromkeys(ref for each in refs for ref in each if ref.__class__ is not str))
    for constant in constants:
        slot[constant] = len(names)
        names.append(repr(constant))
        values.append(constant)
    for name in netlist.order:
        slot[name] = len(names)
        names.append(name)
        values.append(0.0)
    tape = [Step(OPS[gate.op], slot[name], tuple([slot[ref] for ref in each]))
            for name, gate, each in zip(netlist.order, gates, refs)]
    trainable = [name for name, entry in inputs.items() if entry.trainable]
    circuit = Circuit(names, values, tape, slot[netlist.output], len(inputs), len(constants), trainable, refs)
    circuit.bounds = {name: (entry.min, entry.max) for name, entry in inputs.items()
                      if entry.min is not None or entry.max is not None}
    return circuit
