"""--graph: the circuit as a Graphviz diagram, values and gradients on its wires."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.present.diagram import to_dot
from helpers import FAN_OUT, run_source

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")



def run(source: str | Path):
    return run_source(source)


def edges(dot: str) -> list[tuple[str, str, list[str]]]:
    """(from, to, [label lines]) of every edge, in file order."""
    found = []
    for tail, head, label in re.findall(r'^  ("[^"]+") -> ("[^"]+") \[label=<(.*?)>[,\]]', dot, re.M):
        lines = [re.sub(r"<[^>]+>", "", part) for part in label.split("<br/>")]
        found.append((tail.strip('"'), head.strip('"'), lines))
    return found


def node(dot: str, name: str) -> str:
    match = re.search(rf'^  "{re.escape(name)}" \[(.*)\];$', dot, re.M)
    assert match, f"no node {name}"
    return match.group(1)


def test_add_multiply_wires_carry_hand_computed_values_and_gradients():
    # q = x + y = 3, f = q * z = -12; df/dq = z = -4, df/dz = q = 3, df/dx = df/dy = -4
    dot = to_dot(run(CIRCUITS / "add-multiply.yaml"))
    assert "rankdir=LR;" in dot
    assert edges(dot) == [
        ("x", "q", ["-2", "-4"]),
        ("y", "q", ["5", "-4"]),
        ("q", "f", ["3", "-4"]),
        ("z", "f", ["-4", "3"]),
        ("f", " output", ["-12", "1"]),
    ]
    # gradients are drawn in another colour than values
    assert '<font color="#1a5e20">-2</font><br/><font color="#c62828">-4</font>' in dot


def test_gates_show_their_op_and_the_output_is_marked():
    dot = to_dot(run(CIRCUITS / "add-multiply.yaml"))
    assert "<b>q</b> <i>add</i><br/>x + y" in node(dot, "q")
    f = node(dot, "f")
    assert "<i>mul</i><br/>q * z" in f and "peripheries=2" in f and "output" in f
    assert "peripheries" not in node(dot, "q")
    assert "doublecircle" in node(dot, " output")


def test_trainable_and_fixed_inputs_look_different():
    dot = to_dot(run(CIRCUITS / "add-multiply.yaml"))
    x, z = node(dot, "x"), node(dot, "z")
    assert "trainable input" in x and 'style="filled"' in x
    assert "fixed input" in z and 'style="filled,dashed"' in z
    assert re.search(r'fillcolor="([^"]+)"', x).group(1) != re.search(r'fillcolor="([^"]+)"', z).group(1)
    assert "grad -4" in x and "grad 3" in z  # an input's total gradient sits in its node
    assert "trainable input" in dot.split("label=<", 1)[1].split(">];")[0]  # the legend explains


def test_constants_are_drawn_without_a_gradient():
    dot = to_dot(run(CIRCUITS / "distance-ridge.yaml"))
    assert "constant" in node(dot, "constant f 0")
    assert ("constant f 0", "f", ["100"]) in edges(dot)  # value only
    assert "<i>sub</i><br/>100 - d2" in node(dot, "f")  # operand order is visible


def test_every_use_of_a_constant_has_its_own_node_beside_its_gate():
    """Three 2s in three gates: three constant nodes, one wire each (one shared
    node would pull wires across a bigger circuit)."""
    dot = to_dot(run("inputs: {x: 1, y: 2}\ngates:\n  a: {op: mul, in: [x, 2]}\n  b: {op: mul, in: [y, 2]}\n"
                     "  c: {op: add, in: [a, b, 2]}\n"))
    from_constants = [(tail, head) for tail, head, label in edges(dot) if tail.startswith("constant")]
    assert from_constants == [("constant a 1", "a"), ("constant b 1", "b"), ("constant c 2", "c")]
    assert len(re.findall(r'^  "constant [^"]+" \[shape=plaintext', dot, re.M)) == 3


def test_each_wire_label_is_tied_to_its_wire():
    """Wires into one gate run close together (the neuron's b -> by and y -> by):
    Graphviz's decorate draws a line from each label to its own wire."""
    dot = to_dot(run(CIRCUITS / "neuron.yaml"))
    defaults = re.search(r"^  edge \[(.*)\];$", dot, re.M).group(1)
    assert "decorate=true" in defaults
    assert not re.search(r"decorate=false", dot)


def test_fan_out_wires_share_the_gradient_and_the_node_shows_the_total():
    # f = x*x + x + 2 at x = 3: each wire into m carries 1 * x = 3, the wire into f 1; total 7
    dot = to_dot(run(FAN_OUT))
    from_x = [(head, label) for tail, head, label in edges(dot) if tail == "x"]
    assert from_x == [("m", ["3", "3"]), ("m", ["3", "3"]), ("f", ["3", "1"])]
    assert "total grad 7" in node(dot, "x")
    assert "unused" in node(dot, "u") and "dashed" in node(dot, "u")
    assert ("w", "u", ["1", "0"]) in edges(dot)


def test_without_gradients():
    dot = to_dot(run(CIRCUITS / "add-multiply.yaml"), gradients=False)
    assert ("x", "q", ["-2"]) in edges(dot)
    assert "#c62828" not in dot


def test_same_spec_same_bytes(tmp_path):
    first = to_dot(run(CIRCUITS / "neuron.yaml"))
    second = to_dot(run(CIRCUITS / "neuron.yaml"))
    assert first == second
    # also through the command line, whatever path names the spec
    copy = tmp_path / "neuron.yaml"
    copy.write_text((CIRCUITS / "neuron.yaml").read_text())
    out = tmp_path / "a.dot"
    assert CliRunner().invoke(main, ["--graph", str(out), str(copy)]).exit_code == 0
    assert out.read_text() == first


@needs_dot
@pytest.mark.parametrize("spec", sorted(CIRCUITS.glob("*.yaml")), ids=lambda p: p.stem)
def test_graphviz_accepts_every_seed_diagram(spec):
    done = subprocess.run(["dot", "-Tcanon"], input=to_dot(run(spec)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not done.stderr


# ---- the command line ------------------------------------------------------

def test_cli_writes_dot(tmp_path):
    out = tmp_path / "am.dot"
    result = CliRunner().invoke(main, ["--graph", str(out), str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("// circuit add-multiply")
    assert "name" in result.output  # the usual table is still printed


@needs_dot
def test_cli_writes_svg_and_png(tmp_path):
    svg, png = tmp_path / "am.svg", tmp_path / "am.png"
    for out in (svg, png):
        result = CliRunner().invoke(main, ["--graph", str(out), str(CIRCUITS / "add-multiply.yaml")])
        assert result.exit_code == 0, result.output
    root = ElementTree.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "-12" in texts and "grad -4" in texts
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_cli_without_dot_names_the_package_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    out = tmp_path / "am.svg"
    result = CliRunner().invoke(main, ["--graph", str(out), str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 2
    assert f"{out}: error: writing .svg needs Graphviz's `dot` program" in result.stderr
    assert "graphviz" in result.stderr and "Traceback" not in result.output
    assert not out.exists()
    # .dot needs no program
    result = CliRunner().invoke(main, ["--graph", str(tmp_path / "am.dot"), str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 0


def test_cli_unknown_extension(tmp_path):
    result = CliRunner().invoke(main, ["--graph", str(tmp_path / "am.jpeg"), str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 2
    assert "use one of .dot, .svg, .png, .pdf" in result.stderr


def test_cli_unwritable_path(tmp_path):
    out = tmp_path / "missing-dir" / "am.dot"
    result = CliRunner().invoke(main, ["--graph", str(out), str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 2
    assert f"{out}: error: cannot write" in result.stderr


def test_cli_several_specs_need_a_name_placeholder(tmp_path):
    specs = [str(CIRCUITS / "add-multiply.yaml"), str(CIRCUITS / "neuron.yaml")]
    result = CliRunner().invoke(main, ["--graph", str(tmp_path / "one.dot"), *specs])
    assert result.exit_code == 2 and "{name}" in result.output
    result = CliRunner().invoke(main, ["--graph", str(tmp_path / "{name}.dot"), *specs])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["add-multiply.dot", "neuron.dot"]
    assert "<i>sigmoid</i>" in (tmp_path / "neuron.dot").read_text()
