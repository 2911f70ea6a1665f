"""Engines that misbehave in ways circuit-run must survive and report."""

from __future__ import annotations

import os
import sys

from engines.correct import Value


class Hangs(Value):
    """backward() never returns."""

    def backward(self):
        while True:
            pass


class Crashes(Value):
    """backward() ends the whole process."""

    def backward(self):
        os._exit(7)


class Chatty(Value):
    """Prints while it works (to stdout, where circuit-run's worker replies travel)."""

    def __init__(self, *args, **kwargs):
        print("making a Value", {"not": "a reply"})
        super().__init__(*args, **kwargs)

    def backward(self):
        sys.stdout.write('{"status": "done"}\n')
        super().backward()


class NoBackward:
    def __init__(self, data):
        self.data = data
        self.grad = 0


not_a_class = 42


class Lazy(Value):
    """backward() computes nothing: every gradient stays 0."""

    def backward(self):
        pass


class ReadsStdin(Value):
    """Reads standard input in backward() (where circuit-run's requests would be)."""

    def backward(self):
        assert sys.stdin.read() == ""
        super().backward()


class GenerousMax(Value):
    """At a tie, max and min give the whole gradient to every winner."""

    def max(self, other):
        other = self._wrap(other)
        if self.data == other.data:
            return self._make(self.data, (self, other), (1.0, 1.0))
        return super().max(other)

    def min(self, other):
        other = self._wrap(other)
        if self.data == other.data:
            return self._make(self.data, (self, other), (1.0, 1.0))
        return super().min(other)


class NoneForUnused(Value):
    """.grad is None until backward() reaches the node: an input the output
    does not depend on keeps None, as a PyTorch tensor does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.grad = None
