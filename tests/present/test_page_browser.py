"""--html in a real browser: headless Chromium (the system's, driven by Playwright)
runs the page, and its numbers are compared with the Python engine's.

Skipped, with the reason, when Playwright or a Chromium binary is missing
(`apt-get install chromium`; CIRCUIT_RUN_CHROMIUM=/path/to/chrome points at
another). Screenshots of every example go to `page-screenshots/` in
$CIRCUIT_RUN_ARTIFACTS, or in pytest's temporary folder of the run.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from itertools import islice
from pathlib import Path

import pytest

import runner
from runner.core.compiler import compile_spec
from runner.ops import MAX_TEMPLATE_ARITY, OPS
from runner.optimization.optimizer import Optimization
from runner.present.page import to_html
from helpers import CIRCUITS, FAN_OUT, HOSTILE, chain_spec, hostile_spec, invoke, run_source
from reference import REFERENCE, every_op_cases

EXAMPLES = sorted(CIRCUITS.glob("*.yaml"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RELATIVE = 1e-12


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CIRCUIT_RUN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser fixture skips, saying so
    sync_playwright = expect = None


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        pytest.skip("Playwright is not installed (pip install -e '.[test]')")
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found: install Debian's chromium package (apt-get install chromium) "
                    "or set CIRCUIT_RUN_CHROMIUM to a Chromium or Chrome binary")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where the screenshots go: $CIRCUIT_RUN_ARTIFACTS/page-screenshots (CI keeps it), else the
    run's temporary folder (pytest keeps the last three runs)."""
    root = os.environ.get("CIRCUIT_RUN_ARTIFACTS")
    folder = (Path(root) if root else tmp_path_factory.getbasetemp()) / "page-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Opened:
    """A page loaded from a file into the module's tab, with every request and error it made."""

    def __init__(self, tab, html: str, folder: Path, width: int = 1280):
        self.file = folder / "page.html"
        self.file.write_text(html, encoding="utf-8")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = tab
        self._listeners = {"request": lambda request: self.requests.append(request.url),
                           "pageerror": lambda error: self.errors.append(str(error)),
                           "console": lambda message: message.type == "error" and self.errors.append(message.text)}
        for event, listener in self._listeners.items():
            tab.on(event, listener)
        tab.set_viewport_size({"width": width, "height": 900})
        tab.goto(self.file.as_uri())

    def js(self, expression: str, argument=None):
        return self.page.evaluate(expression, argument)

    def close(self) -> None:
        for event, listener in self._listeners.items():
            self.page.remove_listener(event, listener)


@pytest.fixture(scope="module")
def tab(browser):
    """One browser tab for the module's tests (a new tab costs more than loading a page)."""
    page = browser.new_page()
    yield page
    page.close()


@pytest.fixture
def open_page(tab, tmp_path):
    opened = []

    def _open(html: str, width: int = 1280) -> Opened:
        if opened:
            opened[-1].close()
        folder = tmp_path / f"page{len(opened)}"
        folder.mkdir()
        opened.append(Opened(tab, html, folder, width))
        return opened[-1]

    yield _open
    if opened:
        opened[-1].close()


def assert_close(actual: dict, expected: dict, what: str) -> None:
    assert set(actual) == set(expected), what
    for name, value in expected.items():
        assert math.isclose(actual[name], value, rel_tol=RELATIVE, abs_tol=0.0) or actual[name] == value, \
            f"{what} of {name}: page {actual[name]!r}, Python {value!r}"


def row_of(opened: Opened, name: str):
    """The node table's row of `name`."""
    cell = opened.page.locator("td.name", has_text=re.compile(f"^{re.escape(name)}$"))
    return opened.page.locator("#nodes tbody tr").filter(has=cell)


def python_at(spec, point: dict[str, float]):
    """Every value and gradient of the Python engine at `point`."""
    circuit = compile_spec(spec, point)
    circuit.forward()
    return circuit.value_map(), circuit.backward()


# ---------------------------------------------------------------- every example

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_pages_compute_what_python_computes(path, open_page, screenshots):
    result = run_source(path)
    opened = open_page(to_html(result))
    assert opened.errors == []
    assert opened.page.locator("#status").inner_text() == ""  # no false alarm (a constant's gradient is no one's)
    assert_close(opened.js("circuitRun.values()"), dict(result.values), "value")
    assert_close(opened.js("circuitRun.grads()"), dict(result.grads), "gradient")
    assert opened.js("circuitRun.output()") == pytest.approx(result.output, rel=RELATIVE)
    # the numbers people read are the engine's, formatted as circuit-run formats them
    shown = opened.page.locator("#output-value").inner_text()
    assert shown == runner_number(result.output)
    opened.page.screenshot(path=str(screenshots / f"{path.stem}.png"), full_page=True)
    opened.page.set_viewport_size({"width": 360, "height": 800})  # a phone: nothing scrolls sideways
    assert opened.js("document.documentElement.scrollWidth") <= 360


