"""In-process measurements, one per child process: the peers and circuit-run's Python API.

run.py starts ``python peers.py COMMAND ...`` for each measurement so that every engine
gets a fresh interpreter (no shared heap, GC state or imported modules), a timeout and
its own peak-RSS reading. Each command prints one JSON object on stdout.

Commands:
  mlp ENGINE        per-iteration cost of forward + backward + update on the MLP circuit,
                    ENGINE one of micrograd, torch, api (circuit-run's Python API)
  depth             the deepest chain micrograd can backprop (recursive topological sort)
  stages SPEC       circuit-run API: seconds per stage (load, compile, forward, backward)
  load FILE         PyYAML C loader or json.load alone on FILE (the load baselines)
  output SPEC       circuit-run's JSON writer vs json.dumps of the same document

Per-iteration cost is measured the same way for every engine: time N_HI iterations and
N_LO iterations from the same starting point, and divide the difference by N_HI - N_LO.
That cancels whatever is paid once per run (graph or circuit set-up, the final forward).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (the same weights, data point and target as the spec)

N_LO, N_HI = 10, 110

# CPU time by default: this process is single-threaded work on a machine that may be
# shared, and CPU time is far less disturbed by other load than wall time. --wall switches.
clock = time.process_time


# ---------------------------------------------------------------------------------------
# micrograd
# ---------------------------------------------------------------------------------------


def micrograd_train(iterations: int) -> tuple[float, float]:
    """micrograd's own training loop (its demo notebook) on the benchmark's MLP.

    Returns (seconds for the loop, loss after the last update). The graph is rebuilt by
    every forward pass, as micrograd always does.
    """
    from micrograd.nn import MLP

    params = generate.mlp_params()
    model = MLP(params.shape[0], list(params.shape[1:]))
    for p, value in zip(model.parameters(), params.parameters(), strict=True):
        p.data = value
    x, target, lr = params.data, params.target, generate.MLP_STEP_SIZE
    parameters = model.parameters()

    start = clock()
    for _ in range(iterations):
        loss = (model(x) - target) ** 2
        model.zero_grad()
        loss.backward()
        for p in parameters:
            p.data -= lr * p.grad
    elapsed = clock() - start
    return elapsed, ((model(x) - target) ** 2).data


def micrograd_max_depth(limit: int = 100_000) -> dict:
    """Bisect the longest relu chain whose ``backward()`` does not raise RecursionError.

    micrograd's ``build_topo`` recurses once per node on the path, so the answer is about
    ``sys.getrecursionlimit()`` minus the frames already on the stack.
    """
    from micrograd.engine import Value

    def backprops(depth: int) -> bool:
        v = Value(1.0)
        for _ in range(depth):
            v = v.relu()
        try:
            v.backward()
            return True
        except RecursionError:
            return False

    lo, hi = 1, limit  # backprops(lo) is True; find the largest such depth
    if backprops(hi):
        return {"max_depth": hi, "fails_at": None, "recursion_limit": sys.getrecursionlimit()}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if backprops(mid) else (lo, mid)
    return {"max_depth": lo, "fails_at": hi, "recursion_limit": sys.getrecursionlimit()}


# ---------------------------------------------------------------------------------------
# torch scalar autograd
# ---------------------------------------------------------------------------------------


def torch_train(iterations: int) -> tuple[float, float]:
    """The same loop with every scalar a 0-d float64 tensor, graph rebuilt per iteration.

    The forward pass mirrors micrograd's order of operations (``b + w0*x0 + ...``, relu on
    hidden layers, ``(out - target)**2``) so the losses agree with micrograd's.
    """
    import torch

    torch.set_num_threads(1)
    params = generate.mlp_params()

    def tensor(value: float, grad: bool) -> "torch.Tensor":
        return torch.tensor(value, dtype=torch.float64, requires_grad=grad)

    layers = [
        [([tensor(w, True) for w in ws], tensor(b, True)) for ws, b in zip(lw, lb)]
        for lw, lb in zip(params.weights, params.biases)
    ]
    parameters = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    x = [tensor(v, False) for v in params.data]
    target, lr = params.target, generate.MLP_STEP_SIZE

    def forward() -> "torch.Tensor":
        acts = x
        for index, layer in enumerate(layers):
            outs = []
            for ws, b in layer:
                act = b
                for w, xi in zip(ws, acts):
                    act = act + w * xi
                outs.append(torch.relu(act) if params.nonlinear(index) else act)
            acts = outs
        return (acts[0] - target) ** 2

    start = clock()
    for _ in range(iterations):
        loss = forward()
        loss.backward()
        with torch.no_grad():
            for p in parameters:
                p -= lr * p.grad
                p.grad = None
    elapsed = clock() - start
    with torch.no_grad():
        return elapsed, forward().item()


# ---------------------------------------------------------------------------------------
# circuit-run's Python API
# ---------------------------------------------------------------------------------------


def api_train(iterations: int, spec_dir: Path) -> tuple[float, float]:
    """``runner.optimize`` on a freshly compiled circuit; load and compile are not timed."""
    import runner

    spec = runner.load_spec(str(spec_dir / f"mlp-{iterations}.json"))  # str: takes no Path yet
    circuit = runner.compile_spec(spec)
    start = clock()
    result = runner.optimize(circuit, spec.optimize)
    elapsed = clock() - start
    return elapsed, final_output(result, circuit)


def final_output(result, circuit) -> float:
    """The optimized output, whatever shape the (young) API returns it in."""
    for path in (("final", "output"), ("final_output",), ("output",)):
        value = result
        try:
            for key in path:
                value = value[key] if isinstance(value, dict) else getattr(value, key)
            return float(value)
        except (AttributeError, KeyError, TypeError):
            continue
    circuit.forward()
    return float(circuit.output_value() if callable(getattr(circuit, "output_value", None))
                 else circuit.output)


def stages(spec_path: Path) -> dict:
    """Seconds per stage of one circuit-run pass through the API: where does time go?"""
    import runner
    import runner.core.compiler
    import runner.spec.validate  # imported here, so that "load" times loading, not imports

    gc.disable()  # as the CLI runs: the collector would rescan the whole spec after each stage
    times = {}
    start = clock()
    spec = runner.load_spec(str(spec_path))
    times["load"] = clock() - start
    start = clock()
    circuit = runner.compile_spec(spec)
    times["compile"] = clock() - start
    start = clock()
    circuit.forward()
    times["forward"] = clock() - start
    start = clock()
    circuit.backward()
    times["backward"] = clock() - start
    return times


# ---------------------------------------------------------------------------------------
# Baselines for loading and output
# ---------------------------------------------------------------------------------------


def load_baseline(path: Path, repeat: int) -> dict:
    """Median seconds of the bare parser on the file: CSafeLoader for YAML, json.load."""
    import yaml

    def load_once() -> None:
        with path.open("rb") as f:
            if path.suffix == ".json":
                json.load(f)
            else:
                yaml.load(f, Loader=yaml.CSafeLoader)

    return {"seconds": median_time(load_once, repeat), "bytes": path.stat().st_size}


def output_writer(spec_path: Path, repeat: int) -> dict:
    """circuit-run's JSON writer against json.dumps of the same document, in one process.

    The spec is run once through the API; then the writer the CLI uses for
    ``--format json`` (a streaming ``report.write_json(result, file)`` if there is one,
    else ``report.render_json(result)`` plus the write) sends the document to /dev/null,
    and json.dumps serializes the plain data parsed back from that very document.
    """
    import os

    import runner

    try:
        from runner.present import json_output as report  # since the package has stages
    except ImportError:  # earlier versions, for before/after runs
        from runner import report
    result = runner.run_spec(runner.load_spec(str(spec_path)))
    with open(os.devnull, "w") as sink:
        if hasattr(report, "write_json"):
            writer, name = (lambda: report.write_json(result, sink)), "write_json"
        else:
            writer, name = (lambda: sink.write(report.render_json(result) + "\n")), \
                "report.render_json"
        text = report.render_json(result) if hasattr(report, "render_json") else None
        seconds = median_time(writer, repeat)
    document = json.loads(text) if text is not None else None
    baseline = median_time(lambda: json.dumps(document), repeat) if document else None
    return {"writer": name, "seconds": seconds, "dumps": baseline,
            "bytes": len(text.encode()) if text is not None else None}


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------


def per_iteration(train, repeat: int, gc_off: bool = False) -> dict:
    """Median over `repeat` of (t(N_HI) - t(N_LO)) / (N_HI - N_LO), plus the final losses.

    Each t is a fresh run from the same initial weights; the collector is run before each
    so that one run's garbage is not charged to the next. With gc_off the cyclic collector
    is disabled while a run is timed: micrograd's closures make every graph a reference
    cycle, so by default it pays for repeated full collections of a growing heap; gc_off
    shows its cost without them (the issue's ~2.3 us/gate is of that kind).
    """
    costs, loss_lo, loss_hi = [], None, None
    for _ in range(repeat):
        t_lo, loss_lo = _timed(train, N_LO, gc_off)
        t_hi, loss_hi = _timed(train, N_HI, gc_off)
        costs.append((t_hi - t_lo) / (N_HI - N_LO))
    gates = generate.mlp_gate_count()["gates"]
    seconds = statistics.median(costs)
    return {"seconds_per_iteration": seconds, "ns_per_gate": seconds / gates * 1e9,
            "gates": gates, "runs": costs, f"loss_after_{N_LO}": loss_lo,
            f"loss_after_{N_HI}": loss_hi}


def _timed(train, iterations: int, gc_off: bool) -> tuple[float, float]:
    gc.collect()
    if gc_off:
        gc.disable()
    try:
        return train(iterations)
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wall", action="store_true", help="time wall clock, not CPU")
    sub = parser.add_subparsers(dest="command", required=True)
    mlp = sub.add_parser("mlp")
    mlp.add_argument("engine", choices=("micrograd", "torch", "api"))
    mlp.add_argument("--repeat", type=int, default=3)
    mlp.add_argument("--gc-off", action="store_true", help="disable the cyclic GC while timed")
    mlp.add_argument("--spec-dir", type=Path, help="where mlp-10.json and mlp-110.json are")
    sub.add_parser("depth")
    st = sub.add_parser("stages")
    st.add_argument("spec", type=Path)
    for name in ("load", "output"):
        p = sub.add_parser(name)
        p.add_argument("file", type=Path)
        p.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    global clock
    clock = time.perf_counter if args.wall else time.process_time

    if args.command == "mlp":
        train = {"micrograd": micrograd_train, "torch": torch_train,
                 "api": lambda n: api_train(n, args.spec_dir)}[args.engine]
        result = per_iteration(train, args.repeat, args.gc_off)
    elif args.command == "depth":
        result = micrograd_max_depth()
    elif args.command == "stages":
        result = stages(args.spec)
    elif args.command == "load":
        result = load_baseline(args.file, args.repeat)
    else:
        result = output_writer(args.file, args.repeat)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
