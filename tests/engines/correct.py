"""A small correct micrograd-style engine: every op of circuit-run's table,
numbers on either side, an iterative topological sort (no recursion limit),
and gradients reset by every backward() (so calling it twice is harmless)."""

from __future__ import annotations

import math


class Value:
    def __init__(self, data, children=(), local=()):
        self.data = float(data)
        self.grad = 0.0
        self._children = children  # the nodes this one was computed from
        self._local = local  # d(self)/d(child), one per child

    def _make(self, data, children, local):
        return type(self)(data, children, local)

    def _wrap(self, other):
        return other if isinstance(other, Value) else type(self)(other)

    # operators, a number on either side
    def __add__(self, other):
        other = self._wrap(other)
        return self._make(self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other):
        return self._wrap(other) + self

    def __sub__(self, other):
        other = self._wrap(other)
        return self._make(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __mul__(self, other):
        other = self._wrap(other)
        return self._make(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return self._wrap(other) * self

    def __truediv__(self, other):
        other = self._wrap(other)
        return self._make(self.data / other.data, (self, other),
                          (1.0 / other.data, -self.data / other.data ** 2))

    def __rtruediv__(self, other):
        return self._wrap(other) / self

    def __pow__(self, other):
        other = self._wrap(other)
        out = self.data ** other.data
        d_base = other.data * self.data ** (other.data - 1) if other.data != 0 else 0.0
        d_exponent = out * math.log(self.data) if self.data > 0 else 0.0
        return self._make(out, (self, other), (d_base, d_exponent))

    def __rpow__(self, other):
        return self._wrap(other) ** self

    def __neg__(self):
        return self._make(-self.data, (self,), (-1.0,))

    def __abs__(self):
        sign = 1.0 if self.data > 0 else -1.0 if self.data < 0 else 0.0
        return self._make(abs(self.data), (self,), (sign,))

    # one-input functions
    def _unary(self, out, derivative):
        return self._make(out, (self,), (derivative,))

    def exp(self):
        out = math.exp(self.data)
        return self._unary(out, out)

    def log(self):
        return self._unary(math.log(self.data), 1.0 / self.data)

    def sqrt(self):
        out = math.sqrt(self.data)
        return self._unary(out, 0.5 / out)

    def tanh(self):
        out = math.tanh(self.data)
        return self._unary(out, 1.0 - out * out)

    def sigmoid(self):
        out = 1.0 / (1.0 + math.exp(-self.data))
        return self._unary(out, out * (1.0 - out))

    def relu(self):
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0)

    def sin(self):
        return self._unary(math.sin(self.data), math.cos(self.data))

    def cos(self):
        return self._unary(math.cos(self.data), -math.sin(self.data))

    def max(self, other):
        other = self._wrap(other)
        share = 1.0 if self.data > other.data else 0.0 if self.data < other.data else 0.5
        return self._make(max(self.data, other.data), (self, other), (share, 1.0 - share))

    def min(self, other):
        other = self._wrap(other)
        share = 1.0 if self.data < other.data else 0.0 if self.data > other.data else 0.5
        return self._make(min(self.data, other.data), (self, other), (share, 1.0 - share))

    def topological_order(self):
        """Every node this one depends on, children before parents (depth-first, without recursion)."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._children)
        return order

    def backward(self):
        order = self.topological_order()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node._children, node._local):
                child.grad += local * node.grad


class Accumulating(Value):
    """PyTorch's convention: backward() adds to the inputs' gradients instead
    of resetting them (inner nodes start from 0 each time)."""

    def backward(self):
        order = self.topological_order()
        for node in order:
            if node._children:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node._children, node._local):
                child.grad += local * node.grad
