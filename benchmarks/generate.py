"""Generate the benchmark circuits as circuit-run specs (format v1, see SPEC.md).

Three families:

* ``mlp``   micrograd's demo network ``MLP(8, [32, 32, 1])`` on one data point, expanded
            into scalar gates exactly the way micrograd builds its graph, plus a squared
            loss, with an ``optimize`` block that minimizes the loss.
* ``chain`` N unary gates in one line: depth N, the shape that breaks recursive backprop.
* ``dag``   N gates with random wiring (fixed seed): the shape that stresses the
            topological sort, memory locality and fan-out accumulation.

The output format follows the file extension: ``.json`` is written compact (the 10^6-gate
DAG must stay under circuit-run's 64 MiB default file limit) and ``.yaml`` is written as
one flow mapping per gate, the way a person would write it.

Usage::

    python generate.py mlp --iterations 110 -o out/mlp-110.json
    python generate.py chain 1000000 -o out/chain-1000000.json
    python generate.py dag 100000 -o out/dag-100000.yaml
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

# ---------------------------------------------------------------------------------------
# MLP: micrograd's MLP(8, [32, 32, 1]) on one data point
# ---------------------------------------------------------------------------------------

MLP_SHAPE = (8, 32, 32, 1)
MLP_SEED = 1337
MLP_TARGET = 1.0
MLP_STEP_SIZE = 0.01


@dataclass(frozen=True)
class MLPParams:
    """Everything that fixes the MLP function: shared by the spec and the peer scripts.

    ``weights[l][n]`` are the input weights of neuron n of layer l, ``biases[l][n]`` its
    bias. The order (layer, neuron, weights then bias) is micrograd's ``parameters()``.
    """

    shape: tuple[int, ...]
    weights: list[list[list[float]]]
    biases: list[list[float]]
    data: list[float]
    target: float

    def parameters(self) -> list[float]:
        """Flat parameter list in micrograd's ``MLP.parameters()`` order."""
        flat: list[float] = []
        for layer_w, layer_b in zip(self.weights, self.biases):
            for w, b in zip(layer_w, layer_b):
                flat.extend(w)
                flat.append(b)
        return flat

    def nonlinear(self, layer: int) -> bool:
        """micrograd's ``nonlin=i!=len(nouts)-1``: relu everywhere but the last layer."""
        return layer != len(self.shape) - 2


def mlp_params(seed: int = MLP_SEED, shape: tuple[int, ...] = MLP_SHAPE) -> MLPParams:
    """Weights drawn like micrograd's Neuron (uniform(-1, 1), bias 0), from a seeded RNG.

    The data point comes from a second stream so that changing the shape does not change
    the data.
    """
    rng = random.Random(seed)
    weights, biases = [], []
    for nin, nout in zip(shape, shape[1:]):
        weights.append([[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)])
        biases.append([0.0] * nout)
    data_rng = random.Random(seed + 1)
    data = [data_rng.uniform(-1, 1) for _ in range(shape[0])]
    return MLPParams(shape, weights, biases, data, MLP_TARGET)


def mlp_spec(params: MLPParams, iterations: int, step_size: float = MLP_STEP_SIZE) -> dict:
    """Expand the MLP into binary gates in micrograd's order.

    micrograd's Neuron computes ``sum((wi*xi for ...), self.b)``, i.e.
    ``((b + w0*x0) + w1*x1) + ...`` and then ``relu``. Each neuron with ``nin`` inputs
    therefore makes nin ``mul`` gates, nin binary ``add`` gates and (hidden layers) one
    ``relu``; reproducing that order keeps the floating-point results identical to
    micrograd's. The loss ``(out - target)**2`` is micrograd's ``out + (-target)`` followed
    by ``**2``: one ``add`` with a constant and one ``pow`` with a literal exponent.
    """
    inputs: dict[str, object] = {}
    gates: dict[str, dict] = {}
    layer_in = []
    for i, value in enumerate(params.data):
        inputs[f"x{i}"] = {"value": value, "trainable": False}
        layer_in.append(f"x{i}")

    for layer, (layer_w, layer_b) in enumerate(zip(params.weights, params.biases)):
        layer_out = []
        for n, (w, b) in enumerate(zip(layer_w, layer_b)):
            prefix = f"l{layer}n{n}"
            bias = f"b{layer}_{n}"
            inputs[bias] = b
            acc = bias
            for i, (wi, xi) in enumerate(zip(w, layer_in)):
                weight = f"w{layer}_{n}_{i}"
                inputs[weight] = wi
                gates[f"{prefix}_m{i}"] = {"op": "mul", "in": [weight, xi]}
                gates[f"{prefix}_s{i}"] = {"op": "add", "in": [acc, f"{prefix}_m{i}"]}
                acc = f"{prefix}_s{i}"
            if params.nonlinear(layer):
                gates[prefix] = {"op": "relu", "in": [acc]}
                acc = prefix
            layer_out.append(acc)
        layer_in = layer_out

    (out,) = layer_in
    gates["diff"] = {"op": "add", "in": [out, -params.target]}
    gates["loss"] = {"op": "pow", "in": ["diff", 2]}
    return {
        "version": 1,
        "name": f"mlp-{'-'.join(map(str, params.shape))}",
        "description": "micrograd MLP(8, [32, 32, 1]) on one data point, squared loss",
        "inputs": inputs,
        "gates": gates,
        "output": "loss",
        "optimize": {
            "goal": "minimize",
            "method": "analytic",
            "step_size": step_size,
            "iterations": iterations,
        },
    }


