"""Results as text for people: the node table, the optimization summary,
and the verdicts of --check and --gradcheck."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..results.run import RunResult, by_slot
from .errors import printable
from .numbers import number, reference
from ..words import counted

if TYPE_CHECKING:  # imported only for annotations, to keep start-up light
    from ..optimization.optimizer import OptimizationResult
    from ..optimization.trace import TraceRow
    from ..results.expectations import CheckResult
    from ..results.gradcheck import GradcheckResult
    from ..spec.models import Optimize


COLUMN_WIDTH = 60  # a column is padded to at most this many characters
IN_WIDTH = 60  # an `in` cell lists inputs up to about this many characters


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (),
          indent: str = "  ") -> str:
    """Aligned columns; the columns listed in `right` are right-aligned.

    A column is padded to its widest cell but never past `COLUMN_WIDTH`: a
    longer cell is written whole and pushes the rest of its own row along, so
    one long cell cannot pad every other row, and the table's size stays
    proportional to what it shows."""
    widths = [min(max(len(str(row[i])) for row in [header, *rows]), COLUMN_WIDTH) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [str(c).rjust(w) if i in right else str(c).ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths))]
        return (indent + "  ".join(padded)).rstrip()

    return "\n".join([line(header), *(line(row) for row in rows)])


def render_table(result: RunResult, *, all_nodes: bool = False, columns: Sequence[str] | None = None) -> str:
    """The node table and, after an optimization, its summary. A formula's
    steps and a module instance's nodes fold into one row for the gate the
    user wrote, unless `all_nodes`."""
    circuit, spec = result.circuit, result.spec
    heading = printable(f"circuit {spec.name} ({spec.source})")
    if spec.description:  # its own lines, each one printable
        heading += "".join(f"\n  {printable(line)}" for line in spec.description.strip().splitlines())
    header = ["", "name", "op", "in", "value", "grad"]
    numeric = result.numerical_grads is not None
    if numeric:
        header.append("numerical grad")
    rows, folded = _node_rows(result, fold=not all_nodes and bool(circuit.groups))
    parts = [heading, table(header, rows, right=(4, 5, 6))]
    if result.loss is not None:
        parts.extend(data_lines(result))
    else:
        parts.append(f"  * output {circuit.output_name} = {number(result.output)}; "
                     f"grad is d{circuit.output_name}/d(node)")
    if folded:
        parts.append(f"  {counted(folded, 'node')} of formulas and module instances {'is' if folded == 1 else 'are'} "
                     "folded into their gate's row "
                     "(--all-nodes shows them)")
    if result.optimization is not None:
        names = [name for name in circuit.input_names if name in result.optimization.final_inputs]
        parts.append(render_optimization(result.optimization, names, result.values, columns))
    return "\n".join(parts) + "\n"


def data_lines(result: RunResult) -> list[str]:
    """What the output of a spec with data is: the loss over its rows, in
    parts, and the metrics."""
    loss, spec = result.loss or {}, result.spec
    of = spec.loss.of if spec.loss is not None and spec.loss.of else result.circuit.output_name
    reduce = spec.loss.reduce if spec.loss is not None else "mean"
    line = (f"  * loss = {reduce} of {of} over {result.rows:,} rows ({number(loss.get('data'))})")
    if spec.loss is not None and spec.loss.l2 is not None:
        line += f" + L2 {number(loss.get('regularization'))}"
    lines = [line + f" = {number(result.output)}; grad is dloss/d(node), per row for nodes that depend on data"]
    if result.metrics:
        lines.append("  metrics: " + ", ".join(f"{name} {number(value)}" for name, value in result.metrics.items()))
    return lines


def _node_rows(result: RunResult, *, fold: bool) -> tuple[list[list[str]], int]:
    """The table's rows, and how many nodes folding left out."""
    circuit = result.circuit
    values, grads = by_slot(result.values, circuit), by_slot(result.grads, circuit)
    numerical = result.numerical_grads
    output, trainable = circuit.output, set(circuit.trainable)
    rows: list[list[str]] = []
    folded = 0
    for slot, name in enumerate(circuit.input_names):
        if fold and circuit.group_of(name):
            folded += 1  # a module's parameter: part of its instance's row
            continue
        rows.append(["*" if slot == output else "", name, "input" if name in trainable else "input (fixed)", "",
                     number(values[slot]), number(grads[slot])] +
                    ([number(numerical.get(name))] if numerical is not None else []))
    last_of = _last_nodes(circuit) if fold else {}
    for step, refs in zip(circuit.tape, circuit.refs):
        out, name = step.out, circuit.names[step.out]
        group = circuit.group_of(name) if fold else None
        if group is not None:
            if last_of[group] != out:
                folded += 1
                continue
            rows.append(_group_row(circuit, group, values, grads, output) + ([""] if numerical is not None else []))
            folded += name != group  # the row stands for the group, not for this node
            continue
        rows.append(["*" if out == output else "", name, step.op.name, inputs_text(refs),
                     number(values[out]), number(grads[out])] + ([""] if numerical is not None else []))
    return rows, folded


