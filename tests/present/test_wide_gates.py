"""Wide gates stay linear (issue 17, items 7 and 8): the node table and
--explain of a gate with thousands of inputs, or an input feeding thousands
of gates, grow with the circuit, not with its square. Measured by output size
and by counted operations, never by time (benchmarks/wide_gates.py times them)."""

from __future__ import annotations

import json

from runner.present import explain
from runner.present.tables import COLUMN_WIDTH, inputs_text, render_table
from helpers import run_source


def fan_in(n: int, op: str = "add") -> str:
    """n inputs into one gate, and the first input also feeding n sin gates
    that the output sums: fan-in and fan-out of n at once."""
    inputs = {f"x{i}": 1.0 for i in range(n)}
    gates = {f"s{i}": {"op": "sin", "in": ["x0"]} for i in range(n)}
    gates["wide"] = {"op": op, "in": list(inputs)}
    gates["f"] = {"op": "add", "in": ["wide", *(f"s{i}" for i in range(n))]}
    return json.dumps({"inputs": inputs, "gates": gates, "output": "f"})


def test_a_long_in_list_is_abbreviated_with_how_many_more():
    assert inputs_text(["x", "y", 2.5]) == "x, y, 2.5"
    refs = [f"x{i}" for i in range(8000)]
    text = inputs_text(refs)
    assert text.startswith("x0, x1, x2, ") and text.endswith(f", ... ({8000 - text.count(',') + 1:,} more)")
    assert len(text) <= 60
    assert inputs_text(["a" * 100]) == "a" * 100  # one input is shown whole, however long
    assert inputs_text(["a" * 100, "b"]) == "a" * 100 + ", ... (1 more)"


def test_the_table_grows_linearly_with_fan_in():
    """8,000 inputs into one add printed 440 MB: every row was padded to the widest `in` cell."""
    sizes = {}
    for n in (1000, 2000, 4000):
        text = render_table(run_source(fan_in(n), run_optimization=False))
        sizes[n] = len(text)
        widest = max(len(line) for line in text.splitlines())
        assert widest < 2 * COLUMN_WIDTH + 80, widest
        assert f"x0, x1, x2, " in text and f"more)" in text
    assert sizes[2000] / sizes[1000] < 2.2 and sizes[4000] / sizes[2000] < 2.2, sizes


def test_a_long_name_pads_no_other_row():
    name = "n" * 1000  # PyYAML takes keys of up to 1,024 characters
    spec = json.dumps({"inputs": {name: 1, "y": 2}, "gates": {"f": {"op": "add", "in": [name, "y"]}}})
    text = render_table(run_source(spec, run_optimization=False))
    long_lines = [line for line in text.splitlines() if len(line) > 300]
    assert len(long_lines) == 2 and all(name in line for line in long_lines)  # its own row, and f's `in`


class Counted(str):
    """A node name that counts how often it is compared with another."""

    comparisons = 0

    def __eq__(self, other):
        Counted.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _explain_comparisons(n: int) -> int:
    result = run_source(fan_in(n), run_optimization=False)
    circuit = result.circuit
    circuit.refs = [[Counted(ref) if isinstance(ref, str) else ref for ref in refs] for refs in circuit.refs]
    Counted.comparisons = 0
    steps = explain.walk(result)
    assert sum(len(step.terms) for step in steps) == 3 * n + 1  # n into wide and f each, n from x0 to the sin gates
    return Counted.comparisons


def test_explain_compares_names_a_linear_number_of_times():
    """--explain took 100 s for a 100,000-way gate: each input of a gate was
    counted among all the gate's inputs (is it repeated?)."""
    small, large = _explain_comparisons(500), _explain_comparisons(1000)
    assert large <= 2.2 * small + 10, (small, large)


def test_explain_text_is_linear_in_fan_out_and_fan_in():
    sizes = [len(explain.render_text(run_source(fan_in(n), run_optimization=False))) for n in (1000, 2000)]
    assert sizes[1] / sizes[0] < 2.2


def test_a_repeated_input_is_still_marked_in_a_wide_gate():
    spec = json.dumps({"inputs": {"a": 1.0, "b": 2.0},
                       "gates": {"f": {"op": "add", "in": ["a", "b", "a", 3.0, 3.0]}}})
    (a,) = [step for step in explain.walk(run_source(spec, run_optimization=False)) if step.node == "a"]
    assert [(t.position, t.repeated) for t in a.terms] == [(0, True), (2, True)]
    (b,) = [step for step in explain.walk(run_source(spec, run_optimization=False)) if step.node == "b"]
    assert [(t.position, t.repeated) for t in b.terms] == [(1, False)]
