"""Dense layers as matrix products: a faster path for training on data.

The plain batched tape (batched.py) runs one array operation per gate: a
layer of 16 neurons over 16 inputs is 256 multiplications, 16 sums, 16 bias
additions and 16 activations, forward and again backward. Here such a layer
is found in the tape and run as one matrix product, one bias addition and
one activation over a (neurons x rows) matrix, as PyTorch's Linear layer
does.

What is recognized is a shape of the tape, not how the spec was written: a
*neuron* is an `add` whose inputs are all two-input `mul`s of a parameter (a
row-free input) and a per-row node, then optionally `add` of a parameter (the
bias), then optionally a one-input op (the activation); every intermediate
node feeds only the next. Neurons that read the same nodes in the same order,
with the same bias and activation pattern, form a *layer*. Everything else
stays a plain step.

This path is used only while an optimization runs (`DataObjective.accelerate`),
since it skips the values of the nodes inside a neuron that reports show; a
differential test runs it against the plain path on the same specs.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from ..ops import OPS
from .batched import BatchedTape, Kernel, kernel
from .engine import Step


class Neuron(NamedTuple):
    inputs: tuple[int, ...]  # the per-row nodes it reads, in order
    weights: tuple[int, ...]  # the parameter multiplying each
    bias: Optional[int]  # the bias parameter, or None
    activation: Optional[Step]  # the activation's step, or None
    out: int  # the neuron's last node
    steps: tuple[int, ...]  # positions on the tape of all its steps


class Layer(NamedTuple):
    inputs: tuple[int, ...]
    weights: tuple[int, ...]  # neuron by neuron: neurons x inputs slots
    biases: Optional[tuple[int, ...]]
    activation: Optional[Kernel]
    outs: tuple[int, ...]
    size: int  # neurons
    wants_input_grads: bool  # whether any input's gradient leads to a parameter
    read_weights: Callable  # values -> the weights, in order (an itemgetter)
    read_biases: Optional[Callable]


class FusedTape:
    """Forward and backward of `batched`'s tape (as far as `target` needs
    for backward), with its dense layers fused."""

    def __init__(self, batched: BatchedTape, target: int, observed: tuple[int, ...] = ()):
        self.batched = batched
        circuit = batched.circuit
        self.circuit = circuit
        self.program: list[Any] = []  # Layer, or (Step, Kernel | None)
        layers = _find_layers(batched, (target, *observed))
        placed: dict[int, Layer] = {}  # first tape position of a layer -> the layer
        skipped: set[int] = set()
        for layer, positions in layers:
            placed[min(positions)] = layer
            skipped.update(positions)
        for position, (step, found) in enumerate(zip(circuit.tape, batched.kernels)):
            if position in placed:
                self.program.append(placed[position])
            if position not in skipped:
                self.program.append((step, found))
        self.layers = [layer for layer, _ in layers]
        # a layer whose inputs are another layer's outputs reads that layer's matrix as it is
        self.layer_outs = {layer.outs for layer in self.layers}
        self.target = target
        needed = {slot for step, _ in batched.live(target) for slot in (step.out, *step.ins)}
        self.backward_program = [item for item in self.program
                                 if (item.outs[0] if isinstance(item, Layer) else item[0].out) in needed]

    def forward(self, values: list) -> None:
        """Like BatchedTape.forward, but the nodes inside a fused neuron get no value."""
        self._inputs: dict[int, Any] = {}
        self._pre: dict[int, Any] = {}
        self._matrices: dict[tuple, Any] = {}  # a layer's outputs -> their (neurons x rows) matrix
        with np.errstate(all="ignore"):
            for item in self.program:
                if isinstance(item, Layer):
                    self._layer_forward(item, values)
                    continue
                step, found = item
                args = [values[slot] for slot in step.ins]
                values[step.out] = step.op.forward(*args) if found is None else found.forward(*args)

    def _layer_forward(self, layer: Layer, values: list) -> None:
        x = self._matrices.get(layer.inputs)
        if x is None:
            x = np.stack([values[slot] for slot in layer.inputs])  # inputs x rows
        weights = np.array(layer.read_weights(values)).reshape(layer.size, len(layer.inputs))
        z = weights @ x
        if layer.read_biases is not None:
            z += np.array(layer.read_biases(values)).reshape(layer.size, 1)
        out = layer.activation.forward(z) if layer.activation is not None else z
        self._inputs[id(layer)] = (x, weights)
        self._pre[id(layer)] = (z, out)
        self._matrices[layer.outs] = out
        for slot, row in zip(layer.outs, out):
            values[slot] = row

    def backward(self, values: list, seed: Any) -> list:
        """Gradients as BatchedTape.backward gives them for the parameters
        and the nodes outside fused neurons."""
        grads: list = [None] * len(values)
        grads[self.target] = seed
        self._pending: dict[tuple, Any] = {}  # a layer's outputs -> the gradient matrix a later layer sent
        batched = self.batched
        with np.errstate(all="ignore"):
            for item in reversed(self.backward_program):
                if isinstance(item, Layer):
                    self._layer_backward(item, grads)
                else:
                    batched.backward_step(*item, values, grads)
        return grads

    def _layer_backward(self, layer: Layer, grads: list) -> None:
        upstream_rows = [grads[slot] for slot in layer.outs]
        upstream = self._pending.pop(layer.outs, None)
        x, weights = self._inputs[id(layer)]
        if any(row is not None for row in upstream_rows):
            rows = np.stack([np.zeros(x.shape[1]) if row is None else np.broadcast_to(row, (x.shape[1],))
                             for row in upstream_rows])
            upstream = rows if upstream is None else upstream + rows
        if upstream is None:
            return
        z, out = self._pre[id(layer)]
        dz = layer.activation.backward(upstream, z, out)[0] if layer.activation is not None else upstream
        for slot, grad in zip(layer.weights, (dz @ x.T).ravel().tolist()):
            held = grads[slot]
            grads[slot] = grad if held is None else held + grad
        if layer.biases is not None:
            for slot, grad in zip(layer.biases, dz.sum(axis=1).tolist()):
                held = grads[slot]
                grads[slot] = grad if held is None else held + grad
        if layer.wants_input_grads:
            dx = weights.T @ dz
            if layer.inputs in self.layer_outs:  # handed to the layer that made them, as a matrix
                held = self._pending.get(layer.inputs)
                self._pending[layer.inputs] = dx if held is None else held + dx
                return
            for slot, row in zip(layer.inputs, dx):
                held = grads[slot]
                grads[slot] = row if held is None else held + row


def _find_layers(batched: BatchedTape, observed: tuple[int, ...]) -> list[tuple[Layer, list[int]]]:
    """The dense layers of the tape, each with the positions of its steps.
    The `observed` nodes (the loss's, the metrics') are never inside a neuron."""
    circuit = batched.circuit
    tape, per_row = circuit.tape, batched.per_row
    producer = {step.out: position for position, step in enumerate(tape)}
    readers: dict[int, list[int]] = {}
    for position, step in enumerate(tape):
        for slot in step.ins:
            readers.setdefault(slot, []).append(position)
    for slot in (circuit.output, *observed):
        readers.setdefault(slot, []).append(-1)  # read from outside the tape
    is_param = [slot < circuit.n_inputs and not per_row[slot] for slot in range(len(circuit.values))]

    def only_reader(slot: int) -> Optional[int]:
        found = readers.get(slot, [])
        return found[0] if len(found) == 1 else None

    neurons: dict[tuple, list[Neuron]] = {}
    for position, step in enumerate(tape):
        neuron = _neuron_at(position, step, tape, per_row, is_param, only_reader)
        if neuron is not None:
            key = (neuron.inputs, neuron.bias is None,
                   None if neuron.activation is None else neuron.activation.op.name)
            neurons.setdefault(key, []).append(neuron)
    layers = []
    for (inputs, _, _), members in neurons.items():
        positions = [p for member in members for p in member.steps]
        first = min(positions)
        if any(producer.get(slot, -1) >= first for slot in inputs):
            continue  # an input is computed after the layer would run: leave it plain
        activation = members[0].activation
        wants = any(_leads_to_a_parameter(slot, circuit, producer, per_row) for slot in inputs)
        weights = tuple(s for m in members for s in m.weights)
        biases = None if members[0].bias is None else tuple(m.bias for m in members)
        layers.append((Layer(inputs, weights, biases, None if activation is None else kernel(activation.op, 1),
                             tuple(m.out for m in members), len(members), wants, _getter(weights),
                             None if biases is None else _getter(biases)), positions))
    return layers


def _getter(slots: tuple[int, ...]) -> Callable:
    """values -> the values at `slots`, always as a tuple."""
    if len(slots) == 1:
        return lambda values: (values[slots[0]],)
    return itemgetter(*slots)


def _neuron_at(position: int, step: Step, tape: list, per_row: list, is_param: list,
               only_reader) -> Optional[Neuron]:
    """The neuron whose weighted sum is the `add` at `position`, or None."""
    if step.op is not OPS["add"] or not per_row[step.out]:
        return None
    inputs, weights, steps = [], [], []
    for slot in step.ins:
        mul_position = _position_of(slot, tape)
        if mul_position is None or only_reader(slot) != position:
            return None
        mul = tape[mul_position]
        if mul.op is not OPS["mul"] or len(mul.ins) != 2:
            return None
        first, second = mul.ins
        if is_param[first] and per_row[second]:
            weights.append(first), inputs.append(second)
        elif is_param[second] and per_row[first]:
            weights.append(second), inputs.append(first)
        else:
            return None
        steps.append(mul_position)
    steps.append(position)
    out, bias, activation = step.out, None, None
    after = only_reader(out)
    if after is not None:
        following = tape[after]
        other = following.ins[1] if following.ins[0] == out else following.ins[0]
        if following.op is OPS["add"] and len(following.ins) == 2 and out in following.ins and \
                other != out and is_param[other]:
            bias, out = other, following.out
            steps.append(after)
            after = only_reader(out)
    if after is not None:
        following = tape[after]
        if following.op.max_arity == 1 and following.op.code(1) is not None:
            activation, out = following, following.out
            steps.append(after)
    return Neuron(tuple(inputs), tuple(weights), bias, activation, out, tuple(steps))


def _position_of(slot: int, tape: list) -> Optional[int]:
    """The tape position of the gate at `slot` (gates are on the tape in slot order)."""
    if not tape:
        return None
    position = slot - tape[0].out
    return position if 0 <= position < len(tape) and tape[position].out == slot else None


def _leads_to_a_parameter(slot: int, circuit, producer: dict, per_row: list) -> bool:
    """Whether the node at `slot` depends on a row-free input (so that its
    gradient is needed on the way to a parameter's)."""
    stack, seen = [slot], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        position = producer.get(node)
        if position is None:
            if node < circuit.n_inputs and not per_row[node]:
                return True
            continue
        stack.extend(circuit.tape[position].ins)
    return False