def mlp_gate_count(shape: tuple[int, ...] = MLP_SHAPE) -> dict[str, int]:
    """Gate count by the formula, to print beside the count of the generated spec."""
    mlp = 0
    for layer, (nin, nout) in enumerate(zip(shape, shape[1:])):
        relu = layer != len(shape) - 2
        mlp += nout * (2 * nin + relu)
    params = sum(nout * (nin + 1) for nin, nout in zip(shape, shape[1:]))
    return {"mlp_gates": mlp, "loss_gates": 2, "gates": mlp + 2, "parameters": params}


# ---------------------------------------------------------------------------------------
# Chain: depth N
# ---------------------------------------------------------------------------------------

CHAIN_CYCLE = ("sin", "neg", "tanh", "neg")


def chain_spec(n: int) -> dict:
    """x -> sin -> neg -> tanh -> neg -> sin -> ... (n gates).

    sin and tanh are near-identities close to 0, so the value shrinks only like
    sqrt(3/k) (about 2e-3 after 10^6 gates) and the gradient decays polynomially (about
    7e-9 at the input after 10^6 gates): finite, never subnormal, numerically boring.
    """
    gates = {}
    prev = "x"
    for k in range(1, n + 1):
        name = f"g{k}"
        gates[name] = {"op": CHAIN_CYCLE[(k - 1) % len(CHAIN_CYCLE)], "in": [prev]}
        prev = name
    return {"version": 1, "name": f"chain-{n}", "inputs": {"x": 1.0}, "gates": gates,
            "output": prev}


# ---------------------------------------------------------------------------------------
# Random DAG
# ---------------------------------------------------------------------------------------

DAG_WINDOW = 64
BOUNDED_OPS = ("add", "mul", "sin", "tanh", "cos")
UNARY_OPS = ("sin", "tanh", "cos")


