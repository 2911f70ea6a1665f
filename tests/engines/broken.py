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
