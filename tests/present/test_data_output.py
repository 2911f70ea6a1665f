"""What a spec with data shows: per-row lists in JSON and CSV, a summary in
the table, the loss in parts, metrics per step, --predict, --plot, --check."""

from __future__ import annotations

import csv
import io
import json

import pytest

import runner
from helpers import CIRCUITS, invoke, run_source
from runner.present import csv_output, json_output, tables
from runner.present.explain import render_text, walk
from runner.results.run import row_result

SVM_COST = CIRCUITS / "svm-cost.yaml"


def test_json_has_per_row_lists_the_loss_in_parts_and_the_metrics():
    result = invoke("--format", "json", str(SVM_COST))
    document = json.loads(result.stdout)
    nodes = document["nodes"]
    assert nodes["w0"]["value"] == 0.1 and isinstance(nodes["w0"]["grad"], float)
    assert nodes["x0"]["value"] == [1.2, -0.3, 3.0]
    assert nodes["cost"]["value"] == pytest.approx([0.44, 1.37, 0.0])
    assert nodes["cost"]["grad"] == [1.0, 1.0, 1.0]  # reduce: sum
    assert document["loss"] == pytest.approx({"value": 1.815, "data": 1.81, "regularization": 0.005})
    assert document["output"]["value"] == document["loss"]["value"]
    assert document["metrics"] == {"accuracy": pytest.approx(2 / 3)}
    assert document["data"] == {"columns": ["x0", "x1", "y"], "rows": 3, "source": str(SVM_COST)}


def test_json_pieces_equal_json_dumps_of_the_document():
    result = run_source(CIRCUITS / "svm-train.yaml", check=True)
    expected = json.dumps(json_output.to_json_dict(result), allow_nan=False)
    assert json_output.render_json(result) == expected
    document = json.loads(expected)
    trace = document["optimization"]["trace"]
    assert set(trace[0]["metrics"]) == {"accuracy", "errors"}
    assert document["optimization"]["final"]["metrics"] == {"accuracy": 1.0, "errors": 0.0}


def test_csv_has_a_line_per_node_and_row():
    result = run_source(SVM_COST)
    rows = list(csv.DictReader(io.StringIO(csv_output.render_csv(result))))
    costs = [row for row in rows if row["name"] == "cost"]
    assert [row["row"] for row in costs] == ["1", "2", "3"]
    assert [float(row["value"]) for row in costs] == pytest.approx([0.44, 1.37, 0.0])
    (w0,) = [row for row in rows if row["name"] == "w0"]
    assert w0["row"] == "" and float(w0["grad"]) == pytest.approx(-1.48)


def test_table_summarizes_rows_and_states_the_loss():
    text = tables.render_table(run_source(CIRCUITS / "moons.yaml", run_optimization=False))
    assert "(100 rows)" in text and ", ..." in text
    assert "* loss = mean of hinge over 100 rows" in text and "+ L2 " in text
    assert "metrics: accuracy 0.5" in text


def test_explain_works_at_the_first_row_and_says_so():
    result = run_source(SVM_COST)
    text = render_text(result)
    assert "data row 1 of 3" in text
    first = row_result(result)
    assert first.values["x0"] == 1.2 and first.output == pytest.approx(0.44)
    numerical = first.circuit.numerical_gradient(1e-6, central=True)
    sums = {step.node: step.grad for step in walk(result)}
    for name, estimate in numerical.items():
        assert sums[name] == pytest.approx(estimate, abs=1e-6), name


def test_predict_writes_the_score_of_new_rows_with_the_final_parameters(tmp_path):
    points = tmp_path / "new.csv"
    points.write_text("x,y\n1.0,2.0\n-0.5,0.25\n")
    result = invoke("--predict", str(points), str(CIRCUITS / "svm-train.yaml"))
    assert result.exit_code == 0, result.stderr
    final = run_source(CIRCUITS / "svm-train.yaml").optimization.final_inputs
    lines = result.stdout.splitlines()
    assert lines[0] == "x,y,score"
    for line, (x, y) in zip(lines[1:], [(1.0, 2.0), (-0.5, 0.25)]):
        assert float(line.split(",")[2]) == pytest.approx(final["a"] * x + final["b"] * y + final["c"], rel=1e-12)


def test_predict_refuses_a_file_without_a_needed_column(tmp_path):
    points = tmp_path / "new.csv"
    points.write_text("x\n1.0\n")
    result = invoke("--predict", str(points), str(CIRCUITS / "svm-train.yaml"))
    assert result.exit_code == 2
    assert f"{points}:1:1: error: --predict: 'score' needs the column 'y'" in result.stderr


