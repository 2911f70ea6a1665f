"""The shape of the package: imports follow the data flow, and the docs that
are generated from the code (the op table, the import graph) are current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from helpers import ROOT


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_runs_against_the_data_flow():
    assert _generator().backward_imports() == []


def test_a_backward_import_would_be_caught(tmp_path, monkeypatch):
    """The check is not vacuous: a loader module importing the engine is reported."""
    generate = _generator()
    package = tmp_path / "runner"
    (package / "loading").mkdir(parents=True)
    (package / "loading" / "reader.py").write_text("from ..core.engine import Circuit\n")
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "PACKAGE", package)
    (wrong,) = generate.backward_imports()
    assert "runner.loading.reader (loading) imports runner.core.engine (core)" in wrong


def test_every_module_belongs_to_a_stage():
    generate = _generator()
    for path in generate.modules():
        assert generate.layer_of(generate.module_name(path)) in generate.LAYERS, path


def test_generated_docs_are_current():
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "generate.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
