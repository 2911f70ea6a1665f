"""Training on data: one step of micrograd's moons demo in micrograd, numpy, torch and circuit-run.

    python3 benchmarks/training.py            # under benchmarks/.venv when it exists
    python3 benchmarks/training.py --quick    # fewer repeats, no 100,000-row section

The step is the demo notebook's: MLP(2, [16, 16, 1]) (relu hidden layers, linear output)
on the 100 rows of circuits/data/moons.csv, the mean hinge loss max(0, 1 - y·score) plus
1e-4·Σp² over every weight and bias, backprop, and an SGD update with the demo's step
1.0 - 0.9·k/100. Every engine starts from micrograd's initial weights (random.seed(1337),
uniform(-1, 1) weights, zero biases) and works in float64, so their losses agree; the
report shows each one's loss at steps 0 and 1 (the demo notebook prints 0.8958441028683222
and 1.7236 for them: the data set and the weights are the notebook's own).

- micrograd (PyPI micrograd.nn.MLP): its own loop, graph rebuilt every step.
- numpy by hand: three matrix layers, backprop written out.
- torch: the same matrix layers as float64 tensors with autograd, one thread.
- circuit-run: `circuit-run --format json circuits/moons.yaml --iterations N` minus the same
  at `--iterations 0`, divided by N (start-up, loading and output cancel).

Then the 100,000-row variant: a moons CSV of that size (benchmarks/make_moons.py), the time
of a full-batch step (circuit-run: 10 steps minus 0, divided by 10) and each process's peak
memory, and the time to read the CSV.

Every measurement runs in its own child process, timed by CPU time (user + sys, from
os.wait4 or time.process_time) since the machine may be shared; numpy, torch and
circuit-run children are limited to one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1). A peer
that is not installed is skipped with a message.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
VENV = HERE / ".venv"
MOONS = PROJECT / "circuits" / "data" / "moons.csv"
MOONS_SPEC = PROJECT / "circuits" / "moons.yaml"
OUT = HERE / "out"

SHAPE = (2, 16, 16, 1)
ALPHA = 1e-4  # the L2 weight
SEED = 1337
BIG_STEPS = 10  # full-batch steps timed on the big data (one step alone drowns in the noise)
ANCHORS_MS = {"micrograd": 1483.0, "torch": 0.259, "numpy": 0.062}  # the issue's, per step
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

clock = time.process_time


# ---------------------------------------------------------------------------------------
# The data and the starting weights, shared by every peer
# ---------------------------------------------------------------------------------------


def read_rows(path: Path) -> tuple[list[list[float]], list[float]]:
    lines = path.read_text(encoding="utf-8").split()
    assert lines[0] == "x0,x1,y", lines[0]
    rows = [[float(cell) for cell in line.split(",")] for line in lines[1:]]
    return [row[:2] for row in rows], [row[2] for row in rows]


def initial_weights() -> list[tuple[list[list[float]], list[float]]]:
    """micrograd's MLP(2, [16, 16, 1]) after random.seed(1337): per layer, per neuron, its
    weights uniform(-1, 1) in order, bias 0. As [(W[out][in], b[out]) per layer]."""
    draw = random.Random(SEED).uniform
    layers = []
    for nin, nout in zip(SHAPE, SHAPE[1:]):
        layers.append(([[draw(-1, 1) for _ in range(nin)] for _ in range(nout)], [0.0] * nout))
    return layers


def step_size(k: int, steps: int = 100) -> float:
    return 1.0 - 0.9 * k / steps


# ---------------------------------------------------------------------------------------
# Peers: each returns (seconds of each step, the loss each step computed)
# ---------------------------------------------------------------------------------------


def micrograd_peer(path: Path, steps: int) -> tuple[list[float], list[float]]:
    from micrograd.engine import Value
    from micrograd.nn import MLP

    random.seed(SEED)
    model = MLP(SHAPE[0], list(SHAPE[1:]))
    _check_micrograd_init(model)
    X, y = read_rows(path)
    parameters = model.parameters()

    def loss():
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + ALPHA * sum(p * p for p in parameters)

    times, losses = [], []
    for k in range(steps):
        start = clock()
        total = loss()
        model.zero_grad()
        total.backward()
        for p in parameters:
            p.data -= step_size(k) * p.grad
        times.append(clock() - start)
        losses.append(total.data)
    return times, losses


def _check_micrograd_init(model) -> None:
    ours = [v for ws, bs in initial_weights() for row, b in zip(ws, bs) for v in (*row, b)]
    theirs = [p.data for p in model.parameters()]
    assert ours == theirs, "micrograd's initial weights differ from initial_weights()"


def numpy_peer(path: Path, steps: int) -> tuple[list[float], list[float]]:
    import numpy as np

    X, y = (np.array(a, dtype=np.float64) for a in read_rows(path))
    y = y[:, None]
    params = []
    for ws, bs in initial_weights():
        params += [np.array(ws).T.copy(), np.array(bs)]  # W: (in, out), b: (out,)
    n = len(X)

    def step(k: int) -> float:
        w1, b1, w2, b2, w3, b3 = params
        z1 = X @ w1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2 + b2
        h2 = np.maximum(z2, 0)
        score = h2 @ w3 + b3
        margin = 1 - y * score
        loss = np.maximum(margin, 0).mean() + ALPHA * sum((p * p).sum() for p in params)
        d_score = np.where(margin > 0, -y, 0.0) / n
        d_w3, d_b3 = h2.T @ d_score, d_score.sum(0)
        d_z2 = (d_score @ w3.T) * (z2 > 0)
        d_w2, d_b2 = h1.T @ d_z2, d_z2.sum(0)
        d_z1 = (d_z2 @ w2.T) * (z1 > 0)
        d_w1, d_b1 = X.T @ d_z1, d_z1.sum(0)
        lr = step_size(k)
        for p, g in zip(params, (d_w1, d_b1, d_w2, d_b2, d_w3, d_b3)):
            p -= lr * (g + 2 * ALPHA * p)
        return float(loss)

    return _timed(step, steps)


def torch_peer(path: Path, steps: int) -> tuple[list[float], list[float]]:
    import torch

    torch.set_num_threads(1)
    X, y = (torch.tensor(a, dtype=torch.float64) for a in read_rows(path))
    y = y[:, None]
    params = []
    for ws, bs in initial_weights():
        params += [torch.tensor(ws, dtype=torch.float64).T.contiguous().requires_grad_(),
                   torch.tensor(bs, dtype=torch.float64).requires_grad_()]

    def step(k: int) -> float:
        w1, b1, w2, b2, w3, b3 = params
        h1 = torch.relu(X @ w1 + b1)
        h2 = torch.relu(h1 @ w2 + b2)
        score = h2 @ w3 + b3
        loss = torch.relu(1 - y * score).mean() + ALPHA * sum((p * p).sum() for p in params)
        loss.backward()
        with torch.no_grad():
            lr = step_size(k)
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss.item()

    return _timed(step, steps)


def _timed(step, steps: int) -> tuple[list[float], list[float]]:
    times, losses = [], []
    for k in range(steps):
        start = clock()
        losses.append(step(k))
        times.append(clock() - start)
    return times, losses


PEERS = {"micrograd": micrograd_peer, "numpy": numpy_peer, "torch": torch_peer}
PEER_MODULE = {"micrograd": "micrograd", "numpy": "numpy", "torch": "torch"}


def peer_main(engine: str, path: Path, steps: int) -> None:
    """Child process: one engine, `steps` steps; prints JSON."""
    times, losses = PEERS[engine](path, steps)
    timed = times[1:] if len(times) > 3 else times  # the first step warms caches up
    print(json.dumps({"ms_per_step": 1000 * statistics.median(timed), "losses": losses[:2],
                      "steps": steps}))


# ---------------------------------------------------------------------------------------
# The parent: children, circuit-run, the report
# ---------------------------------------------------------------------------------------


def child(cmd: list[str], timeout: float = 900, capture: bool = True) -> "run.Child":
    """Run cmd in a child process: its CPU seconds, peak RSS and (if `capture`) its output.
    Big outputs go to /dev/null: held here, they would swell this process, and a child's
    peak RSS on Linux starts from its parent's."""
    import run  # benchmarks/run.py: child processes with CPU time and their own peak RSS

    os.environ.update(ONE_THREAD)
    return run.run_child(cmd, timeout, capture=capture)


