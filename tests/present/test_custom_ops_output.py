"""Custom ops in every output, from the outside (the command line): shown
like built-in ops, with what they compute where a reader needs it."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import CIRCUITS, ROOT

SOFTPLUS = str(CIRCUITS / "softplus.yaml")
SWISH = str(CIRCUITS / "swish.yaml")
WRONG = str(ROOT / "docs" / "examples" / "wrong-derivative.yaml")


def test_gradcheck_fails_on_a_wrong_derivative_naming_the_op_and_the_argument(cli):
    result = cli("--gradcheck", WRONG)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gradcheck FAIL")
    assert [line.split()[0] for line in lines if line.rstrip().endswith("MISMATCH")] == ["w", "b"]
    notes = [line for line in lines if "has a wrong derivative" in line]
    assert len(notes) == 2 and all("custom op swish" in note and "d/da = 0.7310585786" in note and
                                   "gate 'f' (a = 1)" in note for note in notes)


def test_gradcheck_passes_on_the_right_derivative(cli):
    for path in (SOFTPLUS, SWISH, str(CIRCUITS / "smooth-hinge.yaml")):
        result = cli("--gradcheck", path)
        assert result.exit_code == 0 and "gradcheck PASS" in result.stdout, result.stdout


def test_gradcheck_json_lists_the_wrong_derivatives(cli):
    result = cli("--gradcheck", "--format", "json", WRONG)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    wrong = document["gradcheck"]["inputs"]["b"]["wrong_derivatives"]
    assert [(item["op"], item["arg"], item["gate"]) for item in wrong] == [("swish", "a", "f")]
    assert wrong[0]["at"] == {"a": pytest.approx(1.0)} and wrong[0]["more"] == 0
    assert wrong[0]["written"] == pytest.approx(document["nodes"]["f"]["value"])  # sigmoid(1) = swish(1): the mistake


def test_table_json_and_csv_show_the_op_by_name(cli):
    table = cli(SOFTPLUS).stdout
    assert any(line.split()[-5:-2] == ["f", "softplus", "z"] for line in table.splitlines())
    document = cli.json(SOFTPLUS)[0]
    assert document["nodes"]["f"]["op"] == "softplus" and document["nodes"]["f"]["in"] == ["z"]
    assert document["ops"] == {"softplus": {"args": ["a"], "forward": "log(1 + exp(a))", "grads": ["sigmoid(a)"]}}
    csv = cli("--format", "csv", SOFTPLUS).stdout
    assert any(line.startswith("f,softplus,z,0.97407698418") for line in csv.splitlines())


def test_explain_says_what_a_custom_op_computes(cli):
    text = cli("--explain", SWISH).stdout
    assert "  [swish is a custom op of this spec: swish(a) = a * sigmoid(a); d/da = out + sigmoid(a) * (1 - out)]" \
        in text.splitlines()
    assert "(a custom op's: from its grads)" in text
    plain = cli("--explain", str(CIRCUITS / "neuron.yaml")).stdout
    assert "custom op" not in plain


def test_graph_draws_a_custom_op_as_a_gate_with_its_formula(cli, tmp_path):
    target = tmp_path / "softplus.dot"
    assert cli(SOFTPLUS, "--graph", str(target)).exit_code == 0
    dot = target.read_text()
    (box,) = [line for line in dot.splitlines() if line.lstrip().startswith('"f" [')]
    assert "<i>softplus</i><br/>softplus(z)" in box
    assert 'tooltip="softplus(a) = log(1 + exp(a)); d/da = sigmoid(a) (a custom op of this spec)"' in box


def test_update_expect_then_check(cli, tmp_path):
    copy = tmp_path / "swish.yaml"
    shutil.copy(SWISH, copy)
    copy.write_text(copy.read_text().replace("grads: {w: 1.3915058,", "grads: {w: 1.5,"))
    assert cli("--check", str(copy)).exit_code == 1
    updated = cli("--update-expect", str(copy))
    assert updated.exit_code == 0 and "grads.w: 1.5 -> 1.39150576" in updated.stdout
    assert cli("--check", str(copy)).exit_code == 0
