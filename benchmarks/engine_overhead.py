"""What running another engine through `--engine` costs beyond the engine's own work.

    python benchmarks/engine_overhead.py            # a 10,000-gate chain and micrograd's MLP spec, 5 runs each
    python benchmarks/engine_overhead.py --quick    # 1 run each

Runs with the interpreter that starts it (a venv with circuit-run installed;
tests/engines/ must be importable, so run it from the repository root).
For each circuit, the same case is run two ways with the same class:
1. in this process, by the worker's own function (engine_worker.run_case):
   building the objects, backward(), reading .data and .grad, and nothing else;
2. through ForeignEngine.run: the request as JSON, the worker process, the
   reply as JSON and the wait for it (the worker already started).
The ratio 2/1 is the price of isolation (a time limit, crashes contained).
Starting the worker (a Python process that imports the class) is measured
on its own: it is paid once per run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tests/engines

from runner.results import engine_worker  # noqa: E402
from runner.results.conformance import _chain  # noqa: E402
from runner.results.engine_check import job  # noqa: E402
from runner.results.foreign_engine import ForeignEngine  # noqa: E402
from runner.results.run import run_spec  # noqa: E402
from runner.spec.validate import load_spec, load_spec_text  # noqa: E402


def circuits() -> dict:
    chain = load_spec_text(json.dumps(_chain(10000).spec), "chain", fmt="json")
    return {"chain-10000": run_spec(chain, run_optimization=False).circuit,
            "mlp.yaml (337 params)": run_spec(load_spec(str(ROOT / "circuits" / "mlp.yaml")),
                                              run_optimization=False).circuit}


def median_time(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    runs = 1 if parser.parse_args().quick else 5
    from engines.correct import Value

    start = time.perf_counter()
    with ForeignEngine("engines.correct:Value") as engine:
        started = time.perf_counter() - start
        print(f"worker start (python + import of the class): {started * 1000:.0f} ms")
        for name, circuit in circuits().items():
            request = job(circuit)
            assert engine_worker.run_case(Value, request, lambda message: None)["status"] == "done"
            assert engine.run(request).status == "done"
            alone = median_time(lambda: engine_worker.run_case(Value, request, lambda message: None), runs)
            isolated = median_time(lambda: engine.run(request), runs)
            print(f"{name}: in process {alone * 1000:.1f} ms, through the worker {isolated * 1000:.1f} ms, "
                  f"ratio {isolated / alone:.2f}")


if __name__ == "__main__":
    main()
