"""What the README and docs/ say in prose and code is true: every Python code
sample runs, every `runner.…` name they mention exists, the Python version
they claim is the one pyproject.toml allows, and they stand alone (no
reference to files outside the repository)."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import tomllib

import pytest

from helpers import ROOT

PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def _python_samples() -> list[tuple[str, int, str]]:
    """(page, number of the sample on the page, code) of every ```python block."""
    found = []
    for page in PAGES:
        for number, code in enumerate(re.findall(r"^```python\n(.*?)^```", page.read_text(), re.S | re.M)):
            found.append((page.name, number, code))
    return found


SAMPLES = _python_samples()
OPTIONAL = {"torch"}  # peers that samples adapt (docs/engines.md), not dependencies of circuit-run


def test_the_docs_have_python_samples():
    assert len(SAMPLES) >= 4


@pytest.mark.parametrize("page,number,code", SAMPLES, ids=[f"{s[0]}#{s[1]}" for s in SAMPLES])
def test_python_sample_runs(page, number, code, tmp_path, monkeypatch):
    """Run as a reader would, from the repository's root (a copy, since
    samples write files)."""
    for module in OPTIONAL & set(re.findall(r"^\s*(?:import|from)\s+(\w+)", code, re.M)):
        pytest.importorskip(module, reason=f"the sample uses {module}, which circuit-run does not install")
    shutil.copytree(ROOT / "circuits", tmp_path / "circuits")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{page} python sample {number}", "exec"), {"__name__": "__sample__"})


def _dotted_names() -> list[tuple[str, str]]:
    names = set()
    for page in PAGES:
        for name in re.findall(r"`(runner(?:\.[A-Za-z_]\w*)+)", page.read_text()):
            names.add((page.name, name))
    return sorted(names)


NAMES = _dotted_names()


@pytest.mark.parametrize("page,name", NAMES, ids=[f"{p}: {n}" for p, n in NAMES])
def test_named_python_object_exists(page, name):
    """`runner.spec.overrides.with_settings` in a page must be importable as written."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            assert hasattr(target, attribute), f"{page} names {name}, which does not exist"
            target = getattr(target, attribute)
        return
    pytest.fail(f"{page} names {name}, which does not exist")  # pragma: no cover


def test_a_page_naming_a_missing_function_is_caught():
    """The check above would have caught docs/optimization.md's old `runner.optimize.with_settings`."""
    with pytest.raises(AssertionError):
        test_named_python_object_exists("optimization.md", "runner.optimize.with_settings")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_stands_alone(page):
    """No pointers to documents that are not in the repository."""
    text = page.read_text()
    assert not re.search(r"SPEC(-\d+)?\.md|\.\./shared|/work/", text)


def _minimum_python() -> tuple[int, int]:
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=\s*3\.(\d+)", required)
    assert match, f"requires-python should be a plain lower bound, got {required!r}"
    return 3, int(match[1])


def test_readme_and_contributing_claim_the_python_pyproject_requires():
    major, minor = _minimum_python()
    readme = (ROOT / "README.md").read_text()
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    assert f"Python {major}.{minor}+" in readme
    assert f"Python {major}.{minor} or newer" in contributing
    assert not re.search(rf"Python {major}\.(?!{minor}\b)\d+\+", readme)


def test_the_claimed_minimum_is_what_runs_the_tests():
    """CI runs on python3 of the image, which is the minimum we claim: the
    claim is tested, not hoped for."""
    assert sys.version_info[:2] >= _minimum_python()
    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    major, minor = _minimum_python()
    assert f"Programming Language :: Python :: {major}.{minor}" in classifiers
