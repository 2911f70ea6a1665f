"""The README's console examples are real: each `$ circuit-run ...` block
must print exactly what the README shows."""

from __future__ import annotations

import re
import shlex

import pytest

from helpers import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```console\n\$ (circuit-run [^\n]*)\n(.*?)```", README, re.S)


def test_readme_has_console_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("command,expected", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_console_example_is_current(cli, monkeypatch, command, expected):
    monkeypatch.chdir(ROOT)
    result = cli(*shlex.split(command)[1:])
    assert result.stdout + result.stderr == expected


def test_quick_start_runs_a_real_example_and_the_suite():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick, re.S)
    assert len(commands) == 2
    assert "circuit-run circuits/" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].rsplit("&& ", 1)[1] in ci  # CI runs the README's test command verbatim
