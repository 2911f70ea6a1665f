"""--plot and --plot-surface: the optimization drawn with matplotlib (an optional extra)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

import runner
from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]
CIRCUITS = ROOT / "circuits"
RIDGE = CIRCUITS / "distance-ridge.yaml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False
needs_matplotlib = pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed")


def run(path: Path):
    return runner.run_spec(runner.load_spec(str(path)))


@needs_matplotlib
def test_trace_figure_draws_the_trace():
    from runner.present.plots import trace_figure

    result = run(RIDGE)
    top, bottom = trace_figure(result).axes
    trace = result.optimization.trace
    (output_line,) = top.get_lines()
    assert list(output_line.get_xdata()) == list(range(101))
    assert list(output_line.get_ydata()) == [row.output for row in trace]
    assert [line.get_label() for line in bottom.get_lines()] == ["x", "y"]  # one shared panel
    assert list(bottom.get_lines()[1].get_ydata()) == [row.inputs["y"] for row in trace]
    assert top.get_ylabel() == "output f"
    assert bottom.get_xlabel().startswith("iteration")
    title = top.get_title()
    assert "maximize by numerical gradient" in title and "stopped: all iterations done" in title
    assert "f 99 -> 99.99971539" in title


@needs_matplotlib
def test_inputs_on_different_scales_get_a_panel_each():
    # x moves -2 -> -2.04 and y 5 -> 4.96: on one shared axis both would look flat
    from runner.present.plots import trace_figure

    axes = trace_figure(run(CIRCUITS / "add-multiply.yaml")).axes
    assert [a.get_ylabel() for a in axes] == ["output f", "input x", "input y"]
    assert list(axes[1].get_lines()[0].get_ydata()) == pytest.approx([-2, -2.04])


@needs_matplotlib
def test_surface_grid_is_the_circuit_output_over_the_plane():
    import numpy as np

    from runner.present.plots import surface_grid

    result = run(RIDGE)
    before = result.circuit.input_values()
    xs, ys, z = surface_grid(result, grid=41)
    expected = 100 - (xs[None, :] - ys[:, None]) ** 2  # f = 100 - (x - y)^2, independently
    assert np.allclose(z, expected, rtol=0, atol=1e-9)
    # the square holds the whole path, centred on its end
    path = result.optimization.trace
    assert all(xs[0] < row.inputs["x"] < xs[-1] and ys[0] < row.inputs["y"] < ys[-1] for row in path)
    assert (xs[0] + xs[-1]) / 2 == pytest.approx(path[-1].inputs["x"])
    # the ridge x = y crosses the picture: its best point is on it
    i, j = np.unravel_index(np.nanargmax(z), z.shape)
    assert abs(xs[j] - ys[i]) <= xs[1] - xs[0]
    assert result.circuit.input_values() == before  # the circuit is left as it was


@needs_matplotlib
def test_surface_figure_draws_the_path_climbing_to_the_ridge():
    from runner.present.plots import surface_figure

    result = run(RIDGE)
    axes = surface_figure(result, grid=21).axes[0]
    path = next(line for line in axes.get_lines() if line.get_label() == "optimization path")
    trace = result.optimization.trace
    assert list(path.get_xdata()) == [row.inputs["x"] for row in trace]
    xs, ys = path.get_xdata(), path.get_ydata()
    assert abs(xs[0] - ys[0]) == 1 and abs(xs[-1] - ys[-1]) < 0.02  # from 1 off the ridge to on it
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("input x", "input y")
    labels = [line.get_label() for line in axes.get_lines()]
    assert "start (3, 4)" in labels and any(label.startswith("end (3.49") for label in labels)


@needs_matplotlib
def test_fixed_inputs_are_named_in_the_surface_title(tmp_path):
    from runner.present.plots import surface_figure

    spec = runner.load_spec(str(CIRCUITS / "add-multiply.yaml"))
    title = surface_figure(runner.run_spec(spec), grid=11).axes[0].get_title()
    assert "held at their start values: z = -4" in title


@needs_matplotlib
def test_cli_writes_png_and_svg_deterministically(tmp_path):
    png, svg = tmp_path / "trace.png", tmp_path / "surface.svg"
    result = CliRunner().invoke(main, ["--plot", str(png), "--plot-surface", str(svg), str(RIDGE)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert ElementTree.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    first = svg.read_bytes()
    assert CliRunner().invoke(main, ["--plot-surface", str(svg), str(RIDGE)]).exit_code == 0
    assert svg.read_bytes() == first


def test_plot_without_an_optimize_block_is_a_usage_error(tmp_path):
    out = tmp_path / "t.png"
    result = CliRunner().invoke(main, ["--plot", str(out), str(CIRCUITS / "max-gate.yaml")])
    assert result.exit_code == 2
    assert f"{CIRCUITS / 'max-gate.yaml'}: error: --plot draws an optimization, but this spec has no optimize" \
           in result.stderr
    assert not out.exists()


def test_a_failed_picture_does_not_stop_the_others_or_the_check(tmp_path):
    out = tmp_path / "am.dot"
    result = CliRunner().invoke(main, ["--check", "--plot-surface", str(tmp_path / "s.gif"), "--graph", str(out),
                                       str(CIRCUITS / "add-multiply.yaml")])
    assert result.exit_code == 2
    assert "s.gif: error:" in result.stderr
    assert out.exists() and result.stdout.startswith("PASS")


def test_surface_needs_two_trainable_inputs(tmp_path):
    result = CliRunner().invoke(main, ["--plot-surface", str(tmp_path / "s.png"), str(CIRCUITS / "neuron.yaml")])
    assert result.exit_code == 2
    assert "needs exactly two trainable inputs; this circuit has 5 (a, b, c, x, y)" in result.stderr


def test_unknown_plot_extension(tmp_path):
    result = CliRunner().invoke(main, ["--plot", str(tmp_path / "t.gif"), str(RIDGE)])
    assert result.exit_code == 2
    assert "use one of .png, .svg, .pdf" in result.stderr


def test_without_matplotlib_says_which_extra_to_install(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    out = tmp_path / "t.png"
    for option in ("--plot", "--plot-surface"):
        result = CliRunner().invoke(main, [option, str(out), str(RIDGE)])
        assert result.exit_code == 2, result.output
        assert "plotting needs matplotlib: install circuit-run[plot]" in result.stderr
        assert "Traceback" not in result.output
    assert not out.exists()


def test_matplotlib_is_not_imported_at_start_up():
    code = ("import sys, runner.cli, runner.present.plots, runner.present.diagram, runner.present.explain; "
            "print('matplotlib' in sys.modules, 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


@needs_matplotlib
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_readme_images_can_be_regenerated(tmp_path):
    env = {**os.environ, "CIRCUIT_RUN": f"{sys.executable} -m runner"}
    done = subprocess.run(["sh", str(ROOT / "docs" / "make_images.sh"), str(tmp_path)], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ElementTree.parse(tmp_path / "add-multiply.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    for name in ("distance-ridge-trace.png", "distance-ridge-surface.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)


def test_plot_gets_every_row_of_a_short_run_while_the_table_stays_short(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import runner.present.plots
    from runner.cli import main

    seen = {}
    monkeypatch.setattr(runner.present.plots, "plot_trace", lambda result, target, **_: seen.setdefault(
        "rows", [row.iteration for row in result.optimization.trace]))
    spec = str(Path(__file__).resolve().parents[2] / "circuits" / "distance-ridge.yaml")
    out = CliRunner().invoke(main, ["--plot", str(tmp_path / "p.png"), spec])
    assert out.exit_code == 0, out.output
    assert seen["rows"] == list(range(101))  # 100 steps: all rows reach the plot
    assert "rows shown" in out.stdout  # the table still shows a summary


@pytest.mark.parametrize("missing", [("numpy",), ("numpy", "matplotlib")])
def test_without_numpy_the_surface_says_which_extra_to_install(tmp_path, monkeypatch, missing):
    """Issue 17, item 10: --plot-surface imported numpy before asking for
    matplotlib, so a bare install ended in ModuleNotFoundError."""
    for name in [m for m in sys.modules if m.split(".")[0] in missing]:
        monkeypatch.delitem(sys.modules, name)
    for name in missing:
        monkeypatch.setitem(sys.modules, name, None)  # `import NAME` now fails
    if "matplotlib" in missing:
        monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    out = tmp_path / "s.png"
    result = CliRunner().invoke(main, ["--plot-surface", str(out), str(RIDGE)])
    assert result.exit_code == 2, result.output
    assert "circuit-run: error: plotting needs matplotlib: install circuit-run[plot]" in result.stderr
    assert not out.exists()


# --------------------------------------------------------------------------
# The output's scale, and legends clear of the panels

def _run_with(path: Path, **changes):
    from runner.spec.overrides import with_settings

    return runner.run_spec(with_settings(runner.load_spec(str(path)), changes))


@needs_matplotlib
def test_an_output_spanning_decades_gets_a_log_axis():
    """Rosenbrock minimized from 24.2 falls below 1e-3 in 2,000 steps: a log axis shows the descent."""
    from runner.present.plots import trace_figure

    result = _run_with(CIRCUITS / "rosenbrock.yaml", iterations=2000)
    outputs = [row.output for row in result.optimization.trace]
    assert min(outputs) > 0 and max(outputs) / min(outputs) > 1e3
    top = trace_figure(result).axes[0]
    assert top.get_yscale() == "log" and top.get_ylabel() == "output f (log scale)"
    assert trace_figure(result, output_scale="linear").axes[0].get_yscale() == "linear"


@needs_matplotlib
def test_an_output_within_a_decade_stays_linear_unless_log_is_asked_for():
    from runner.present.plots import trace_figure

    result = run(RIDGE)  # 99 -> 99.9997
    assert trace_figure(result).axes[0].get_yscale() == "linear"
    assert trace_figure(result, output_scale="log").axes[0].get_yscale() == "log"


@needs_matplotlib
def test_log_of_an_output_that_changes_sign_is_symlog():
    from runner.present.plots import trace_figure

    result = run(CIRCUITS / "add-multiply.yaml")  # f = -12 -> -11.68: negative
    assert trace_figure(result, output_scale="log").axes[0].get_yscale() == "symlog"
    assert trace_figure(result).axes[0].get_yscale() == "linear"


@needs_matplotlib
def test_the_inputs_legend_sits_beside_its_panel_not_on_it():
    from runner.present.plots import trace_figure

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = trace_figure(run(RIDGE))
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # the layout places everything
    panel = figure.axes[1]
    legend = panel.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["x", "y"]
    renderer = canvas.get_renderer()
    box, area = legend.get_window_extent(renderer), panel.get_window_extent(renderer)
    assert box.x0 >= area.x1  # right of the panel: no line, tick or tick label under it


def test_cli_plot_scale_option(tmp_path):
    if not HAVE_MATPLOTLIB:
        pytest.skip("matplotlib is not installed")
    target = tmp_path / "rb.svg"
    result = CliRunner().invoke(main, ["--plot", str(target), "--plot-scale", "log", "--iterations", "20",
                                       str(CIRCUITS / "rosenbrock.yaml")])
    assert result.exit_code == 0, result.output
    assert "output f (log scale)" in target.read_text()
    bad = CliRunner().invoke(main, ["--plot-scale", "cubic", str(RIDGE)])
    assert bad.exit_code == 2
