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
`--circuit-engine MODULE:CLASS` adds the conformance suite of `circuit-run
--engine MODULE:CLASS --conformance`, one item per case, and runs every
collected spec with that engine too (an item `NAME[engine]` beside it).

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
_ENGINE = pytest.StashKey()  # the --circuit-engine worker of a session
_REFUSED = pytest.StashKey()  # why it could not start


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("circuit-run", "circuit-run spec checks")
    group.addoption("--circuit-update", action="store_true", default=False,
                    help="Write the actual results into the expect blocks of collected circuit specs "
                         "(only entries that fail; the rest of each file is kept byte for byte).")
    group.addoption("--circuit-round", action="store_true", default=False,
                    help="With --circuit-update: write each number as the shortest decimal within half of "
                         "its entry's tolerance, as circuit-run --update-expect --round does.")
    group.addoption("--circuit-engine", metavar="MODULE:CLASS", default=None,
                    help="Check another scalar autodiff class: run circuit-run's conformance suite with it (one "
                         "test per case) and every collected spec too. Imports and runs that code.")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("circuit_engine", None)
    if target:
        from .results.foreign_engine import check_target

        try:
            check_target(target)
        except ValueError as err:
            raise pytest.UsageError(f"--circuit-engine: {err}") from None


def _engine(config: pytest.Config):
    """The session's engine worker, started when first needed (EngineError
    if the class cannot be used; every engine item then reports it)."""
    engine = config.stash.get(_ENGINE, None)
    if engine is None:
        from .results.foreign_engine import ForeignEngine

        engine = config.stash[_ENGINE] = ForeignEngine(config.getoption("circuit_engine"))
        config.add_cleanup(engine.close)
    refused = config.stash.get(_REFUSED, None)
    if refused is not None:  # tried once: not again for every item
        raise refused
    from .results.foreign_engine import EngineError

    try:
        engine.start()
    except EngineError as err:
        config.stash[_REFUSED] = err
        raise
    return engine


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    if config.getoption("circuit_engine", None):
        from .results.conformance import cases

        suite = ConformanceSuite.from_parent(session, name="circuit-run-conformance",
                                             nodeid="circuit-run-conformance")
        items.extend(ConformanceItem.from_parent(suite, name=case.name, case=case) for case in cases())


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
        if self.config.getoption("circuit_engine", None):
            yield CircuitEngineItem.from_parent(self, name=f"{self.path.stem}[engine]")


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
        from .present.errors import printable
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
            summary = printable(f"{source}: expectation failed: {', '.join(wrong)}")
            raise CircuitCheckFailed(summary + "\n" + render_check(source, check).rstrip("\n") + hint)

    def _update(self, source: str) -> None:
        from .results.update_expect import describe_number, update_file

        outcome = update_file(source, round_numbers=self.config.getoption("circuit_round"))
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


class EngineItem(pytest.Item):
    """An item whose verdict is a --circuit-engine CaseResult."""

    def runtest(self) -> None:
        from .errors import CircuitRunError
        from .present.engine_report import VERDICTS
        from .present.errors import error_lines

        try:
            result = self.check(_engine(self.config))
        except CircuitRunError as err:
            raise CircuitCheckFailed("\n".join(error_lines(err, self._where(), self._where()))) from None
        if result.status == "skipped":  # reported at the item (the spec, the case), not at this line
            raise pytest.skip.Exception(result.detail, _use_item_location=True)
        if result.failed:
            raise CircuitCheckFailed(f"{result.name}: {VERDICTS[result.status]} {result.detail}")

    def check(self, engine):
        raise NotImplementedError

    def _where(self) -> str:
        return self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None):
        if isinstance(excinfo.value, CircuitCheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CircuitEngineItem(EngineItem):
    """A collected spec, run with the --circuit-engine class."""

    def check(self, engine):
        from .results.engine_check import check_spec
        from .spec.validate import load_spec

        from .results.engine_check import DataRefused

        source = self._where()
        try:
            return check_spec(engine, load_spec(source), source)
        except DataRefused as why:
            raise pytest.skip.Exception(why.problems[0].message, _use_item_location=True) from None

    def _where(self) -> str:
        return CircuitItem._source(self)

    def reportinfo(self):
        return self.path, 0, f"circuit spec {self.path.name} with {self.config.getoption('circuit_engine')}"


class ConformanceSuite(pytest.Collector):
    """The conformance cases (added by pytest_collection_modifyitems)."""

    def collect(self):  # pragma: no cover - the items are made directly
        return []


class ConformanceItem(EngineItem):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def check(self, engine):
        from .results.conformance import run_case

        return run_case(engine, self.case)

    def reportinfo(self):
        return "circuit-run-conformance", 0, f"conformance case {self.name}: {self.case.about}"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    updated = [value for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
               for key, value in getattr(report, "user_properties", []) if key == _UPDATED]
    if updated:
        terminalreporter.section("circuit-run: updated expectations")
        for entry in updated:
            terminalreporter.write_line(entry)
