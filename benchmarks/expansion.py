"""What formulas and modules cost, against the same circuits written as plain gates.

    python benchmarks/expansion.py            # 10^6-node module spec, 10^5-step formula spec
    python benchmarks/expansion.py --quick    # a tenth of each

Runs with the interpreter that starts it (any venv with circuit-run installed).
For each pair it writes both specs into benchmarks/out/ and runs
`circuit-run --format csv SPEC` once per spec in a child process (median of a
few runs), reading the child's CPU time and peak RSS with os.wait4:

1. modules: a layer of neurons written with `modules:` and `repeat`, expanded
   to ~10^6 nodes, against the same circuit as flat JSON gates (the expanded
   netlist dumped to a file). Goal: within 1.5x the time and memory of the flat file.
2. formulas: a chain of gates each written as a formula `gK: "a*gJ + b"`
   against the same gates written as {op, in}. Goal: a formula costs what its
   gates cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


# Runs a command and prints its CPU seconds and peak memory. Measured from a
# fresh little process: Linux starts a child's ru_maxrss at its parent's peak,
# and this script's own peak is high after it expanded a spec to write it flat.
_MEASURE = ("import os, subprocess, sys\n"
            "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)\n")


def run(spec: Path, repeat: int) -> tuple[float, float]:
    """Median CPU seconds and peak RSS (MiB) of `circuit-run --format csv SPEC`."""
    seconds, peaks = [], []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "runner", "--format", "csv",
                               str(spec)], capture_output=True, text=True, check=True)
        code, cpu, peak = done.stdout.split()
        if code != "0":
            raise SystemExit(f"{spec} failed; run circuit-run on it to see why")
        seconds.append(float(cpu))
        peaks.append(int(peak) / 1024)
    return statistics.median(seconds), statistics.median(peaks)


def module_specs(neurons: int, fan_in: int) -> tuple[Path, Path]:
    """A layer of `neurons` neurons over `fan_in` inputs, as modules and flat."""
    inputs = ", ".join(f"x{i}: {{value: {0.1 * (i + 1)}, trainable: false}}" for i in range(fan_in))
    text = (f"inputs: {{{inputs}}}\n"
            "modules:\n"
            "  neuron:\n"
            "    in: [x]\n"
            "    params: {w: {size: x, init: \"uniform(-1, 1)\"}, b: 0}\n"
            "    out: dot(w, x) + b\n"
            "gates:\n"
            f"  h: {{use: neuron, in: [[{', '.join(f'x{i}' for i in range(fan_in))}]], repeat: {neurons}, "
            "activation: tanh}\n"
            "  y: {expr: \"tanh(h.n0) * 1\"}\n")
    modules = OUT / f"layer-{neurons}.yaml"
    modules.write_text(text)
    import runner

    netlist = runner.load_spec(str(modules)).netlist  # the expanded circuit, dumped as plain gates

    def plain(name):  # a user's names have no dots
        return name.replace(".", "_") if isinstance(name, str) else name

    flat = {"inputs": {plain(name): {"value": entry.value, "trainable": entry.trainable}
                       for name, entry in netlist.inputs.items()},
            "gates": {plain(name): {"op": netlist.gates[name].op, "in": list(map(plain, netlist.gates[name].in_))}
                      for name in netlist.order},
            "output": plain(netlist.output)}
    flat_path = OUT / f"layer-{neurons}-flat.json"
    flat_path.write_text(json.dumps(flat, separators=(",", ":")))
    return modules, flat_path


def formula_specs(length: int) -> tuple[Path, Path]:
    """A chain g0 ... gN, each gK = a*g(K-1) + b, as formulas and as gates."""
    formulas = ["inputs: {a: 0.5, b: 0.25, x: 1}", "gates:", "  g0: a*x + b"]
    gates = ["inputs: {a: 0.5, b: 0.25, x: 1}", "gates:", "  g0.1: {op: mul, in: [a, x]}",
             "  g0: {op: add, in: [g0.1, b]}"]
    for k in range(1, length):
        formulas.append(f"  g{k}: a*g{k - 1} + b")
        gates.append(f"  g{k}_1: {{op: mul, in: [a, g{k - 1}]}}")
        gates.append(f"  g{k}: {{op: add, in: [g{k}_1, b]}}")
    gates[2:4] = ["  g0_1: {op: mul, in: [a, x]}", "  g0: {op: add, in: [g0_1, b]}"]
    formula_path, gate_path = OUT / f"formulas-{length}.yaml", OUT / f"formula-gates-{length}.yaml"
    formula_path.write_text("\n".join(formulas) + "\n")
    gate_path.write_text("\n".join(gates) + "\n")
    return formula_path, gate_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    scale = 10 if args.quick else 1
    repeat = 3
    neurons = 43_500 // scale  # x 23 nodes a neuron (10 weights, 10 products, 2 sums, tanh) ~ 10^6
    print("| spec | nodes | CPU s | peak MiB | ratio s | ratio MiB |")
    print("|---|---|---|---|---|---|")
    modules, flat = module_specs(neurons, 10)
    nodes = len(json.loads(flat.read_text())["gates"]) + len(json.loads(flat.read_text())["inputs"])
    flat_s, flat_m = run(flat, repeat)
    mod_s, mod_m = run(modules, repeat)
    print(f"| flat JSON gates ({flat.name}) | {nodes:,} | {flat_s:.2f} | {flat_m:,.0f} | 1 | 1 |")
    print(f"| modules ({modules.name}) | {nodes:,} | {mod_s:.2f} | {mod_m:,.0f} | {mod_s / flat_s:.2f} | "
          f"{mod_m / flat_m:.2f} |")
    length = 100_000 // scale
    formula_path, gate_path = formula_specs(length)
    gate_s, gate_m = run(gate_path, repeat)
    formula_s, formula_m = run(formula_path, repeat)
    print(f"| plain gates ({gate_path.name}) | {2 * length + 3:,} | {gate_s:.2f} | {gate_m:,.0f} | 1 | 1 |")
    print(f"| formulas ({formula_path.name}) | {2 * length + 3:,} | {formula_s:.2f} | {formula_m:,.0f} | "
          f"{formula_s / gate_s:.2f} | {formula_m / gate_m:.2f} |")


if __name__ == "__main__":
    main()
