"""The conformance suite of `--engine MODULE:CLASS --conformance`: small
circuits that catch what scalar autodiff engines written by hand get wrong.

Each case is a spec (built here as data, validated and compiled like any
file) run by circuit-run and by the engine, compared by engine_check.py:
- `op-*`: every op of the table, alone (n-input ops also with 3 inputs,
  relu and abs also below 0);
- `const-*`: a number on either side of each operator (`2 + a`, `a + 2`,
  `2 - a`, `2 / a`, `3 ** a`, ...), which needs the reflected methods;
- `reuse-*`, `fan-out-5`: a node used twice by one gate (`a * a`, `a + a`)
  or read by several gates, where backward must add (`+=`), not assign;
- `tie-*`, `kink-*`: max/min with equal inputs, relu and abs at 0; there is
  no derivative there, so any subgradient passes;
- `backward-twice`: `backward()` called twice; the same gradients again or
  twice them both pass, anything else (stale gradients of inner nodes) fails;
- `chain-10`, `chain-1000`, `chain-10000`: x * w * w * ... (w fans out to
  every gate); a recursive topological sort runs out of stack on the long ones.
"""

from __future__ import annotations

import json
from typing import Iterator, NamedTuple, Sequence

from ..ops import OPS
from ..spec.validate import load_spec_text
from .engine_check import EXACT, CaseResult, Judging, check_circuit
from .foreign_engine import ForeignEngine
from .run import run_spec

SAMPLES = (1.5, -0.8, 2.5)  # the inputs a, b, c of the op cases
UNARY_SAMPLE = 0.7  # in every one-input op's domain (log, sqrt)
OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
CHAIN_LENGTHS = (10, 1000, 10000)


class Case(NamedTuple):
    name: str
    about: str  # what it computes, for people
    spec: dict  # inputs, gates, output: a spec as data
    judging: Judging = EXACT


def cases() -> list[Case]:
    return [*_op_cases(), *_constant_cases(), *_reuse_cases(), *_kink_cases(), _twice_case(),
            *(_chain(length) for length in CHAIN_LENGTHS)]


def run_suite(engine: ForeignEngine, names: Sequence[str] | None = None) -> Iterator[CaseResult]:
    """Each case's result, as soon as it is known (all cases, or those in `names`)."""
    for case in cases():
        if names is None or case.name in names:
            yield run_case(engine, case)


def run_case(engine: ForeignEngine, case: Case) -> CaseResult:
    spec = load_spec_text(json.dumps(case.spec), f"<conformance {case.name}>", fmt="json")
    return check_circuit(engine, case.name, run_spec(spec, run_optimization=False), judging=case.judging)


def _spec(inputs: dict, gates: dict) -> dict:
    return {"inputs": inputs, "gates": gates, "output": list(gates)[-1]}


def _op_cases() -> Iterator[Case]:
    for op in OPS.values():
        if op.min_arity == 1:
            yield Case(f"op-{op.name}", f"{op.name}(x) at x = {UNARY_SAMPLE}",
                       _spec({"x": UNARY_SAMPLE}, {"f": {"op": op.name, "in": ["x"]}}))
            if op.branch is not None:
                yield Case(f"op-{op.name}-negative", f"{op.name}(x) at x = {-UNARY_SAMPLE}",
                           _spec({"x": -UNARY_SAMPLE}, {"f": {"op": op.name, "in": ["x"]}}))
            continue
        for arity in (op.min_arity, 3) if op.max_arity is None else (op.min_arity,):
            names = "abc"[:arity]
            suffix = "" if arity == op.min_arity else f"-{arity}"
            yield Case(f"op-{op.name}{suffix}", f"{op.name}({', '.join(names)}) at " +
                       ", ".join(f"{n} = {v}" for n, v in zip(names, SAMPLES)),
                       _spec(dict(zip(names, SAMPLES)), {"f": {"op": op.name, "in": list(names)}}))


def _constant_cases() -> Iterator[Case]:
    a = SAMPLES[0]
    for op, symbol in OPERATORS.items():
        number = 3 if op == "pow" else 2
        yield Case(f"const-{op}-left", f"{number} {symbol} a at a = {a}",
                   _spec({"a": a}, {"f": {"op": op, "in": [number, "a"]}}))
        yield Case(f"const-{op}-right", f"a {symbol} {number} at a = {a}",
                   _spec({"a": a}, {"f": {"op": op, "in": ["a", number]}}))


def _reuse_cases() -> Iterator[Case]:
    a, b = SAMPLES[:2]
    for op in ("add", "sub", "mul", "div"):
        yield Case(f"reuse-{op}-self", f"a {OPERATORS[op]} a at a = {a}",
                   _spec({"a": a}, {"f": {"op": op, "in": ["a", "a"]}}))
    yield Case("fan-out-5", "a feeds five gates: a*b + (a+b) + a*a + a*3 + (a+1)",
               _spec({"a": a, "b": b}, {"g1": {"op": "mul", "in": ["a", "b"]}, "g2": {"op": "add", "in": ["a", "b"]},
                                        "g3": {"op": "mul", "in": ["a", "a"]}, "g4": {"op": "mul", "in": ["a", 3]},
                                        "g5": {"op": "add", "in": ["a", 1]},
                                        "f": {"op": "add", "in": ["g1", "g2", "g3", "g4", "g5"]}}))
    yield Case("reuse-diamond", "(a*2) * (a+1): two paths from a meet again",
               _spec({"a": a}, {"m": {"op": "mul", "in": ["a", 2]}, "n": {"op": "add", "in": ["a", 1]},
                                "f": {"op": "mul", "in": ["m", "n"]}}))


def _kink_cases() -> Iterator[Case]:
    tie = SAMPLES[0]
    for op in ("max", "min"):
        for names in ("ab", "abc"):
            name = f"tie-{op}" + ("" if len(names) == 2 else f"-{len(names)}")
            yield Case(name, f"{op}({', '.join(names)}) with every input {tie}",
                       _spec({n: tie for n in names}, {"f": {"op": op, "in": list(names)}}),
                       Judging("subgradient", {n: (0.0, 1.0) for n in names}, (tuple(names), 1.0)))
    yield Case("kink-relu-0", "relu(x) at x = 0", _spec({"x": 0.0}, {"f": {"op": "relu", "in": ["x"]}}),
               Judging("subgradient", {"x": (0.0, 1.0)}))
    yield Case("kink-abs-0", "abs(x) at x = 0", _spec({"x": 0.0}, {"f": {"op": "abs", "in": ["x"]}}),
               Judging("subgradient", {"x": (-1.0, 1.0)}))


def _twice_case() -> Case:
    a, b = SAMPLES[:2]
    return Case("backward-twice", f"a*b + a, backward() twice, at a = {a}, b = {b}",
                _spec({"a": a, "b": b}, {"m": {"op": "mul", "in": ["a", "b"]}, "f": {"op": "add", "in": ["m", "a"]}}),
                Judging("twice"))


def _chain(length: int) -> Case:
    gates = {"c1": {"op": "mul", "in": ["x", "w"]}}
    for index in range(2, length + 1):
        gates[f"c{index}"] = {"op": "mul", "in": [f"c{index - 1}", "w"]}
    return Case(f"chain-{length}", f"x * w * w * ... ({length:,} mul gates deep) at x = 0.5, w = 1",
                _spec({"x": 0.5, "w": 1.0}, gates))