def measure_peer(engine: str, path: Path, steps: int) -> dict | str:
    import importlib.util

    if importlib.util.find_spec(PEER_MODULE[engine]) is None:
        return f"not installed ({PEER_MODULE[engine]}; benchmarks/setup.sh installs it)"
    result = child([sys.executable, __file__, "peer", engine, str(path), str(steps)])
    if not result.ok:
        return result.describe_failure()
    return {**json.loads(result.stdout), "max_rss": result.max_rss}


CIRCUIT_RUN: str | None = None  # --circuit-run


def circuit_run_exe() -> str | None:
    import shutil

    if CIRCUIT_RUN:
        return CIRCUIT_RUN
    beside = Path(sys.executable).parent / "circuit-run"
    return str(beside) if beside.exists() else shutil.which("circuit-run")


def measure_circuit_run(spec: Path, steps: int, repeat: int, keep_loss: bool = True,
                        fmt: str = "json") -> dict | str:
    """(t(steps) - t(0)) / steps over `repeat` interleaved pairs of runs; medians. The
    output goes to /dev/null; with `keep_loss`, two more runs, at 0 and 1 steps, their output
    kept, give the loss at steps 0 and 1 (not for big data: the JSON has every row's values)."""
    exe = circuit_run_exe()
    if exe is None:
        return "not installed (circuit-run)"
    if not spec.exists():
        return f"unavailable: {spec} does not exist yet"
    runs: dict[int, list] = {steps: [], 0: []}
    for _ in range(repeat):
        for n in (steps, 0):
            result = child([exe, "--format", fmt, "--iterations", str(n), str(spec)], capture=False)
            if not result.ok:
                return "unavailable: " + result.describe_failure()
            runs[n].append(result)
    losses = [_json_loss(child([exe, "--format", "json", "--iterations", str(n), str(spec)]).stdout)
              for n in ((0, 1) if keep_loss else ())]
    seconds = {n: statistics.median(r.seconds for r in rs) for n, rs in runs.items()}
    return {"ms_per_step": 1000 * (seconds[steps] - seconds[0]) / steps,
            "process_seconds": seconds[steps], "start_seconds": seconds[0],
            "max_rss": max(r.max_rss for r in runs[steps]),
            "losses": losses, "steps": steps}


