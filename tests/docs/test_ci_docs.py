"""docs/ci.md's GitHub Actions job and .pre-commit-hooks.yaml: valid, and runnable here.

The steps that need GitHub (checkout, setup-python, upload) or the network
(pip install) are only checked for shape; the circuit-run steps are run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def actions_job() -> dict:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "runs-on:" in b]
    assert len(blocks) == 1
    return yaml.safe_load(blocks[0])


def test_actions_job_shape():
    workflow = actions_job()
    assert set(workflow) == {"name", "on", "jobs"} or set(workflow) == {"name", True, "jobs"}  # YAML 1.1 'on'
    (job,) = workflow["jobs"].values()
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/upload-artifact"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[0] == 'python -m pip install ".[test]"'


def test_actions_circuit_run_steps_pass_here(tmp_path):
    """Run the job's circuit-run steps in the repository, as the runner would after install."""
    steps = [step["run"] for step in actions_job()["jobs"]["circuits"]["steps"]
             if "run" in step and step["run"].startswith("circuit-run ")]
    assert len(steps) == 2
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for command in steps:
        done = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    # the same job must fail on a wrong expectation: run the check step on a broken copy
    (tmp_path / "circuits").mkdir()
    broken = (ROOT / "circuits" / "add-gate.yaml").read_text().replace("output: 7", "output: 8")
    (tmp_path / "circuits" / "add-gate.yaml").write_text(broken)
    done = subprocess.run(steps[0], shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "FAIL circuits/add-gate.yaml" in done.stdout


def test_pre_commit_hooks_entry():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {hook["id"]: hook for hook in hooks}
    check = by_id["circuit-check"]
    assert check["entry"] == "circuit-run --check" and check["language"] == "python"
    files = re.compile(check["files"])
    assert files.search("circuits/neuron.yaml") and files.search("circuits/gen.json")
    assert not files.search("tests/ci-fixtures/wrong-expect.yaml")
    pyproject = (ROOT / "pyproject.toml").read_text()
    for hook in hooks:  # every entry is a console script this package installs
        assert f'{shlex.split(hook["entry"])[0]} = "' in pyproject
