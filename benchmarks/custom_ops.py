"""What a custom op costs, against the same computation written as table ops.

    python benchmarks/custom_ops.py            # a chain of 2,000 swish units
    python benchmarks/custom_ops.py --quick    # 200

Runs in-process with the interpreter that starts it (any venv with circuit-run
installed). Two specs compute the same chain, s_k = swish(a * s_{k-1} + b):

- custom: swish is an op of the spec (`ops:`), one gate per unit, its
  derivative written by hand (`out + sigmoid(a) * (1 - out)`);
- table:  swish written out as `z * sigmoid(z)`, two table gates per unit.

For each it times a forward-and-backward pass on the tape interpreter and on
the compiled fast path (`Circuit.accelerate`), median of several runs, and
prints the ratio custom / table. A custom op runs its expressions as a small
tape of table ops inside one gate, so on the interpreter it costs about what
its steps would cost as gates; compiled, its templates are spelled out inline
like any table op's.
"""

from __future__ import annotations

import argparse
import statistics
import time

import runner
from runner.core.compiler import compile_spec

SWISH = ("ops:\n  swish:\n    args: [a]\n    forward: a * sigmoid(a)\n"
         "    grads: [out + sigmoid(a) * (1 - out)]\n")


def chain(units: int, custom: bool) -> str:
    lines = ["inputs: {x: 0.3, a: 0.9, b: 0.1}", SWISH.rstrip() if custom else "", "gates:", "  s0: x * 1"]
    for k in range(1, units + 1):
        lines.append(f"  z{k}: a * s{k - 1} + b")
        lines.append(f"  s{k}: swish(z{k})" if custom else f"  s{k}: z{k} * sigmoid(z{k})")
    return "\n".join(line for line in lines if line) + "\n"


def prepared(text: str, compiled: bool):
    circuit = compile_spec(runner.load_spec_text(text, "bench.yaml"))
    if compiled:
        circuit.accelerate()
    circuit.forward_backward()  # compiles the fused pass, when compiled
    return circuit


def seconds_per_pass(circuit, passes: int) -> float:
    start = time.perf_counter()
    for _ in range(passes):
        circuit.forward_backward()
    return (time.perf_counter() - start) / passes


def compare(custom: str, table: str, compiled: bool, passes: int = 10, repeat: int = 15) -> tuple[float, ...]:
    """Median seconds per forward-and-backward pass of each, and the median
    ratio of samples taken side by side (the machine's load drifts)."""
    circuits = prepared(custom, compiled), prepared(table, compiled)
    pairs = [(seconds_per_pass(circuits[0], passes), seconds_per_pass(circuits[1], passes)) for _ in range(repeat)]
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(a / b for a, b in pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    options = parser.parse_args()
    units = 200 if options.quick else 2000
    custom, table = chain(units, True), chain(units, False)
    same = [compile_spec(runner.load_spec_text(text, "bench.yaml")) for text in (custom, table)]
    assert same[0].forward() == same[1].forward(), "the two specs must compute the same"
    print(f"a chain of {units:,} swish units: forward and backward, median seconds per pass")
    print(f"{'path':<12}{'custom op':>12}{'table ops':>12}{'ratio':>8}")
    for compiled in (False, True):
        mine, theirs, ratio = compare(custom, table, compiled)
        name = "compiled" if compiled else "interpreter"
        print(f"{name:<12}{mine:>12.6f}{theirs:>12.6f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