def _json_loss(stdout: str) -> float | None:
    """The loss after the run's steps: `optimization.final.output`, else (no steps) `output`."""
    try:
        report = json.loads(stdout.splitlines()[0])
        final = (report.get("optimization") or {}).get("final") or {}
        return float(final.get("output", report["output"]["value"]))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def big_spec(moons: Path, rows: int) -> tuple[Path, Path] | str:
    """A copy of the moons spec reading a generated moons CSV of `rows` rows, full batch."""
    import yaml

    if not moons.exists():
        return f"unavailable: {moons} does not exist yet"
    OUT.mkdir(exist_ok=True)
    data = OUT / f"moons-{rows}.csv"
    if not data.exists():
        made = child([sys.executable, str(HERE / "make_moons.py"), "-n", str(rows), "-o", str(data)])
        if not made.ok:
            return "unavailable: make_moons.py " + made.describe_failure()
    spec = yaml.safe_load(moons.read_text(encoding="utf-8"))
    spec.setdefault("data", {})["file"] = data.name
    spec["data"].pop("rows", None)
    spec.get("optimize", {}).pop("batch_size", None)
    spec.pop("expect", None)
    path = OUT / f"moons-{rows}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path, data


def measure_csv_read(path: Path, repeat: int) -> dict | str:
    code = ("import sys, time; from pathlib import Path; from runner.loading.csv_reader import read_csv\n"
            "t = time.process_time(); table = read_csv(Path(sys.argv[1]), max_bytes=1 << 30)\n"
            "print(time.process_time() - t, len(table.rows))")
    times = []
    for _ in range(repeat):
        result = child([sys.executable, "-c", code, str(path)])
        if not result.ok:
            return "unavailable: " + result.describe_failure()
        times.append(float(result.stdout.split()[0]))
    return {"seconds": statistics.median(times), "rows": int(result.stdout.split()[1])}


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def fmt_ms(ms: float) -> str:
    return f"{ms * 1000:.0f} µs" if ms < 1 else f"{ms:,.1f} ms"


def report(results: dict, rows: int) -> str:
    lines = [f"## One training step, moons demo ({rows} rows, MLP 2-16-16-1, hinge + L2, SGD)", "",
             "| engine | per step | issue's anchor | loss at step 0 | at step 1 | peak RSS |",
             "|---|---|---|---|---|---|"]
    for name, result in results.items():
        if isinstance(result, str):
            lines.append(f"| {name} | {result} | | | | |")
            continue
        losses = result.get("losses") or []
        start = f"{losses[0]:.6f}" if losses and losses[0] is not None else "?"
        after = f"{losses[1]:.6f}" if len(losses) > 1 else ""
        anchor = fmt_ms(ANCHORS_MS[name]) if name in ANCHORS_MS else ""
        lines.append(f"| {name} | {fmt_ms(result['ms_per_step'])} | {anchor} | {start} | {after} "
                     f"| {result['max_rss'] / 2**20:.0f} MiB |")
    ours = results.get("circuit-run")
    lines.append("")
    lines.append("(micrograd's demo notebook: loss 0.895844 at step 0, 1.7236 at step 1)")
    for peer in ("micrograd", "torch", "numpy"):
        theirs = results.get(peer)
        if isinstance(ours, dict) and isinstance(theirs, dict):
            ratio = theirs["ms_per_step"] / ours["ms_per_step"] if ours["ms_per_step"] > 0 else float("inf")
            lines.append(f"- circuit-run vs {peer}: {ratio:,.2f}x as fast "
                         f"({peer} {fmt_ms(theirs['ms_per_step'])}, circuit-run {fmt_ms(ours['ms_per_step'])})")
        else:
            lines.append(f"- circuit-run vs {peer}: no ratio (a side is unavailable)")
    return "\n".join(lines)


