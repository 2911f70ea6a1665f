"""Wide gates: the node table and --explain against fan-in and fan-out.

    python benchmarks/wide_gates.py            # n = 10,000, 20,000, 40,000
    python benchmarks/wide_gates.py --quick    # n = 2,500, 5,000, 10,000

Runs with the interpreter that starts it (any venv with circuit-run installed).
For each n it writes a spec with a gate of n inputs and an input feeding n
gates (`wide = add(x0 ... x{n-1})`, `s_k = sin(x0)`, `f = add(wide, s_0 ...)`)
into benchmarks/out/ and runs `circuit-run SPEC` (the table), `--explain`
and `--format json --explain` once each in a child process, reading its CPU
time and peak RSS with os.wait4, and the size of what it printed. The goal
is linear growth: each doubling of n about doubles time, memory above start-up
and output (ratio ~2; the quadratic table and walkthrough this replaces went
~4x a doubling, 440 MB of table at n = 8,000).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

_MEASURE = ("import os, subprocess, sys\n"
            "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
            "size = 0\n"
            "while True:\n"
            "    piece = child.stdout.read(1 << 20)\n"
            "    if not piece:\n"
            "        break\n"
            "    size += len(piece)\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss, size)\n")

COMMANDS = {"table": [], "--explain": ["--explain"], "json --explain": ["--format", "json", "--explain"]}


def spec(n: int) -> Path:
    inputs = {f"x{i}": 1.0 for i in range(n)}
    gates = {f"s{i}": {"op": "sin", "in": ["x0"]} for i in range(n)}
    gates["wide"] = {"op": "add", "in": list(inputs)}
    gates["f"] = {"op": "add", "in": ["wide", *(f"s{i}" for i in range(n))]}
    path = OUT / f"wide-{n}.json"
    path.write_text(json.dumps({"inputs": inputs, "gates": gates, "output": "f"}))
    return path


def measure(path: Path, options: list[str]) -> tuple[float, float, int]:
    """CPU seconds, peak RSS (MiB) and bytes printed of `circuit-run OPTIONS PATH`."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "runner", *options, str(path)],
                          capture_output=True, text=True, check=True)
    code, cpu, peak, size = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{path} failed with exit code {code}; run circuit-run on it to see why")
    return float(cpu), int(peak) / 1024, int(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the sizes")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    sizes = [2_500, 5_000, 10_000] if args.quick else [10_000, 20_000, 40_000]
    print("| output | n | CPU s | peak MiB | MB printed | ratio s | ratio MB printed |")
    print("|---|---|---|---|---|---|---|")
    paths = {n: spec(n) for n in sizes}
    for label, options in COMMANDS.items():
        previous = None
        for n in sizes:
            seconds, peak, size = measure(paths[n], options)
            ratios = f"{seconds / previous[0]:.2f} | {size / previous[1]:.2f}" if previous else " | "
            print(f"| {label} | {n:,} | {seconds:.2f} | {peak:,.0f} | {size / 1e6:.2f} | {ratios} |")
            previous = (seconds, size)


if __name__ == "__main__":
    main()