def inputs_text(refs: Sequence, width: int = IN_WIDTH) -> str:
    """A gate's inputs as `x, y, 2`, or, when that is wider than `width`
    characters, the first ones and how many more: `x0, x1, ... (7,997 more)`
    (at least one input is shown whole). The cost is that of the inputs
    shown, however many the gate has."""
    shown: list[str] = []
    length = -2
    for ref in refs:
        text = reference(ref)
        length += len(text) + 2
        if length > width:
            break
        shown.append(text)
    else:
        return ", ".join(shown)

    def more(count: int) -> str:
        return f", ... ({len(refs) - count:,} more)"

    while len(shown) > 1 and len(", ".join(shown)) + len(more(len(shown))) > width:
        shown.pop()
    if not shown:  # the first input alone is wider than the cell
        shown = [reference(refs[0])]
    return ", ".join(shown) + (more(len(shown)) if len(shown) < len(refs) else "")


def _abbreviated(text: str, width: int = IN_WIDTH) -> str:
    """`text`, cut after about `width` characters with how many were left out."""
    if len(text) <= width:
        return text
    return text[:width] + f"... ({len(text) - width:,} more characters)"


def _last_nodes(circuit) -> dict[str, int]:
    """Each group's last gate on the tape: where its row goes."""
    last: dict[str, int] = {}
    for step in circuit.tape:
        group = circuit.group_of(circuit.names[step.out])
        if group is not None:
            last[group] = step.out
    return last


def _group_row(circuit, name: str, values, grads, output: int) -> list[str]:
    """One row for a formula or an instance: its own node's value and
    gradient, or how many outputs it has."""
    group = circuit.groups[name]
    slot = circuit.index.get(name)
    inside = slot is not None and slot == output or circuit.group_of(circuit.output_name) == name
    if group.kind == "formula":
        op, ins = "formula", _abbreviated(group.formula)
    else:
        op = group.module + (f" x{group.copies}" if group.copies > 1 else "") + \
            (f", {group.activation}" if group.activation else "")
        ins = inputs_text([_binding_text(binding) for binding in group.bindings])
    if slot is not None:
        value, grad = number(values[slot]), number(grads[slot])
    else:
        value, grad = f"({group.copies} outputs)" if group.copies > 1 else "(outputs)", ""
    return ["*" if inside else "", name, op, ins, value, grad]


def _binding_text(binding) -> str:
    if isinstance(binding, list):
        return "[" + inputs_text(binding) + "]"
    return reference(binding)


def _with_cuts(rows: Sequence[TraceRow]) -> list[TraceRow | None]:
    """The kept rows with None where rows were left out next to a run of
    consecutive rows (after the first rows, before the last ones). Evenly
    spaced rows between them need no mark: their iterations say the spacing."""
    kept = {row.iteration for row in rows}
    shown: list[TraceRow | None] = []
    for before, row in zip([None, *rows], rows):
        if before is not None and row.iteration - before.iteration > 1 and \
                (before.iteration - 1 in kept or row.iteration + 1 in kept):
            shown.append(None)
        shown.append(row)
    return shown


