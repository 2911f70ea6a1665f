"""--html: the page as a file (what Python writes; the browser tests run it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.ops import HELPERS, OPS
from runner.present.page import SUMMARY_GATES, to_html
from runner.present.page.data import script_json
from runner.present.page.javascript import engine_source, kind_source
from helpers import CIRCUITS, HOSTILE, chain_spec, hostile_spec, invoke, run_source

EXAMPLES = sorted(CIRCUITS.glob("*.yaml"))
PAGE_DIR = Path(__file__).resolve().parents[2] / "runner" / "present" / "page"


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="circuit-data">(.*?)</script>', page, re.S)
    assert match, "no data element"
    return json.loads(match.group(1))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_makes_a_small_self_contained_page(path):
    page = to_html(run_source(path))
    assert len(page.encode()) < 200_000
    # nothing to fetch: no src/href attributes, no URLs in scripts or styles
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "default-src 'none'" in page  # the browser itself refuses any request


def test_the_page_embeds_the_compiled_tape_not_the_spec_gates():
    result = run_source(CIRCUITS / "module-fan-out.yaml")
    tape = embedded(to_html(result))["tape"]
    circuit = result.circuit
    assert tape["gateNames"] == circuit.gate_names  # near1.1 ... near1, near3.1 ..., f
    assert any("." in name for name in tape["gateNames"])
    assert [i["name"] for i in tape["inputs"]] == circuit.input_names
    assert tape["ins"] == [slot for step in circuit.tape for slot in step.ins]
    assert [tape["kinds"][k] for k in tape["steps"]] == [f"{s.op.name}/{len(s.ins)}" for s in circuit.tape]
    assert sorted(tape["constants"]) == [1.0, 2.0, 3.0]  # the two targets and the halving
    assert embedded(to_html(result))["groups"]["near1"] == "instance of module halfsquare"


def test_inputs_start_at_the_spec_values_even_after_optimization():
    result = run_source(CIRCUITS / "add-multiply.yaml")
    assert result.optimization is not None and result.circuit.values[0] != result.values["x"]
    inputs = embedded(to_html(result))["tape"]["inputs"]
    assert {i["name"]: i["value"] for i in inputs} == {n: result.values[n] for n in result.circuit.input_names}


def test_the_trace_has_every_numeric_series_of_a_row():
    result = run_source(CIRCUITS / "distance-ridge.yaml")
    trace = embedded(to_html(result))["trace"]
    rows = result.optimization.trace
    assert trace["iterations"] == [row.iteration for row in rows]
    assert trace["series"] == {"output": [row.output for row in rows]}
    assert set(trace["inputs"]) == set(rows[0].inputs)


def test_the_trace_plots_whatever_numbers_a_run_records():
    """A kind of run that records more per row (a loss, metrics) gets a chart per number."""
    from dataclasses import replace

    from runner.optimization.trace import TraceRow

    class DataRow(TraceRow):
        __slots__ = ()

        def as_dict(self) -> dict:
            return {**super().as_dict(), "loss": self.output / 2, "metrics": {"accuracy": 0.5, "name": "x"},
                    "converged": False}

    result = run_source(CIRCUITS / "distance-ridge.yaml")
    rows = [DataRow(row.iteration, row.output, row.inputs, row.grads) for row in result.optimization.trace]
    result = replace(result, optimization=replace(result.optimization, trace=rows))
    series = embedded(to_html(result))["trace"]["series"]
    assert list(series) == ["output", "loss", "metrics.accuracy"]
    assert series["loss"] == [row.output / 2 for row in rows]


# ---------------------------------------------------------------- hostile text

def test_script_json_cannot_close_the_script_or_break_javascript():
    data = {"name": HOSTILE, HOSTILE: [HOSTILE], "n": 1.5}
    text = script_json(data)
    assert json.loads(text) == data
    for dangerous in ("<", ">", "&", "\u2028", "\u2029"):
        assert dangerous not in text
    assert text.isascii()


def test_names_and_descriptions_are_escaped_in_the_page():
    page = to_html(run_source(hostile_spec()))
    assert page.count("</script>") == 2  # the data element's and the code's, nothing planted
    assert "<script>window.pwned" not in page
    assert embedded(page)["name"] == HOSTILE and embedded(page)["description"] == HOSTILE
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and "&lt;/script&gt;" in title


# ---------------------------------------------------------------- the engine is generated

def test_every_op_of_the_table_gets_javascript():
    for op in OPS.values():
        arities = {op.min_arity, op.max_arity or op.min_arity + 2}
        for arity in arities:
            source = kind_source(op, arity)
            assert source is not None, (op.name, arity)
            assert f'"{op.name}"' in source
    engine = engine_source([(op, op.min_arity) for op in OPS.values()])
    assert all(f'"{name}/{OPS[name].min_arity}": {{' in engine for name in OPS)
    assert all(f"const {name} = {helper.javascript};" in engine for name, helper in HELPERS.items())


def test_javascript_is_the_op_tables_templates():
    """One source of truth: the page's code is the templates of ops.py,
    spelled with x0, x1, ... and out."""
    forward, derivatives = OPS["div"].code(2)
    source = kind_source(OPS["div"], 2)
    assert f"return {forward.format('x0', 'x1')};" in source
    for i, template in enumerate(derivatives):
        assert f"const t{i} = u * ({template.format('x0', 'x1', out='out')});" in source


def test_an_arity_without_templates_is_null_in_the_engine():
    op = OPS["mul"]
    assert op.code(40) is None
    assert '"mul/40": null' in engine_source([(op, 40)])


# ---------------------------------------------------------------- big circuits

def test_above_the_limit_the_page_is_a_summary():
    result = run_source(chain_spec(SUMMARY_GATES + 1))
    data = embedded(to_html(result))
    assert "tape" not in data and "explain" not in data
    assert data["summary"]["outputValue"] == result.output
    assert data["summary"]["inputs"] == [{"name": "x", "value": 0.5, "grad": result.grads["x"]},
                                         {"name": "y", "value": 2.0, "grad": result.grads["y"]}]
    assert "tape" in embedded(to_html(run_source(chain_spec(SUMMARY_GATES))))


def test_a_circuit_with_too_many_inputs_is_a_summary_too():
    """One gate over 2,001 inputs: as many sliders would crawl as a diagram of as many gates."""
    names = [f"x{i}" for i in range(SUMMARY_GATES + 1)]
    spec = "inputs: {" + ", ".join(f"{name}: 1" for name in names) + "}\ngates:\n  f: {op: add, in: [" + \
        ", ".join(names) + "]}\n"
    data = embedded(to_html(run_source(spec)))
    assert "summary" in data and data["summary"]["outputValue"] == SUMMARY_GATES + 1
    assert len(data["summary"]["inputs"]) == 200 and data["summary"]["moreInputs"] == SUMMARY_GATES + 1 - 200


# ---------------------------------------------------------------- the command line

def test_cli_writes_the_page(tmp_path):
    out = tmp_path / "neuron.html"
    done = invoke("--html", str(out), str(CIRCUITS / "neuron.yaml"))
    assert done.exit_code == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and embedded(page)["name"] == "neuron"
    assert done.stdout == invoke(str(CIRCUITS / "neuron.yaml")).stdout  # the table as usual


def test_cli_page_starts_where_set_says(tmp_path):
    out = tmp_path / "n.html"
    assert invoke("--set", "x=2.5", "--html", str(out), str(CIRCUITS / "neuron.yaml")).exit_code == 0
    inputs = {i["name"]: i["value"] for i in embedded(out.read_text())["tape"]["inputs"]}
    assert inputs["x"] == 2.5 and inputs["y"] == 3


def test_cli_several_specs_need_a_name_placeholder(tmp_path):
    specs = [str(CIRCUITS / "add-multiply.yaml"), str(CIRCUITS / "neuron.yaml")]
    done = invoke("--html", str(tmp_path / "one.html"), *specs)
    assert done.exit_code == 2 and "{name}" in done.stderr
    done = invoke("--html", str(tmp_path / "page-{name}.html"), *specs)
    assert done.exit_code == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page-add-multiply.html", "page-neuron.html"]


def test_cli_names_an_unwritable_path(tmp_path):
    out = tmp_path / "missing-dir" / "page.html"
    done = invoke("--html", str(out), str(CIRCUITS / "add-multiply.yaml"))
    assert done.exit_code == 2
    assert f"{out}: error: cannot write" in done.stderr


def test_cli_never_writes_the_page_over_its_spec(tmp_path):
    spec = tmp_path / "neuron.yaml"
    spec.write_text((CIRCUITS / "neuron.yaml").read_text())
    done = invoke("--html", str(spec), str(spec))
    assert done.exit_code == 2
    assert f"--html {spec}: that is the spec" in done.stderr
    assert spec.read_text() == (CIRCUITS / "neuron.yaml").read_text()


def test_cli_page_keeps_many_trace_rows(tmp_path):
    out = tmp_path / "r.html"
    assert invoke("--html", str(out), str(CIRCUITS / "rosenbrock.yaml")).exit_code == 0
    assert len(embedded(out.read_text())["trace"]["iterations"]) > 100  # a plot's rows, not a table's 30


# ---------------------------------------------------------------- readable

def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_meet_wcag_aa_on_every_background():
    css = (PAGE_DIR / "page.css").read_text()
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    texts = [colours[name] for name in ("text", "muted", "value", "grad", "accent")]
    backgrounds = [colours[name] for name in ("bg", "panel", "input-fill", "fixed-fill", "gate-fill")]
    for text in texts:
        for background in backgrounds:
            assert contrast(text, background) >= 4.5, (text, background)
    # the diagram's own colours (in page.js) on its node fills
    js = (PAGE_DIR / "page.js").read_text()
    for text in set(re.findall(r'fill: "(#[0-9a-f]{6})"\}', js)) - {"#f5f5f5"}:
        for background in backgrounds:
            assert contrast(text, background) >= 4.5, (text, background)


def test_the_page_of_a_data_spec_shows_its_first_row():
    from runner.results.run import row_result

    result = run_source(CIRCUITS / "svm-cost.yaml")
    first = row_result(result)
    assert first.output == pytest.approx(0.44) and first.values["x0"] == 1.2
    assert to_html(result) == to_html(first)
