"""Fixtures for the whole test suite; shared helpers are in helpers.py, the
independent references that results are checked against in reference.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from helpers import Cli

# In CI the property tests replay the same examples every run (a failure there
# must be reproducible, not a dice roll); locally they explore new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