def big_report(results: dict, rows: int, csv_read) -> str:
    lines = [f"## One full-batch step on {rows:,} rows", "",
             f"| engine | per step | whole run: 0 steps / {BIG_STEPS} steps | peak RSS |", "|---|---|---|---|"]
    for name, result in results.items():
        if isinstance(result, str):
            lines.append(f"| {name} | {result} | | |")
            continue
        whole = (f"{result['start_seconds']:.2f} s / {result['process_seconds']:.2f} s"
                 if "process_seconds" in result else "")
        lines.append(f"| {name} | {fmt_ms(result['ms_per_step'])} | {whole} | "
                     f"{result['max_rss'] / 2**20:.0f} MiB |")
    lines.append("")
    if isinstance(csv_read, dict):
        lines.append(f"- reading the CSV (read_csv, {csv_read['rows']:,} rows): {csv_read['seconds']:.3f} s")
    else:
        lines.append(f"- reading the CSV: {csv_read}")
    lines.append("- goals: one full-batch step under 2 s, memory under 2 GiB")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------


def use_benchmark_venv() -> None:
    """Re-run under benchmarks/.venv if it exists (it has micrograd and torch); otherwise
    go on with this interpreter and skip the peers it lacks."""
    python = VENV / "bin" / "python"
    if python.exists() and Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), *sys.argv])
    if Path(sys.prefix).resolve() == VENV.resolve():
        sys.path.insert(0, str(HERE))
        import run

        run.ensure_installed()  # measure this checkout, installed as users get it


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["peer"]:
        peer_main(argv[1], Path(argv[2]), int(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; skip the 100,000 rows")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the big variant")
    parser.add_argument("--big-json", action="store_true",
                        help="also time the big variant with --format json (minutes, GiBs)")
    parser.add_argument("--circuit-run", metavar="EXE",
                        help="the circuit-run to time (default: beside this Python, else on PATH)")
    parser.add_argument("--spec", type=Path, default=MOONS_SPEC,
                        help="circuit-run's moons spec (default circuits/moons.yaml)")
    args = parser.parse_args(argv)
    use_benchmark_venv()
    sys.path.insert(0, str(HERE))
    global CIRCUIT_RUN
    CIRCUIT_RUN = args.circuit_run
    repeat = 3 if args.quick else 5
    print(f"[load average {os.getloadavg()[0]:.2f}; CPU time, one thread]", file=sys.stderr)

    small = {"micrograd": measure_peer("micrograd", MOONS, 4 if args.quick else 6),
             "numpy": measure_peer("numpy", MOONS, 300 if args.quick else 2000),
             "torch": measure_peer("torch", MOONS, 100 if args.quick else 500),
             "circuit-run": measure_circuit_run(args.spec, 100, repeat)}
    print(report(small, 100))
    if args.quick:
        return 0
    made = big_spec(args.spec, args.rows)
    data = made[1] if isinstance(made, tuple) else OUT / f"moons-{args.rows}.csv"
    if not data.exists():
        child([sys.executable, str(HERE / "make_moons.py"), "-n", str(args.rows), "-o", str(data)])
    big = {"numpy": measure_peer("numpy", data, 5), "torch": measure_peer("torch", data, 5)}
    # The table (it shows a few values of each row-wise node), not --format json, whose
    # every row of every node outweighs the step many times over at this size.
    big["circuit-run"] = made if isinstance(made, str) else measure_circuit_run(
        made[0], BIG_STEPS, 3, keep_loss=False, fmt="table")
    if args.big_json and not isinstance(made, str):
        big["circuit-run --format json"] = measure_circuit_run(made[0], BIG_STEPS, 1, keep_loss=False)
    print()
    print(big_report(big, args.rows, measure_csv_read(data, 3)))
    print(f"\n[load average {os.getloadavg()[0]:.2f} at end]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
