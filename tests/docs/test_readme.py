"""The console examples of the README and of docs/ are real: each
`$ circuit-run ...` block must print exactly what the page shows."""

from __future__ import annotations

import re
import shlex

import pytest

from helpers import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```console\n\$ (circuit-run [^\n]*)\n(.*?)```", README, re.S)


def _doc_blocks() -> list[tuple[str, str, str]]:
    """(page, command, expected output) of every console block in docs/, also
    those indented under a list item."""
    found = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for indent, command, body in re.findall(r"^( *)```console\n\1\$ (circuit-run [^\n]*)\n(.*?)^\1```",
                                                page.read_text(), re.S | re.M):
            lines = [line[len(indent):] for line in body.splitlines(keepends=True)]
            found.append((page.name, command, "".join(lines)))
    return found


# Blocks that use the shell (a glob, a pipe) or write files are illustrations, not runnable as shown.
DOC_BLOCKS = [block for block in _doc_blocks()
              if not re.search(r"[|*>]|--(graph|plot|update-expect|trace)\b", block[1])]


@pytest.mark.parametrize("page,command,expected", DOC_BLOCKS, ids=[f"{b[0]}: {b[1]}" for b in DOC_BLOCKS])
def test_docs_console_example_is_current(cli, monkeypatch, page, command, expected):
    monkeypatch.chdir(ROOT)
    result = cli(*shlex.split(command)[1:])
    assert result.stdout + result.stderr == expected


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
