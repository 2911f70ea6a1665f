"""What many tests share: where things are, and ways to run circuit-run from a test."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli import main

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "circuits"
CORPUS = ROOT / "tests" / "corpus"

# f = x*x + x + 2 (df/dx = 2x + 1 = 7 at x = 3) with a branch that does not
# feed the output: fan-out, a constant, a fixed input and an unused node at once.
FAN_OUT = """\
description: f = x*x + x + 2, with an unused branch
inputs:
  x: 3
  w: {value: 1, trainable: false}
gates:
  m: {op: mul, in: [x, x]}
  u: {op: neg, in: [w]}
  f: {op: add, in: [m, x, 2]}
output: f
"""


def invoke(*args: str, input: str | None = None):
    """Run `circuit-run ARGS` in-process; exceptions propagate (no traceback hiding)."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_source(source: "str | Path", **options):
    """A RunResult from a spec file (a Path) or from YAML text."""
    import runner

    spec = runner.load_spec(source) if isinstance(source, Path) else runner.load_spec_text(source, "t.yaml")
    return runner.run_spec(spec, **options)


class Cli:
    """Run `circuit-run` in-process through click's CliRunner."""

    def __call__(self, *args: str, input: str | None = None):
        return invoke(*args, input=input)

    def json(self, *args: str, input: str | None = None) -> list[dict]:
        result = self(*args, "--format", "json", input=input)
        assert result.exit_code == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]


# --html: text that tries to break out of the page (a script element, quotes,
# the line separators JavaScript once treated as newlines, unicode)
HOSTILE = "</script><script>window.pwned = 1</script><!-- \"quotes\" 'single' & \u2028\u2029 ünïcødé 🎛"


def hostile_spec() -> str:
    """A spec whose name and description are HOSTILE (YAML escapes for U+2028/9, which YAML reads as line breaks)."""
    quoted = json.dumps(HOSTILE, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"name: {quoted}\ndescription: {quoted}\ninputs: {{x: 1}}\ngates:\n  f: {{op: neg, in: [x]}}\n"


def chain_spec(gates: int) -> str:
    """A spec of `gates` gates in a chain, of five ops, over inputs x and y."""
    lines = ["inputs: {x: 0.5, y: 2}", "gates:", "  g0: {op: mul, in: [x, y]}"]
    ops = ["add", "mul", "sub", "tanh", "sin"]
    for i in range(1, gates):
        op = ops[i % len(ops)]
        refs = f"[g{i - 1}]" if op in ("tanh", "sin") else f"[g{i - 1}, {'x' if i % 2 else 'y'}]"
        lines.append(f"  g{i}: {{op: {op}, in: {refs}}}")
    return "\n".join(lines) + "\n"
