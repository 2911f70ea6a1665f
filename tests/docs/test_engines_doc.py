"""docs/engines.md: its op table covers the op table, and its PyTorch adapter
passes the conformance suite (run when PyTorch is installed; it is not a
dependency)."""

from __future__ import annotations

import re

import pytest

from helpers import ROOT
from runner.ops import OPS
from runner.results.conformance import cases

PAGE = (ROOT / "docs" / "engines.md").read_text()


def test_every_op_is_in_the_pages_table_of_spellings():
    table = PAGE.split("| op | written as | the class needs |", 1)[1].split("\n\n", 1)[0]
    listed = {name.strip() for row in table.splitlines()[2:] for name in row.split("|")[1].split(",")}
    assert listed == set(OPS)


def test_the_pytorch_adapter_passes_every_case(cli, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (adapter,) = [block for block in re.findall(r"```python\n(.*?)```", PAGE, re.S) if "import torch" in block]
    (tmp_path / "torch_engine.py").write_text(adapter)
    monkeypatch.chdir(tmp_path)
    result = cli("--engine", "torch_engine:Value", "--conformance")
    assert result.exit_code == 0, result.stdout
    assert result.stderr == \
        f"{len(cases())} cases: {len(cases())} pass, 0 FAIL, 0 skipped, 0 error (engine torch_engine:Value)\n"
    shown = re.search(r"```text\n(.*?)```", PAGE.split("## PyTorch", 1)[1], re.S).group(1)
    for line in shown.splitlines():
        assert line in (result.stdout + result.stderr).splitlines()
