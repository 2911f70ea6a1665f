"""pytest plugin: every YAML or JSON circuit spec with an `expect` block is a test.

Registered through the `pytest11` entry point, so `pytest circuits/` works
with nothing to configure. A YAML or JSON file is collected when it has
top-level `gates` and `expect` keys (checked on the text, so a spec with a
syntax error is still collected, and fails with its FILE:LINE:COL message);
other files (package.json, CI workflows) are left alone. Each spec is one
item, named after the file, so `-k`, `-x`, `--junitxml` and pytest-xdist
work as usual. A failure shows the same table as `circuit-run --check`, not
a traceback. `--circuit-update`
rewrites failing or missing expectations like `circuit-run --update-expect`.

This module is imported by every pytest run in an environment where
circuit-run is installed, so it imports the rest of circuit-run only when a
spec is actually collected or run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

_TOP_KEY = r"^[\"']?{}[\"']?[ \t]*:"
_GATES = re.compile(_TOP_KEY.format("gates"), re.M)
_EXPECT = re.compile(_TOP_KEY.format("expect"), re.M)
_SUFFIXES = (".yaml", ".yml", ".json")
_JSON_GATES = re.compile(r'"gates"\s*:')
_JSON_EXPECT = re.compile(r'"expect"\s*:')
_UPDATED = "circuit-run updated"  # user_properties key: survives xdist's report transport


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("circuit-run", "circuit-run spec checks")
    group.addoption("--circuit-update", action="store_true", default=False,
                    help="Write the actual results into the expect blocks of collected circuit specs "
                         "(only entries that fail; the rest of each file is kept byte for byte).")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix.lower() in _SUFFIXES and is_spec_file(file_path):
        return CircuitFile.from_parent(parent, path=file_path)
    return None


def is_spec_file(path: Path) -> bool:
    """Top-level `gates:` and `expect:` keys, looked for in the text itself."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 20).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError:
        return False
    if path.suffix.lower() == ".json":
        return _is_json_spec(head)
    if _GATES.search(head) and _EXPECT.search(head):
        return True
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{") and "gates" in head and "expect" in head:  # a one-line flow mapping
        return _flow_top_keys(head) >= {"gates", "expect"}
    return False


def _is_json_spec(head: str) -> bool:
    """An object with top-level "gates" and "expect"; JSON that does not parse
    (or is longer than `head`) but names both is collected, to fail with its position."""
    if not head.lstrip().startswith("{") or not (_JSON_GATES.search(head) and _JSON_EXPECT.search(head)):
        return False
    import json

    try:
        data = json.loads(head)
    except ValueError:
        return True
    return isinstance(data, dict) and {"gates", "expect"} <= data.keys()


def _flow_top_keys(text: str) -> set:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return set()
    if not isinstance(node, yaml.MappingNode):
        return set()
    return {getattr(key, "value", None) for key, _ in node.value}


class CircuitFile(pytest.File):
    def collect(self):
        yield CircuitItem.from_parent(self, name=self.path.stem)


class CircuitCheckFailed(Exception):
    """Raised by a failing item; carries the report shown instead of a traceback."""


class CircuitItem(pytest.Item):
    def runtest(self) -> None:
        from .errors import CircuitRunError
        from .present.errors import error_lines

        source = self._source()
        try:
            if self.config.getoption("circuit_update"):
                self._update(source)
            self._check(source)
        except CircuitRunError as err:
            raise CircuitCheckFailed("\n".join(error_lines(err, source, source))) from None

    def _check(self, source: str) -> None:
        from .present.tables import render_check
        from .results.run import run_spec
        from .spec.validate import load_spec

        spec = load_spec(source)
        check = run_spec(spec, check=True).check
        assert check is not None
        if not check.passed:
            hint = "\n(run pytest with --circuit-update, or circuit-run --update-expect, " \
                   "to accept the actual values)"
            wrong = [c.path for c in check.failures] + check.notes
            summary = f"{source}: expectation failed: {', '.join(wrong)}"
            raise CircuitCheckFailed(summary + "\n" + render_check(source, check).rstrip("\n") + hint)

    def _update(self, source: str) -> None:
        from .results.update_expect import describe_number, update_file

        outcome = update_file(source)
        if outcome.changed:
            lines = [f"{c.path}: {'' if c.old is None else describe_number(c.old) + ' -> '}"
                     f"{describe_number(c.new)}" for c in outcome.changes]
            self.user_properties.append((_UPDATED, f"{source}\n" + "\n".join(f"  {l}" for l in lines)))

    def _source(self) -> str:
        """The path as the user would type it: relative to the working directory when inside it."""
        try:
            relative = os.path.relpath(self.path)
        except ValueError:  # another drive on Windows
            return str(self.path)
        return str(self.path) if relative.startswith("..") else relative

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None):
        if isinstance(excinfo.value, CircuitCheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"circuit spec {self.path.name}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    updated = [value for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
               for key, value in getattr(report, "user_properties", []) if key == _UPDATED]
    if updated:
        terminalreporter.section("circuit-run: updated expectations")
        for entry in updated:
            terminalreporter.write_line(entry)