def dag_spec(n: int, seed: int = 0) -> dict:
    """A random DAG of n gates (plus one final ``add``) whose values stay in [-2, 2].

    Each gate reads a *local* operand (a random node of the last DAG_WINDOW) and, for
    binary ops, a *global* one (uniform over every earlier node, inputs included), so the
    graph has both short and long edges; its depth is about n / 30, not n.

    Liveness: a node about to leave the window unread is taken as the local operand, and
    the output is an ``add`` of the few gates nobody read. So every gate feeds the
    output and backward does as much work as forward.

    Finiteness: inputs are in [-1, 1]; ``mul``, ``sin``, ``tanh`` and ``cos`` keep values in
    [-1, 1] ("bounded"); ``add`` of two bounded values is in [-2, 2] and may only feed the
    unary ops. Every local derivative is at most 1 in magnitude (``add``'s is 1), so
    gradients cannot blow up along the many paths.
    """
    rng = random.Random(seed)
    n_inputs = max(2, min(1000, n // 100))
    names = [f"x{i}" for i in range(n_inputs)]
    inputs = {name: rng.uniform(-1, 1) for name in names}
    bounded = [True] * n_inputs
    read = bytearray(n_inputs)
    unread: deque[int] = deque()  # gates not yet read, oldest first
    gates: dict[str, dict] = {}

    for j in range(n):
        count = len(names)
        a = _local_operand(j, count, n_inputs, unread, read, rng)
        b = rng.randrange(count)
        op = rng.choice(BOUNDED_OPS if bounded[a] and bounded[b] else UNARY_OPS)
        operands = [a, b] if op in ("add", "mul") else [a]
        for i in operands:
            read[i] = 1
        name = f"g{j}"
        gates[name] = {"op": op, "in": [names[i] for i in operands]}
        names.append(name)
        bounded.append(op != "add")
        read.append(0)
        unread.append(count)

    sinks = [names[i] for i in unread if not read[i]]
    output = sinks[0]
    if len(sinks) > 1:
        output = "out"
        gates[output] = {"op": "add", "in": sinks}
    return {"version": 1, "name": f"dag-{n}", "inputs": inputs, "gates": gates,
            "output": output}


def _local_operand(j: int, count: int, n_inputs: int, unread: deque, read: bytearray,
                   rng: random.Random) -> int:
    """The first n_inputs gates read one input each, so every input is used; after that,
    the oldest unread gate if it is about to leave the window, else a random recent gate.
    """
    if j < n_inputs:
        return j
    while unread and read[unread[0]]:
        unread.popleft()
    if unread and unread[0] <= count - DAG_WINDOW:
        return unread.popleft()
    lo = max(n_inputs, count - DAG_WINDOW)
    return rng.randrange(lo, count)


def trace_spec(iterations: int) -> dict:
    """The seed's two-gate circuit, optimized for many steps: a long trace, tiny graph."""
    return {
        "version": 1,
        "name": f"trace-{iterations}",
        "inputs": {"x": -2.0, "y": 5.0, "z": {"value": -4.0, "trainable": False}},
        "gates": {"q": {"op": "add", "in": ["x", "y"]}, "f": {"op": "mul", "in": ["q", "z"]}},
        "output": "f",
        "optimize": {"goal": "maximize", "method": "analytic", "step_size": 1e-6,
                     "iterations": iterations},
    }


# ---------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------


def write_spec(spec: dict, path: Path) -> Path:
    """Write by extension: compact JSON, or YAML with one flow mapping per gate."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        with path.open("w") as f:
            json.dump(spec, f, separators=(",", ":"))
    elif path.suffix in (".yaml", ".yml"):
        with path.open("w") as f:
            f.writelines(yaml_lines(spec))
    else:
        raise ValueError(f"{path}: extension must be .json or .yaml")
    return path


def yaml_lines(spec: dict):
    """Emit YAML by hand: PyYAML's emitter is slow for 10^5 gates, and writing it here
    keeps every float in a form both YAML 1.1 (PyYAML) and 1.2 read as a number."""
    for key, value in spec.items():
        if isinstance(value, dict):
            yield f"{key}:\n"
            for name, item in value.items():
                yield f"  {name}: {yaml_flow(item)}\n"
        else:
            yield f"{key}: {yaml_flow(value)}\n"


def yaml_flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return yaml_float(value)
    if isinstance(value, str) and value[:1].isalpha():
        return value
    return json.dumps(value)


def yaml_float(x: float) -> str:
    """repr, with a '.' in the mantissa: PyYAML (YAML 1.1) reads ``1e-05`` as a string."""
    if not math.isfinite(x):
        raise ValueError(f"non-finite number {x!r}")
    text = repr(x)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def describe(spec: dict) -> str:
    return f"{spec['name']}: {len(spec['inputs'])} inputs, {len(spec['gates'])} gates"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    mlp = sub.add_parser("mlp", help="micrograd's MLP(8, [32, 32, 1]) with a squared loss")
    mlp.add_argument("--iterations", type=int, default=100)
    mlp.add_argument("--seed", type=int, default=MLP_SEED)
    chain = sub.add_parser("chain", help="a chain of N unary gates")
    chain.add_argument("n", type=int)
    dag = sub.add_parser("dag", help="a random DAG of N gates")
    dag.add_argument("n", type=int)
    dag.add_argument("--seed", type=int, default=0)
    trace = sub.add_parser("trace", help="the two-gate circuit optimized N steps")
    trace.add_argument("iterations", type=int)
    for p in (mlp, chain, dag, trace):
        p.add_argument("-o", "--output", type=Path, required=True, help="a .json or .yaml file")
    args = parser.parse_args(argv)

    if args.kind == "mlp":
        spec = mlp_spec(mlp_params(args.seed), args.iterations)
        counts = mlp_gate_count()
        print(f"MLP{MLP_SHAPE}: {counts['mlp_gates']} gates in the network "
              f"(per neuron: nin mul + nin add + relu on hidden layers; "
              f"32*17 + 32*65 + 1*64) + {counts['loss_gates']} loss gates = "
              f"{counts['gates']}; {counts['parameters']} trainable parameters",
              file=sys.stderr)
    elif args.kind == "chain":
        spec = chain_spec(args.n)
    elif args.kind == "dag":
        spec = dag_spec(args.n, args.seed)
    else:
        spec = trace_spec(args.iterations)
    write_spec(spec, args.output)
    print(f"{args.output}: {describe(spec)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