def _how(settings: Optimize) -> str:
    if settings.method == "random":
        return f"random local search (seed {settings.seed})"
    how = "analytic gradient (backprop)" if settings.method == "analytic" else \
        f"numerical gradient (h={settings.h:g})"
    if settings.optimizer != "sgd":
        extra = ", ".join(f"{key} {value:g}" for key, value in settings.optimizer_settings().items())
        how += f" and {settings.optimizer} ({extra})"
    return how


def stop_text(run: OptimizationResult) -> str:
    """Why an optimization ended, in words (tables and plot titles)."""
    if run.stop == "iterations":
        return "all iterations done"
    if run.stop == "tolerance":
        return f"output changed by less than {run.settings.tolerance:g}"
    if run.stop == "stalled":
        return "stalled: the last step changed no input"
    if run.stop == "diverged":
        return f"diverged at step {run.steps + 1}; the rows shown are the finite ones"
    if run.stop == "interrupted":
        return f"interrupted at step {run.steps}"
    return run.stop


def summary_rows(rows: Sequence[TraceRow]) -> list[TraceRow]:
    """The first, evenly spaced and last of `rows`, as a table shows them."""
    from ..optimization.trace import KeepSummary

    sample = KeepSummary()
    for row in rows:
        sample.add(row)
    return sample.rows()


WIDTH = 120  # characters a trace table may take before it is split, then cut
FINAL_ROWS = 30  # inputs listed with their start and final values


def render_optimization(run: OptimizationResult, input_names: Sequence[str],
                        start_values: dict[str, float], columns: Sequence[str] | None = None) -> str:
    """The optimization's summary and trace table. `columns` are the
    trainable inputs the table shows (default: as many as fit in WIDTH)."""
    settings = run.settings
    lines = [f"optimization: {settings.goal} by {_how(settings)}, step size {settings.step_size:g}, "
             f"{run.steps} step{'s' if run.steps != 1 else ''} ({stop_text(run)})"]
    every = list(run.trace[0].inputs) if run.trace else []
    shown = run.trace
    names, tables = _trace_tables(_with_cuts(shown), list(columns) if columns else every,
                                  gradients=settings.method != "random", fit=not columns)
    if len(shown) < run.rows:
        lines.append(f"  {len(shown)} of {run.rows:,} rows shown (--every N to choose, "
                     "--trace FILE to keep them all)")
    if not columns and names < len(every):
        lines.append(f"  {names} of {len(every):,} trainable inputs shown (--columns NAME,... to choose; "
                     "--format json or --trace FILE has them all)")
    for text, title in tables:
        if title:
            lines.append(f"  {title}:")
        lines.append(text)
    start = run.trace[0].output if run.trace else run.final_output
    final = "last finite output" if run.stop == "diverged" else "final output"
    lines.append(f"  {final} {number(run.final_output)} (started at {number(start)}, "
                 f"change {number(run.final_output - start)})")
    if run.final_metrics is not None:
        lines.append("  final metrics over all rows: " +
                     ", ".join(f"{name} {number(value)}" for name, value in run.final_metrics.items()))
        if run.settings.batch_size is not None:
            lines.append(f"  (each step's output and metrics are over its batch of {run.settings.batch_size} rows)")
    final_rows = [[name, number(start_values[name]), number(run.final_inputs[name])]
                  for name in input_names[:FINAL_ROWS]]
    if len(input_names) > FINAL_ROWS:
        final_rows.append([f"... {len(input_names) - FINAL_ROWS:,} more", "", ""])
    lines.append(table(["input", "start", "last finite" if run.stop == "diverged" else "final"],
                       final_rows, right=(1, 2)))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# --check

def render_check(source: str, check: CheckResult) -> str:
    verdict = "PASS" if check.passed else "FAIL"
    lines = [printable(f"{verdict} {source} ({len(check.comparisons)} checked)")]
    for note in check.notes:
        lines.append(f"  {printable(note)}")
    if check.failures:
        rows = []
        for c in check.failures:
            expected, actual = _distinct(c.expected, c.actual)
            rows.append([c.path, expected, actual, number(c.difference), number(c.allowed)])
        lines.append(table(["entry", "expected", "actual", "difference", "allowed"], rows,
                           right=(1, 2, 3, 4)))
    return "\n".join(lines) + "\n"