def runner_number(value: float) -> str:
    from runner.present.numbers import number

    return number(value)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_pages_at_other_points(path, open_page):
    """circuitRun.set moves an input; every number follows Python's at the new point."""
    result = run_source(path)
    spec = result.spec
    opened = open_page(to_html(result))
    start = {name: result.values[name] for name in result.circuit.input_names}
    for scale, shift in ((0.5, 0.25), (1.5, -0.125)):
        point = dict(start)
        for name in list(start)[:6]:
            point[name] = start[name] * scale + shift
            opened.js("([name, value]) => circuitRun.set(name, value)", [name, point[name]])
        values, grads = python_at(spec, point)
        assert_close(opened.js("circuitRun.values()"), values, "value")
        assert_close(opened.js("circuitRun.grads()"), grads, "gradient")


def test_fan_out_a_fixed_input_and_an_unused_branch(open_page):
    result = run_source(FAN_OUT)
    opened = open_page(to_html(result))
    assert_close(opened.js("circuitRun.values()"), dict(result.values), "value")
    assert_close(opened.js("circuitRun.grads()"), dict(result.grads), "gradient")
    assert opened.js("circuitRun.grads()")["x"] == 7  # 2x + 1 at x = 3: three wires out of x
    assert "unused" in row_of(opened, "u").inner_text()


NUMBERS = [0.0, -0.0, 1.0, -3.0, 0.1 + 0.2, 1 / 3, -2 / 3, 1e-4, 1.5e-5, 123456.789, 9999999999.0, 1e10,
           12345678901234.0, -1.2345678901e-300, 5e-324, 1.7976931348623157e308, 0.8807970779778823,
           2.5e-7, 100.0, 0.00012345678904]


def test_numbers_read_as_circuit_run_writes_them(open_page):
    """The page's number format is Python's `runner.present.numbers.number` (10 significant digits)."""
    opened = open_page(to_html(run_source(CIRCUITS / "add-gate.yaml")))
    for value in NUMBERS:
        opened.js("([name, value]) => circuitRun.set(name, value)", ["x", value])
        opened.js("([name, value]) => circuitRun.set(name, value)", ["y", 0.0])
        assert opened.page.locator("#output-value").inner_text() == runner_number(value + 0.0), value


# ---------------------------------------------------------------- every op

def op_spec(op: str, arity: int, constant: float | None = None) -> str:
    names = [f"a{i}" for i in range(arity)]
    inputs = ", ".join(f"{name}: 1" for name in names)
    refs = ", ".join(names + ([repr(constant)] if constant is not None else []))
    return f"inputs: {{{inputs}}}\ngates:\n  f: {{op: {op}, in: [{refs}]}}\n  out: {{op: mul, in: [f, 3]}}\n"


def test_every_op_matches_python_at_its_points(open_page):
    cases: dict[tuple[str, int], list[tuple[float, ...]]] = {}
    for name, args in every_op_cases(OPS, kinks=True):
        cases.setdefault((name, len(args)), []).append(args)
    assert {name for name, _ in cases} == set(OPS)  # every op of the table, none forgotten
    for (name, arity), points in cases.items():
        spec = runner.load_spec_text(op_spec(name, arity), "op.yaml")
        opened = open_page(to_html(runner.run_spec(spec, run_optimization=False)))
        assert opened.errors == [], name
        for args in points:
            point = {f"a{i}": value for i, value in enumerate(args)}
            for input_name, value in point.items():
                opened.js("([name, value]) => circuitRun.set(name, value)", [input_name, value])
            values, grads = python_at(spec, point)
            assert_close(opened.js("circuitRun.values()"), values, f"{name}{args}: value")
            assert_close(opened.js("circuitRun.grads()"), grads, f"{name}{args}: gradient")
            # and against the textbook formula, not only against Python's engine
            assert opened.js("circuitRun.values()")["f"] == pytest.approx(REFERENCE[name](*args), rel=1e-12, abs=1e-300)