def test_plot_draws_loss_metrics_and_the_decision_boundary(tmp_path):
    pytest.importorskip("matplotlib")
    from runner.present.data_plots import boundary_columns, data_figure
    from matplotlib.figure import Figure

    result = run_source(CIRCUITS / "svm-train.yaml")
    assert boundary_columns(result) == ("x", "y", "label", "score")
    figure = data_figure(result, Figure)
    assert len(figure.axes) == 3
    target = tmp_path / "svm.png"
    assert invoke("-q", "--plot", str(target), str(CIRCUITS / "svm-train.yaml")).exit_code == 0
    assert target.stat().st_size > 10_000


def test_trace_file_rows_carry_the_metrics(tmp_path):
    target = tmp_path / "run.jsonl"
    assert invoke("-q", "--trace", str(target), str(CIRCUITS / "svm-train.yaml")).exit_code == 0
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 601 and set(rows[-1]["metrics"]) == {"accuracy", "errors"}


def test_per_row_expectations_name_the_failing_row(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SVM_COST.read_text().replace("cost: [0.44, 1.37, 0.0]", "cost: [0.44, 1.36, 0.0]"))
    result = invoke("--check", str(spec))
    assert result.exit_code == 1
    assert "values.cost[1]" in result.stdout and "values.cost[0]" not in result.stdout


def test_a_data_file_over_max_bytes_is_refused_unread(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.write(b"x,y\n1,1\n")
        handle.truncate(1 << 30)  # 1 GB, sparse: nothing is written, nothing must be read
    spec = tmp_path / "s.yaml"
    spec.write_text("inputs: {w: 1}\ndata: {columns: [x, y], file: big.csv}\ngates:\n  f: \"w * x\"\n")
    result = invoke(str(spec))
    assert result.exit_code == 2
    assert "larger than the limit" in result.stderr and str(big) in result.stderr


def test_final_output_is_over_all_rows_after_minibatches():
    result = run_source(CIRCUITS / "svm-train.yaml")
    spec = runner.load_spec(str(CIRCUITS / "svm-train.yaml"))
    final = result.optimization.final_inputs
    data = spec.netlist.data
    hinge = [max(0.0, 1 - label * (final["a"] * x + final["b"] * y + final["c"])) for x, y, label in data.rows]
    expected = sum(hinge) / len(hinge) + 0.1 * (final["a"] ** 2 + final["b"] ** 2)
    assert result.optimization.final_output == pytest.approx(expected, rel=1e-12)


def test_update_expect_fixes_a_row_and_a_metric(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SVM_COST.read_text().replace("cost: [0.44, 1.37, 0.0]", "cost: [0.44, 1.3, 0.0]")
                    .replace("metrics: {accuracy: 0.6666666666666666}", "metrics: {accuracy: 0.5}"))
    result = invoke("--update-expect", str(spec))
    assert "values.cost[1]: 1.3 -> 1.37" in result.stdout and "metrics.accuracy: 0.5 -> " in result.stdout
    assert spec.read_text() == SVM_COST.read_text().replace("accuracy: 0.6666666666666666}", "accuracy: "
                                                                "0.6666666666666666}")
    assert invoke("--check", str(spec)).exit_code == 0


def test_update_expect_creates_a_block_with_metrics_and_without_columns(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SVM_COST.read_text().split("expect:")[0])
    assert invoke("--update-expect", str(spec)).exit_code == 0
    expect = runner.load_spec(str(spec)).expect
    assert set(expect.grads) == {"w0", "w1", "w2"} and expect.metrics["accuracy"].value == pytest.approx(2 / 3)
    assert invoke("--check", str(spec)).exit_code == 0



def test_set_refuses_a_data_column():
    result = invoke("--set", "x0=1", str(SVM_COST))
    assert result.exit_code == 2 and "'x0' is a data column" in result.stderr


def test_plot_surface_of_a_data_spec_is_the_loss_over_all_rows(tmp_path):
    pytest.importorskip("matplotlib")
    from runner.present.plots import surface_grid

    source = ("inputs: {a: 1.0, c: -1.0}\ndata:\n  columns: [x, label]\n  rows: [[1.2, 1], [-0.3, -1], [3.0, 1]]\n"
              "gates:\n  score: \"a*x + c\"\n  hinge: \"max(0, 1 - label*score)\"\nloss: {of: hinge}\n"
              "optimize: {step_size: 0.1, iterations: 5}\n")
    result = run_source(source)
    gx, gy, z = surface_grid(result, grid=5)
    a, c = float(gx[1]), float(gy[3])
    rows = [(1.2, 1), (-0.3, -1), (3.0, 1)]
    expected = sum(max(0.0, 1 - label * (a * x + c)) for x, label in rows) / 3
    assert z[3, 1] == pytest.approx(expected, rel=1e-12)
