"""Optimizers: how a gradient becomes a step.

The step is x + step_size * direction to maximize and x - step_size *
direction to minimize; every direction is odd in the gradient, so minimizing
is maximizing with the gradient negated, which is how torch's
`maximize=True` works too. The rules are written as torch.optim.SGD and
torch.optim.Adam define them; the tests compare them with torch's numbers.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..spec.models import Optimize


class Sgd:
    """direction = grad (the rule of Karpathy's guide)."""

    def __init__(self, settings: Optimize):
        pass

    def direction(self, grads: Sequence[float]) -> Sequence[float]:
        return grads

    def settled(self) -> bool:
        """Whether the same gradients would give the same step again (no state to change)."""
        return True


class Momentum:
    """torch.optim.SGD(momentum=mu): v = mu * v + grad (v starts at 0); direction = v."""

    def __init__(self, settings: Optimize):
        self.mu = settings.momentum
        self.velocity: list[float] | None = None
        self.unchanged = False  # the last update left the velocity as it was

    def direction(self, grads: Sequence[float]) -> Sequence[float]:
        mu = self.mu
        velocity = self.velocity or [0.0] * len(grads)
        self.velocity = [mu * v + grad for v, grad in zip(velocity, grads)]
        self.unchanged = self.velocity == velocity
        return self.velocity

    def settled(self) -> bool:
        return self.unchanged


class Adam:
    """torch.optim.Adam: m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2,
    direction = (m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, settings: Optimize):
        self.b1, self.b2, self.eps = settings.beta1, settings.beta2, settings.eps
        self.m: list[float] = []
        self.v: list[float] = []
        self.t = 0
        self.unchanged = False  # the last update left m, v and the bias corrections as they were

    def direction(self, grads: Sequence[float]) -> Sequence[float]:
        self.t += 1
        b1, b2, eps = self.b1, self.b2, self.eps
        correction1 = 1 - b1 ** self.t
        root_correction2 = math.sqrt(1 - b2 ** self.t)
        m_before = self.m or [0.0] * len(grads)
        v_before = self.v or [0.0] * len(grads)
        self.m = m = [b1 * old + (1 - b1) * grad for old, grad in zip(m_before, grads)]
        self.v = v = [b2 * old + (1 - b2) * grad * grad for old, grad in zip(v_before, grads)]
        self.unchanged = m == m_before and v == v_before and correction1 == 1 and root_correction2 == 1
        return [(mean / correction1) / (math.sqrt(var) / root_correction2 + eps) for mean, var in zip(m, v)]

    def settled(self) -> bool:
        return self.unchanged


# the spec's `optimizer` names (rules.OPTIMIZERS) -> their rules
OPTIMIZERS = {"sgd": Sgd, "momentum": Momentum, "adam": Adam}
