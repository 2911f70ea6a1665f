"""Shared helpers for the test suite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# In CI the property tests replay the same examples every run (a failure there
# must be reproducible, not a dice roll); locally they explore new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

from runner.cli import main

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "circuits"


def central_difference(f, x: list[float], i: int, h: float = 1e-6) -> float:
    """Independent reference: (f(x + h e_i) - f(x - h e_i)) / 2h."""
    plus, minus = list(x), list(x)
    plus[i] += h
    minus[i] -= h
    return (f(*plus) - f(*minus)) / (2 * h)


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


def invoke(*args: str):
    """Run `circuit-run ARGS` in-process; exceptions propagate (no traceback hiding)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_source(source: "str | Path", **options):
    """A RunResult from a spec file (a Path) or from YAML text."""
    import runner

    spec = runner.load_spec(source) if isinstance(source, Path) else runner.load_spec_text(source, "t.yaml")
    return runner.run_spec(spec, **options)


class Cli:
    """Run `circuit-run` in-process through click's CliRunner."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        result = self.runner.invoke(main, list(args), input=input, catch_exceptions=False)
        return result

    def json(self, *args: str, input: str | None = None) -> list[dict]:
        result = self(*args, "--format", "json", input=input)
        assert result.exit_code == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def write(tmp_path: Path):
    """write('name.yaml', text) -> path of a new file in tmp_path."""

    def _write(name: str, text: str | bytes) -> str:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return _write