def test_an_op_with_a_constant_input(open_page):
    """pow with a number exponent: the constant gets no gradient, the base does."""
    spec = runner.load_spec_text(op_spec("pow", 1, 2.5), "op.yaml")
    opened = open_page(to_html(runner.run_spec(spec, run_optimization=False)))
    opened.js("circuitRun.set('a0', 1.7)")
    values, grads = python_at(spec, {"a0": 1.7})
    assert_close(opened.js("circuitRun.values()"), values, "value")
    assert_close(opened.js("circuitRun.grads()"), grads, "gradient")


def test_a_mul_too_wide_for_templates_says_the_page_cannot_compute(open_page):
    spec = runner.load_spec_text(op_spec("mul", MAX_TEMPLATE_ARITY + 1), "op.yaml")
    opened = open_page(to_html(runner.run_spec(spec, run_optimization=False)))
    assert "no JavaScript for mul/33" in opened.page.locator("#notice").inner_text()
    assert math.isnan(opened.js("circuitRun.output()"))


def test_a_value_outside_an_op_domain_is_reported(open_page):
    spec = runner.load_spec_text("inputs: {x: 2}\ngates:\n  f: {op: log, in: [x]}\n", "log.yaml")
    opened = open_page(to_html(runner.run_spec(spec)))
    opened.js("circuitRun.set('x', -1)")
    status = opened.page.locator("#status").inner_text()
    assert "gate f (log) gives nan: log needs a > 0" in status


# ---------------------------------------------------------------- the playground, by hand

def test_the_slider_and_the_number_box_rerun_the_circuit(open_page):
    result = run_source(CIRCUITS / "neuron.yaml")
    opened = open_page(to_html(result))
    slider = opened.page.locator("#range-0")  # input a
    slider.focus()
    for _ in range(5):
        opened.page.keyboard.press("ArrowRight")
    moved = opened.js("circuitRun.values()")["a"]
    assert moved > result.values["a"]
    start = {name: result.values[name] for name in result.circuit.input_names}
    values, grads = python_at(result.spec, {**start, "a": moved})
    assert opened.js("circuitRun.output()") == pytest.approx(values["f"], rel=RELATIVE)
    assert opened.page.locator("#output-value").inner_text() == runner_number(values["f"])
    opened.page.locator("#number-4").fill("2.5")  # input y
    values, grads = python_at(result.spec, {**start, "a": moved, "y": 2.5})
    assert opened.js("circuitRun.output()") == pytest.approx(values["f"], rel=RELATIVE)
    assert_close(opened.js("circuitRun.grads()"), grads, "gradient")
    # the table shows the new numbers too (rows off screen catch up when scrolled to)
    cell = row_of(opened, "axpby").locator("td.grad")
    cell.scroll_into_view_if_needed()
    expect(cell).to_have_text(runner_number(grads["axpby"]))


@pytest.mark.parametrize("stem", ["neuron", "distance-ridge", "rosenbrock", "module-fan-out",
                                  "distance-ridge-formula"])
def test_the_step_button_follows_the_python_optimizer(stem, open_page):
    result = run_source(CIRCUITS / f"{stem}.yaml")
    settings = result.spec.optimize
    assert settings is not None and settings.method != "random"
    opened = open_page(to_html(result))
    rows = iter(Optimization(compile_spec(result.spec), settings))
    next(rows)  # the start
    for expected in islice(rows, 3):  # a run that stalls early has fewer rows
        opened.page.locator("#step-button").click()
        values = opened.js("circuitRun.values()")
        for name, value in expected.inputs.items():
            assert values[name] == pytest.approx(value, rel=RELATIVE, abs=1e-300), name
        assert opened.js("circuitRun.output()") == pytest.approx(expected.output, rel=RELATIVE)
    opened.page.locator("#reset-button").click()
    assert opened.js("circuitRun.output()") == pytest.approx(result.output, rel=RELATIVE)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_optimizer_steps_as_python(optimizer, open_page):
    text = (CIRCUITS / "rosenbrock.yaml").read_text().replace("optimizer: adam", f"optimizer: {optimizer}")
    text = text.replace("step_size: 0.05", "step_size: 0.0005")
    spec = runner.load_spec_text(text, "rosenbrock.yaml")
    assert spec.optimize.optimizer == optimizer and spec.optimize.step_size == 0.0005
    opened = open_page(to_html(runner.run_spec(spec, run_optimization=False)))
    rows = list(zip(range(5), Optimization(compile_spec(spec), spec.optimize)))
    opened.js("circuitRun.step(4)")
    values = opened.js("circuitRun.values()")
    for name, value in rows[4][1].inputs.items():
        assert values[name] == pytest.approx(value, rel=RELATIVE), name


