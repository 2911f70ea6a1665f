"""How long the --html page takes to update after an input changes, in Chromium.

    python benchmarks/page_update.py            # ~1,000-gate circuits, 40 updates each
    python benchmarks/page_update.py --quick    # 10 updates each

Runs with the interpreter that starts it (any venv with circuit-run and
Playwright installed) and the system's Chromium (/usr/bin/chromium, or
CIRCUIT_RUN_CHROMIUM). For each circuit it writes the page into
benchmarks/out/, opens it headless, and times one update the way a slider
does it: `circuitRun.set(input, value)` (forward, backward, every number in
the diagram, the table and the input boxes rewritten), then the style and
layout that the change forces, read inside the page with performance.now().
Goal: at most 50 ms for a 1,000-gate circuit.

Two circuits of about 1,000 gates: an MLP written with modules (about a
thousand weights, so as many sliders; its diagram starts folded, one box per
layer, and is measured unfolded too), and a random DAG of mixed ops over ten
inputs (long wires, a deep diagram).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
GOAL_MS = 50.0
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

MLP = """\
inputs: {x0: {value: 0.5, trainable: false}, x1: {value: -1.0, trainable: false}, x2: {value: 0.25, trainable: false},
         x3: {value: 2.0, trainable: false}, x4: {value: 1.5, trainable: false}, x5: {value: -0.5, trainable: false},
         x6: {value: 0.75, trainable: false}, x7: {value: -2.0, trainable: false}}
modules:
  neuron:
    in: [x]
    params: {w: {size: x, init: "uniform(-1, 1)"}, b: 0}
    out: dot(w, x) + b
gates:
  h1: {use: neuron, in: [[x0, x1, x2, x3, x4, x5, x6, x7]], repeat: 32, activation: tanh}
  h2: {use: neuron, in: [h1], repeat: 20, activation: tanh}
  y: {use: neuron, in: [h2]}
seed: 1
"""


def dag_spec(gates: int, inputs: int = 10, seed: int = 0) -> str:
    """A random DAG: each gate reads one of the last few nodes and one anywhere before it."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(inputs)]
    lines = ["inputs: {" + ", ".join(f"{name}: {rng.uniform(-1, 1):.3f}" for name in names) + "}", "gates:"]
    for i in range(gates):
        recent, anywhere = rng.choice(names[-5:]), rng.choice(names)
        op = rng.choice(["add", "mul", "sub", "tanh", "sigmoid", "sin"])
        refs = f"[{recent}]" if op in ("tanh", "sigmoid", "sin") else f"[{recent}, {anywhere}]"
        lines.append(f"  g{i}: {{op: {op}, in: {refs}}}")
        names.append(f"g{i}")
    return "\n".join(lines) + "\n"


TIMING = """([name, values]) => {
  const times = [];
  for (const value of values) {
    const start = performance.now();
    circuitRun.set(name, value);
    document.body.getBoundingClientRect();  // the style and layout the update forces
    void document.body.offsetHeight;
    times.push(performance.now() - start);
  }
  return times;
}"""


def measure(browser, path: Path, updates: int, unfold: bool = False) -> tuple[int, float, float]:
    """(gates, median ms, slowest ms) of `updates` updates of the page at `path`
    (with every node in the diagram when `unfold`: a big network starts folded)."""
    import runner
    from runner.present.page import write_html

    result = runner.run_spec(runner.load_spec(path), run_optimization=False)
    page_file = path.with_suffix(".html")
    write_html(result, page_file)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    if unfold and page.locator("#fold").get_attribute("aria-pressed") == "true":
        page.locator("#fold").click()
    name = page.evaluate("circuitRun.inputs()[0]")
    start = page.evaluate(f"circuitRun.values()[{name!r}]")
    values = [start + 0.01 * (i + 1) for i in range(updates + 3)]
    times = page.evaluate(TIMING, [name, values])[3:]  # the first updates warm the JIT up
    page.close()
    return len(result.circuit.tape), statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 updates per circuit instead of 40")
    options = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("needs Playwright: pip install -e '.[test]'")
    chromium = os.environ.get("CIRCUIT_RUN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit("needs Chromium: apt-get install chromium (or set CIRCUIT_RUN_CHROMIUM)")
    OUT.mkdir(exist_ok=True)
    circuits = {"mlp-modules": (MLP, False), "mlp-modules, unfolded": (MLP, True),
                "random-dag": (dag_spec(1000), False)}
    updates = 10 if options.quick else 40
    print(f"| circuit | gates | one update, median (ms) | slowest (ms) | goal {GOAL_MS:g} ms: median / goal |")
    print("|---|---:|---:|---:|---:|")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        for name, (text, unfold) in circuits.items():
            path = OUT / f"page-{name.split(',')[0]}.yaml"
            path.write_text(text)
            gates, median, slowest = measure(browser, path, updates, unfold)
            print(f"| {name} | {gates} | {median:.1f} | {slowest:.1f} | {median / GOAL_MS:.2f} |")
        browser.close()


if __name__ == "__main__":
    main()
