"""The performance benchmark: circuit-run beside micrograd and torch, in one run.

    benchmarks/setup.sh                 # once: benchmarks/.venv with circuit-run, micrograd, torch
    python3 benchmarks/run.py [--quick]

Generates the circuits into benchmarks/out/, runs every measurement in a child process
(with a timeout and its own peak-RSS reading), prints Markdown tables and writes the raw
numbers to benchmarks/out/results.json. See README.md for what each number means.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
VENV = HERE / ".venv"

sys.path.insert(0, str(HERE))
import generate  # noqa: E402
from peers import N_HI, N_LO  # noqa: E402

GOALS = {"vs_micrograd": 10.0, "vs_torch": 40.0, "memory_bytes": 2 * 1024**3,
         "load_vs_yaml": 1.3, "load_vs_json": 4.0, "startup": 1.3}
STARTUP_BASELINE = "import click, yaml, pydantic; from pydantic import BaseModel"
# The same plus defining one pydantic model: what any tool with a pydantic model pays
# (the first model imports pydantic.fields, pydantic.types and annotated_types, which
# the baseline never loads). Shown for context; the goal is against the baseline.
STARTUP_ONE_MODEL = STARTUP_BASELINE + "\nclass M(BaseModel):\n    x: int"

# What "seconds" means everywhere: the child's CPU time (user + sys) by default, since
# the work is single-threaded and CPU time barely moves when other processes share the
# machine; wall-clock time with --wall.
WALL = False


@dataclass(frozen=True)
class Config:
    """Sizes and repeat counts; --quick keeps everything small enough for < 1 minute."""

    quick: bool
    timeout: float
    scale_sizes: tuple[int, ...]
    load_gates: int
    trace_rows: int
    cli_repeat: int
    peer_repeat: int
    startup_repeat: int

    @classmethod
    def make(cls, quick: bool, timeout: float | None) -> "Config":
        if quick:
            return cls(True, timeout or 60, (1_000, 10_000), 10_000, 10_000, 3, 1, 7)
        return cls(False, timeout or 300, (1_000, 10_000, 100_000, 1_000_000), 100_000,
                   100_000, 9, 3, 31)


# ---------------------------------------------------------------------------------------
# Child processes
# ---------------------------------------------------------------------------------------


@dataclass
class Child:
    """One finished child process: wall seconds, peak RSS, exit code, output."""

    seconds: float
    max_rss: int  # bytes
    returncode: int | None  # None: killed by the timeout
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe_failure(self) -> str:
        if self.returncode is None:
            return "timeout"
        tail = self.stderr.strip().splitlines()[-1:] or [""]
        return f"exit {self.returncode}: {tail[0][:120]}"


def run_child(cmd: list[str], timeout: float, stdout_path: Path | None = None,
              capture: bool = False) -> Child:
    """Run cmd; time it and read its own peak RSS with os.wait4 (no /usr/bin/time needed).

    ru_maxrss from wait4 belongs to that one child, unlike RUSAGE_CHILDREN, which keeps
    the maximum over every child this process ever waited for. One Linux caveat: a
    child's ru_maxrss starts at the peak RSS of the process that forked it (exec keeps
    the larger of the two), so this process must stay smaller than what it measures;
    main() checks that.
    """
    with tempfile.TemporaryFile() as err, _open_stdout(stdout_path, capture) as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        killed = threading.Event()
        timer = threading.Timer(timeout, _kill_group, (proc, killed))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        stdout = ""
        if capture:
            out.seek(0)
            stdout = out.read().decode(errors="replace")
    if not WALL:
        seconds = usage.ru_utime + usage.ru_stime
    code = None if killed.is_set() else proc.returncode
    return Child(seconds, usage.ru_maxrss * 1024, code, stdout, stderr)


def _open_stdout(path: Path | None, capture: bool):
    if capture:
        return tempfile.TemporaryFile()
    if path is not None:
        return path.open("wb")
    return open(os.devnull, "wb")


def _kill_group(proc: subprocess.Popen, killed: threading.Event) -> None:
    killed.set()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def median_child(cmd: list[str], repeat: int, timeout: float,
                 stdout_path: Path | None = None) -> Child:
    """Median wall time of `repeat` runs (the first failure stops early and is returned)."""
    runs = []
    for _ in range(repeat):
        child = run_child(cmd, timeout, stdout_path)
        if not child.ok:
            return child
        runs.append(child)
    runs.sort(key=lambda c: c.seconds)
    middle = runs[len(runs) // 2]
    middle.seconds = statistics.median(c.seconds for c in runs)
    return middle


def peer(cfg: Config, *args: str) -> dict | str:
    """Run ``peers.py ARGS`` in a child; its JSON result, or a failure string."""
    clock = ["--wall"] if WALL else []
    child = run_child([sys.executable, str(HERE / "peers.py"), *clock, *args], cfg.timeout,
                      capture=True)
    if not child.ok:
        return child.describe_failure()
    result = json.loads(child.stdout)
    result["max_rss"] = child.max_rss
    return result


# ---------------------------------------------------------------------------------------
# circuit-run
# ---------------------------------------------------------------------------------------


class CircuitRun:
    """How to call the circuit-run console script of this environment."""

    def __init__(self) -> None:
        self.exe = str(Path(sys.executable).parent / "circuit-run")
        if not Path(self.exe).exists():
            self.exe = shutil.which("circuit-run") or ""
        if not self.exe:
            sys.exit("circuit-run is not installed: run benchmarks/setup.sh")
        help_text = subprocess.run([self.exe, "--help"], capture_output=True, text=True).stdout
        self.has_iterations_option = "--iterations" in help_text

    def cmd(self, spec: Path, fmt: str = "csv", *extra: str) -> list[str]:
        return [self.exe, "--format", fmt, *extra, str(spec)]

    def mlp_cmd(self, out: Path, iterations: int) -> list[str]:
        """The MLP at `iterations` steps: by --iterations when the CLI has it."""
        if self.has_iterations_option:
            return self.cmd(out / f"mlp-{N_HI}.json", "csv",
                            "--iterations", str(iterations))
        return self.cmd(out / f"mlp-{iterations}.json")


# ---------------------------------------------------------------------------------------
# Circuits
# ---------------------------------------------------------------------------------------


def generate_circuits(cfg: Config, out: Path, fresh: bool) -> None:
    """Write every spec the run needs; files already in out/ are reused unless --fresh
    (the generator is deterministic, and the 10^6-gate specs take a few seconds each).

    Each spec is made by ``generate.py`` in a child process: building a 10^6-gate spec
    takes about 1 GB, and this process must stay small (see run_child on peak RSS).
    """
    wanted = [(f"mlp-{n}.json", ["mlp", "--iterations", str(n)]) for n in (N_LO, N_HI)]
    for n in cfg.scale_sizes:
        wanted += [(f"chain-{n}.json", ["chain", str(n)]), (f"dag-{n}.json", ["dag", str(n)])]
    wanted += [(f"dag-{cfg.load_gates}.{fmt}", ["dag", str(cfg.load_gates)])
               for fmt in ("json", "yaml")]
    wanted += [(f"trace-{cfg.trace_rows}.json", ["trace", str(cfg.trace_rows)]),
               ("small.yaml", ["trace", "1"])]
    for name, args in wanted:
        path = out / name
        if fresh or not path.exists():
            subprocess.run([sys.executable, str(HERE / "generate.py"), *args, "-o", str(path)],
                           check=True, stderr=subprocess.DEVNULL)


def small_example() -> Path | None:
    """The smallest circuits/*.yaml of the project: the start-up test's subject."""
    examples = sorted((PROJECT / "circuits").glob("*.yaml"), key=lambda p: p.stat().st_size)
    return examples[0] if examples else None


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------


def measure_startup(cfg: Config, cr: CircuitRun, out: Path) -> dict:
    """Median of runs of each command, interleaved so that drift in the machine's speed
    hits both sides alike."""
    spec = small_example() or out / "small.yaml"
    runs: dict[str, list[Child]] = {"circuit_run": [], "imports": [], "one_model": []}
    commands = {"circuit_run": [cr.exe, str(spec)],
                "imports": [sys.executable, "-c", STARTUP_BASELINE],
                "one_model": [sys.executable, "-c", STARTUP_ONE_MODEL]}
    failures = []
    for _ in range(cfg.startup_repeat):
        for key, cmd in commands.items():
            child = run_child(cmd, cfg.timeout)
            if not child.ok:
                failures.append(child.describe_failure())
            runs[key].append(child)
    result = {"spec": str(spec.relative_to(PROJECT) if spec.is_relative_to(PROJECT) else spec),
              "runs": cfg.startup_repeat}
    for key, children in runs.items():
        result[key] = statistics.median(c.seconds for c in children) if not failures else None
    result["max_rss"] = max(c.max_rss for c in runs["circuit_run"]) if not failures else None
    result["ratio"] = _ratio(result["circuit_run"], result["imports"])
    result["ratio_one_model"] = _ratio(result["circuit_run"], result["one_model"])
    if failures:
        result["failure"] = "; ".join(failures)
    return result


def measure_mlp(cfg: Config, cr: CircuitRun, out: Path) -> dict:
    """Per-iteration cost on the MLP: CLI by differencing, then API and peers in-process."""
    gates = generate.mlp_gate_count()["gates"]
    lo_runs, hi_runs = [], []
    failure = None
    for _ in range(cfg.cli_repeat):  # interleaved, so drift hits both sides alike
        lo, hi = (run_child(cr.mlp_cmd(out, n), cfg.timeout) for n in (N_LO, N_HI))
        if not (lo.ok and hi.ok):
            failure = (lo if not lo.ok else hi).describe_failure()
            break
        lo_runs.append(lo.seconds)
        hi_runs.append(hi.seconds)
    if failure:
        cli: dict | str = failure
    else:
        per_iter = (statistics.median(hi_runs) - statistics.median(lo_runs)) / (N_HI - N_LO)
        cli = {"seconds_per_iteration": per_iter, "ns_per_gate": per_iter / gates * 1e9,
               f"seconds_{N_LO}": statistics.median(lo_runs),
               f"seconds_{N_HI}": statistics.median(hi_runs)}
    repeat = str(cfg.peer_repeat)
    # circuit-run's runs take a tenth of a second: more of them steady the median of a
    # difference (110 - 10 steps) that is small beside one-time costs such as compiling.
    api_repeat = str(3 * cfg.peer_repeat)
    return {
        "gates": gates,
        "circuit-run CLI": cli,
        "circuit-run API": peer(cfg, "mlp", "api", "--repeat", api_repeat, "--spec-dir", str(out)),
        "micrograd": peer(cfg, "mlp", "micrograd", "--repeat", repeat),
        "micrograd (gc off)": peer(cfg, "mlp", "micrograd", "--gc-off", "--repeat", repeat),
        "torch": peer(cfg, "mlp", "torch", "--repeat", repeat),
    }


def measure_scale(cfg: Config, cr: CircuitRun, out: Path, startup: dict) -> list[dict]:
    """One CLI run per size: load, validate, compile, forward + backward, CSV to /dev/null."""
    rows = []
    base_s = startup["circuit_run"] or 0.0
    base_rss = startup["max_rss"] or 0
    for kind in ("chain", "dag"):
        for n in cfg.scale_sizes:
            child = run_child(cr.cmd(out / f"{kind}-{n}.json"), cfg.timeout)
            row = {"kind": kind, "gates": n, "bytes_file": (out / f"{kind}-{n}.json").stat().st_size}
            if child.ok:
                row.update(seconds=child.seconds, max_rss=child.max_rss,
                           ns_per_gate=(child.seconds - base_s) / n * 1e9,
                           bytes_per_gate=(child.max_rss - base_rss) / n)
            else:
                row["failure"] = child.describe_failure()
            rows.append(row)
    return rows


def measure_loading(cfg: Config, cr: CircuitRun, out: Path, startup: dict) -> dict:
    """Whole run minus start-up, against the bare parsers on the same file."""
    n, base = cfg.load_gates, startup["circuit_run"] or 0.0
    result = {"gates": n}
    for fmt in ("yaml", "json"):
        spec = out / f"dag-{n}.{fmt}"
        # JSON runs take under a second: more of them steady both medians
        repeat = max(3, cfg.cli_repeat // 2) if fmt == "yaml" else 2 * cfg.cli_repeat
        run = median_child(cr.cmd(spec), repeat, cfg.timeout)
        parser = peer(cfg, "load", str(spec), "--repeat", str(repeat))
        entry = {"bytes": spec.stat().st_size, "parser": _field(parser, "seconds"),
                 "circuit_run": run.seconds - base if run.ok else run.describe_failure()}
        entry["ratio"] = _ratio(entry["circuit_run"], entry["parser"])
        result[fmt] = entry
    result["stages"] = peer(cfg, "stages", str(out / f"dag-{n}.json"))
    return result


def measure_output(cfg: Config, cr: CircuitRun, out: Path) -> dict:
    """The JSON writer (API, in-process) against json.dumps of the same document, and the
    whole ``--format json`` CLI run for context."""
    result = {}
    cases = {"circuit": out / f"dag-{cfg.load_gates}.json",
             "trace": out / f"trace-{cfg.trace_rows}.json"}
    for label, spec in cases.items():
        run = median_child(cr.cmd(spec, "json"), 3, cfg.timeout)
        writer = peer(cfg, "output", str(spec))
        entry = {"spec": spec.name, "cli_json_run": _seconds(run)}
        if isinstance(writer, dict):
            entry.update(writer=writer["writer"], writer_s=writer["seconds"],
                         dumps=writer["dumps"], bytes=writer["bytes"])
            entry["ratio"] = _ratio(writer["seconds"], writer["dumps"])
        failures = [f for f in (writer if isinstance(writer, str) else None,
                                None if run.ok else run.describe_failure()) if f]
        if failures:
            entry["failure"] = "; ".join(failures)
        result[label] = entry
    return result


def _seconds(child: Child) -> float | None:
    return child.seconds if child.ok else None


def _field(result: dict | str, key: str):
    return result[key] if isinstance(result, dict) else result


def _ratio(a, b) -> float | None:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return a / b
    return None


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": model, "nproc": os.cpu_count(), "memory_gib": round(mem / 1024**3, 1),
            "loadavg_at_start": os.getloadavg()[0], "runner_sha256": engine_fingerprint(),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.date.today().isoformat(), "versions": _versions()}


def engine_fingerprint(package: Path = PROJECT / "runner") -> str:
    """A short hash of runner/**/*.py: ties the numbers to the engine code they measured."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_installed() -> None:
    """Measure circuit-run as users get it: a regular install (bytecode compiled by pip,
    no editable-install import hook), of exactly this checkout. Reinstalled whenever the
    installed runner/**/*.py differ from the checkout's (a few seconds, no dependencies)."""
    import sysconfig

    installed = Path(sysconfig.get_paths()["purelib"]) / "runner"
    if installed.is_dir() and engine_fingerprint(installed) == engine_fingerprint():
        return
    print("[installing this checkout into benchmarks/.venv]", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--force-reinstall", str(PROJECT)], check=True)


def _versions() -> dict:
    from importlib import metadata

    versions = {}
    for name in ("circuit-run", "micrograd", "torch", "pyyaml", "pydantic", "click"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value == 0 or 0.01 <= abs(value) < 100_000:
            return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mib(n) -> float | None:
    return n / 1024**2 if isinstance(n, (int, float)) else None


def _mlp_report(mlp: dict) -> str:
    cli = mlp["circuit-run CLI"]
    cli_ns = _field(cli, "ns_per_gate")
    api_ns = _field(mlp["circuit-run API"], "ns_per_gate")
    rows = []
    for name, result in mlp.items():
        if name == "gates":
            continue
        ns = _field(result, "ns_per_gate")
        us = _field(result, "seconds_per_iteration")
        loss = result.get("loss_after_10") if isinstance(result, dict) else None
        rows.append([name, us * 1e3 if isinstance(us, float) else us, ns,
                     _ratio(ns, cli_ns), _ratio(ns, api_ns), loss])
    head = (f"### 1. Optimization throughput: MLP(8, [32, 32, 1]) + squared loss, "
            f"{mlp['gates']:,} gates (forward + backward + update per iteration)\n\n")
    return head + table(["engine", "ms/iteration", "ns/gate", "÷ CLI", "÷ API",
                         "loss after 10 steps"], rows) + (
        f"\n\nGoals: micrograd ÷ circuit-run ≥ {GOALS['vs_micrograd']:g}, "
        f"torch ÷ circuit-run ≥ {GOALS['vs_torch']:g}.")


def _depth_report(depth) -> str:
    if isinstance(depth, str):
        return f"### micrograd recursion depth\n\n{depth}"
    return (f"### micrograd recursion depth\n\nmicrograd backprops a relu chain of "
            f"{depth['max_depth']:,} gates; {depth['fails_at']:,} raises RecursionError "
            f"(recursion limit {depth['recursion_limit']:,}).")


def _scale_report(rows: list[dict]) -> str:
    body = [[r["kind"], r["gates"], _mib(r["bytes_file"]), r.get("seconds"),
             r.get("ns_per_gate"), _mib(r.get("max_rss")), r.get("bytes_per_gate"),
             r.get("failure", "ok" if r.get("max_rss", 0) < GOALS["memory_bytes"] else "> 2 GiB")]
            for r in rows]
    return ("### 2. Scale: one `circuit-run --format csv SPEC.json` process\n\n" +
            table(["circuit", "gates", "file MiB", "seconds", "ns/gate (−start-up)",
                   "peak RSS MiB", "bytes/gate (−start-up RSS)", "status"], body))


def _loading_report(loading: dict) -> str:
    rows = [[fmt.upper(), _mib(e["bytes"]), e["circuit_run"], e["parser"], e["ratio"], goal]
            for fmt, e, goal in (("yaml", loading["yaml"], GOALS["load_vs_yaml"]),
                                 ("json", loading["json"], GOALS["load_vs_json"]))]
    text = (f"### 3. Loading: {loading['gates']:,}-gate DAG, whole run minus start-up vs the "
            f"bare parser\n\n" + table(["format", "MiB", "circuit-run s", "parser s",
                                        "ratio", "goal ≤"], rows))
    stages = loading["stages"]
    if isinstance(stages, dict):
        stage_rows = [[k, v] for k, v in stages.items() if k != "max_rss"]
        text += ("\n\nWhere the time goes (Python API, JSON spec, one pass, collector off as in "
                 "the CLI; load includes validation):\n\n" +
                 table(["stage", "seconds"], stage_rows))
    return text


def _startup_report(s: dict) -> str:
    one_model = STARTUP_BASELINE + "; class M(BaseModel): x: int"  # as one line, for the table
    return (f"### 4. Start-up (median of {s.get('runs', 'several')} interleaved runs)\n\n" +
            table(["command", "seconds", "circuit-run ÷"],
                  [[f"circuit-run {s['spec']}", s["circuit_run"], 1],
                   [f'python -c "{STARTUP_BASELINE}"', s["imports"], s["ratio"]],
                   [f'python -c "{one_model}" (context)', s.get("one_model"),
                    s.get("ratio_one_model")]]) +
            f"\n\nratio {_cell(s['ratio'])} (goal ≤ {GOALS['startup']:g})" +
            (f"; failed: {s['failure']}" if "failure" in s else ""))


def _output_report(output: dict) -> str:
    rows = [[label, e["spec"], _mib(e.get("bytes")), e.get("cli_json_run"), e.get("writer"),
             e.get("writer_s"), e.get("dumps"), e.get("ratio"), e.get("failure", "ok")]
            for label, e in output.items()]
    return ("### 5. Output: the JSON writer vs json.dumps of the same document\n\n" +
            table(["case", "spec", "output MiB", "whole CLI json run s", "writer",
                   "writer s", "json.dumps s", "writer ÷ dumps", "status"], rows))


# ---------------------------------------------------------------------------------------


def ensure_venv() -> None:
    """Re-run under benchmarks/.venv, where circuit-run, micrograd and torch live."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        sys.exit("benchmarks/.venv is missing: run benchmarks/setup.sh first")
    os.execv(str(python), [str(python), *sys.argv])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--timeout", type=float, help="seconds per child (300; quick: 60)")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="generated files")
    parser.add_argument("--wall", action="store_true",
                        help="time wall clock instead of CPU time (quiet machines only)")
    parser.add_argument("--fresh", action="store_true", help="regenerate existing specs")
    parser.add_argument("--only", nargs="*", default=None,
                        choices=("mlp", "depth", "scale", "loading", "startup", "output"),
                        help="run only these sections")
    args = parser.parse_args(argv)
    ensure_venv()
    ensure_installed()
    global WALL
    WALL = args.wall

    cfg = Config.make(args.quick, args.timeout)
    cr = CircuitRun()
    args.out.mkdir(parents=True, exist_ok=True)
    generate_circuits(cfg, args.out, args.fresh)

    wanted = set(args.only or ("mlp", "depth", "scale", "loading", "startup", "output"))
    results: dict = {"machine": machine(), "config": cfg.__dict__,
                     "clock": "wall" if WALL else "cpu"}
    startup = measure_startup(cfg, cr, args.out)  # every other section subtracts it
    steps = {
        "startup": lambda: startup,
        "mlp": lambda: measure_mlp(cfg, cr, args.out),
        "depth": lambda: peer(cfg, "depth"),
        "scale": lambda: measure_scale(cfg, cr, args.out, startup),
        "loading": lambda: measure_loading(cfg, cr, args.out, startup),
        "output": lambda: measure_output(cfg, cr, args.out),
    }
    for name, step in steps.items():
        if name in wanted:
            began = time.perf_counter()
            results[name] = step()
            print(f"[{name}: {time.perf_counter() - began:.1f} s]", file=sys.stderr)

    results["machine"]["loadavg_at_end"] = os.getloadavg()[0]
    results["harness_max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(report_partial(results))
    return 0


def report_partial(results: dict) -> str:
    """The report, with the sections that did not run left out."""
    parts = {"mlp": _mlp_report, "depth": _depth_report, "scale": _scale_report,
             "loading": _loading_report, "startup": _startup_report, "output": _output_report}
    m = results["machine"]
    out = [f"Machine: {m['cpu']}, {m['nproc']} CPUs, {m['memory_gib']} GiB, "
           f"Python {m['python']}, {m['date']}; runner/**/*.py sha256 {m['runner_sha256']}; " +
           ", ".join(f"{k} {v}" for k, v in m["versions"].items()) +
           f"; 1-minute load average {m['loadavg_at_start']:.2f} at start, "
           f"{m['loadavg_at_end']:.2f} at end (above ~1 means something else shared the CPUs); "
           f"seconds are {'wall-clock' if results['clock'] == 'wall' else 'CPU (user + sys)'} "
           f"time"]
    out += [fn(results[name]) for name, fn in parts.items() if name in results]
    out.append(f"(harness peak RSS {_mib(results['harness_max_rss']):.0f} MiB: child RSS "
               f"readings below it are not valid)")
    return "\n\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