def _trace_tables(rows: Sequence[TraceRow | None], names: list[str], *, gradients: bool,
                  fit: bool) -> tuple[int, list[tuple[str, str]]]:
    """How many of `names` are shown, and (table, title) pairs: one table of
    values and gradients while it fits in WIDTH; else values and gradients
    one under the other. With `fit`, as many names as then fit (at least
    one); else all of `names`."""
    def tables(count: int) -> list[tuple[str, str]]:
        chosen = names[:count]
        if not gradients:
            return [(_trace_table(rows, chosen, ("value",)), "")]
        together = _trace_table(rows, chosen, ("value", "grad"))
        if _width(together) <= WIDTH:
            return [(together, "")]
        return [(_trace_table(rows, chosen, ("value",)), "values"),
                (_trace_table(rows, chosen, ("grad",)), "gradients")]

    if not fit:
        return len(names), tables(len(names))
    count = min(len(names), WIDTH // 4)  # a column takes at least 4 characters
    while count > 1 and max(_width(text) for text, _ in tables(count)) > WIDTH:
        count -= 1
    return count, tables(count)


def _trace_table(rows: Sequence[TraceRow | None], names: list[str], parts: tuple[str, ...]) -> str:
    # with data: the metrics of each step, after its loss
    metrics = next((list(row.metrics) for row in rows if row is not None and row.metrics), [])
    header = ["iteration", "output", *metrics] + [f"grad {name}" if part == "grad" else name
                                                  for part in parts for name in names]
    cells = []
    for row in rows:
        if row is None:
            cells.append(["..."] + [""] * (len(header) - 1))
            continue
        line = [str(row.iteration), number(row.output), *(number((row.metrics or {}).get(n)) for n in metrics)]
        for part in parts:
            line += [number(row.inputs[n]) if part == "value" else number((row.grads or {}).get(n))
                     for n in names]
        cells.append(line)
    return table(header, cells, right=tuple(range(len(header))))


def _width(text: str) -> int:
    return max(map(len, text.splitlines()))


def _distinct(a: float | None, b: float | None) -> tuple[str, str]:
    """Two numbers for people, with all their digits when 10 would hide the difference."""
    short_a, short_b = number(a), number(b)
    if short_a == short_b and a != b and a is not None and b is not None:
        return repr(a), repr(b)
    return short_a, short_b


# --------------------------------------------------------------------------
# --gradcheck

_STATUS = {"ok": "ok", "mismatch": "MISMATCH", "kink": "not differentiable here",
           "undefined": "no estimate"}


def render_gradcheck(source: str, check: GradcheckResult) -> str:
    verdict = "PASS" if check.passed else "FAIL"
    flagged = sum(1 for entry in check.inputs if entry.status in ("kink", "undefined"))
    counts = counted(len(check.inputs), "input") + (f", {flagged} not checkable here" if flagged else "")
    lines = [printable(f"gradcheck {verdict} {source} ({counts}; eps {check.eps:g}, "
                       f"atol {check.atol:g}, rtol {check.rtol:g})")]
    rows = []
    for entry in check.inputs:
        analytic, numerical = number(entry.analytic), number(entry.numerical)
        status = _STATUS[entry.status]
        if entry.status == "kink" and "within eps" in entry.note:
            status = "kink within eps"
        rows.append([entry.name, analytic, numerical, number(entry.difference), number(entry.allowed), status])
    lines.append(table(["input", "analytic", "numerical", "difference", "allowed", "status"], rows,
                       right=(1, 2, 3, 4)))
    for entry in check.inputs:
        if entry.note:
            lines.append(f"  {entry.name}: {entry.note}" + (" (not counted as a failure)"
                                                            if entry.status != "mismatch" else ""))
    return "\n".join(lines) + "\n"