# ---------------------------------------------------------------- safety and reach

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_pages_make_no_network_request(path, open_page):
    opened = open_page(to_html(run_source(path)))
    if opened.page.locator("#step-button").is_enabled():
        opened.page.locator("#step-button").click()
    assert opened.requests == [opened.file.as_uri()]


def test_planted_script_in_names_and_descriptions_stays_text(open_page):
    opened = open_page(to_html(run_source(hostile_spec())))
    assert opened.errors == []
    assert opened.js("window.pwned") is None
    assert opened.page.locator("#title").inner_text() == HOSTILE.replace("\u2028", "\n").replace("\u2029", "\n") \
        or opened.js("document.getElementById('title').textContent") == HOSTILE
    assert opened.js("document.getElementById('description').textContent") == HOSTILE
    assert opened.page.title() == f"{HOSTILE} · circuit-run"


def test_formulas_and_modules_show_their_generated_nodes(open_page):
    result = run_source(CIRCUITS / "module-fan-out.yaml")
    opened = open_page(to_html(result))
    rows = opened.page.locator("#nodes tbody tr")
    names = [rows.nth(i).locator("td.name").inner_text() for i in range(rows.count())]
    assert names == list(result.circuit.index)  # inputs, then every gate, dotted names included
    assert "near1: instance of module halfsquare" in row_of(opened, "near1.1").inner_text()
    assert "near1: instance of module halfsquare" in opened.page.locator("#groups").inner_text()
    assert opened.page.locator("#diagram .node b", has_text=re.compile("^near3.2$")).count() == 1


def boxes(opened: Opened) -> list[str]:
    return opened.page.locator("#diagram .node b").all_inner_texts()


def test_a_big_network_starts_folded_one_box_per_instance(open_page):
    result = run_source(CIRCUITS / "mlp.yaml")
    opened = open_page(to_html(result))
    assert sorted(boxes(opened)) == ["h1", "h2", "x0", "x1", "y"]
    y = opened.page.locator("#diagram .node.group", has_text="module neuron")
    assert "16 outputs" in opened.page.locator("#diagram .node.group").first.inner_text()
    assert f"value {runner_number(result.output)}" in y.last.inner_text()
    opened.js("circuitRun.set('x0', 1)")
    values, _ = python_at(result.spec, {**{n: result.values[n] for n in result.circuit.input_names}, "x0": 1.0})
    expect(y.last).to_contain_text(f"value {runner_number(values['y'])}")
    opened.page.locator("#fold").click()  # unfold: every node again
    assert len(boxes(opened)) == len(result.circuit.index)
    assert opened.page.locator("#fold").get_attribute("aria-pressed") == "false"


def test_small_circuits_fold_on_request(open_page):
    result = run_source(CIRCUITS / "module-fan-out.yaml")
    opened = open_page(to_html(result))
    assert len(boxes(opened)) == len(result.circuit.index)
    opened.page.locator("#fold").click()
    assert sorted(boxes(opened)) == ["f", "near1", "near3", "x"]
    assert_close(opened.js("circuitRun.grads()"), dict(result.grads), "gradient")  # folding draws; it computes nothing
    assert opened.page.locator("#fold").is_hidden() is False
    opened_plain = open_page(to_html(run_source(CIRCUITS / "neuron.yaml")))
    assert opened_plain.page.locator("#fold").is_hidden()  # nothing to fold


def test_a_phone_wide_page_does_not_scroll_sideways(open_page, screenshots):
    opened = open_page(to_html(run_source(CIRCUITS / "neuron.yaml")), width=375)
    assert opened.js("document.documentElement.scrollWidth") <= 375
    opened.page.screenshot(path=str(screenshots / "neuron-phone.png"), full_page=True)


def test_a_100000_gate_spec_gives_a_small_page_that_opens(request, tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text(chain_spec(100_000))
    out = tmp_path / "big.html"
    done = invoke("--format", "json", "--html", str(out), str(spec))
    assert done.exit_code == 0, done.stderr
    assert out.stat().st_size < 100_000
    output = json.loads(done.stdout)["output"]["value"]
    opened = request.getfixturevalue("open_page")(out.read_text(encoding="utf-8"))  # skips without a browser
    assert opened.errors == []
    assert "100,000 gates and 2 inputs" in opened.page.locator("#notice").inner_text()
    assert opened.js("circuitRun.output()") == output
    assert opened.js("circuitRun.values()")["x"] == 0.5
