"""The rules of the wiring, checked on the loaded data: names, references,
arity, cycles, the output, and the names that expectations use.

They run on the raw data (not on the pydantic models), so that they report
every wiring problem of a file even when its types are wrong elsewhere, and
each problem at the position of what caused it.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import Problem
from ..loading.document import Document
from ..ops import OPS
from . import rules
from .messages import Hints, format_path
from .rules import NODE, is_reserved


def find_cycle_free_order(dependencies: Mapping[str, list[str]]) -> list[str] | None:
    """Order the keys of `dependencies` so each comes after those it reads,
    or None when they form a cycle.

    `dependencies[g]` lists what gate `g` reads (names that are not keys, such
    as inputs, are ignored). An iterative depth-first search, so a chain of
    any length sorts without recursion; a file already in dependency order
    keeps its order.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in dependencies:
        if root in state:
            continue
        stack = [(root, iter(dependencies[root]))]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            for dep in pending:
                seen = state.get(dep)
                if seen is None:
                    if dep in dependencies:
                        state[dep] = 1
                        stack.append((dep, iter(dependencies[dep])))
                        break
                elif seen == 1:
                    return None
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return order


def _mapping(data: dict, key: str) -> dict:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


class PlainView:
    """A document as the wiring checks see it (expand.View is the same for a
    spec whose formulas and instances were expanded)."""

    def __init__(self, document: Document):
        self.document, self.data = document, document.data
        self.ops = OPS  # what a gate's op may name

    def where(self, path: tuple, *, key: bool = False) -> tuple[int, int, str]:
        """(line, column, path as shown in messages)."""
        line, column = self.document.position(path, key=key)
        return line, column, format_path(path)


def wiring_problems(view: Any) -> tuple[list[Problem], list[str] | None]:
    """Problems of the wiring, and the gates in dependency order (None when
    the wiring has a cycle). `view` is a PlainView or an expand.View."""
    data = view.data
    problems: list[Problem] = []
    hints = Hints()

    def report(path: tuple, message: str, *, key: bool = False) -> None:
        line, column, shown = view.where(path, key=key)
        problems.append(Problem(line, column, message, shown))

    names: dict[str, set[str]] = {}
    for section in ("inputs", "gates"):
        names[section] = set()
        for name in _mapping(data, section):
            if isinstance(name, str) and NODE.match(name):
                if is_reserved(name):
                    report((section, name), f"'{name}' is reserved; choose another name", key=True)
                else:
                    names[section].add(name)
    columns = _data_columns(data, names, report)
    if data.get("inputs") == {} and not columns:
        report(("inputs",), "must not be empty; list at least one input")
    inputs = names["inputs"] | columns  # a column is an input with one value per row
    gates = {name: gate for name, gate in _mapping(data, "gates").items() if name in names["gates"]}
    nodes = inputs | set(gates)

    for name in gates:
        if name in inputs:
            report(("gates", name), f"'{name}' is both an input and a gate; every node needs its own name",
                   key=True)

    # This loop meets every gate of a possibly huge circuit: set operations
    # and comprehensions keep it at C speed; the slow reporting paths run
    # only when something is wrong.
    gate_only = set(gates) - inputs  # a clash of names is reported above
    reads: dict[str, list[str]] = {}
    for name, gate in gates.items():
        refs = gate.get("in") if gate.__class__ is dict else None
        if refs.__class__ is not list:
            continue
        named = [ref for ref in refs if ref.__class__ is str]
        reads[name] = [ref for ref in named if ref in gate_only]
        if not nodes.issuperset(named):
            for index, ref in enumerate(refs):
                if ref.__class__ is str and ref not in nodes and NODE.match(ref):
                    report(("gates", name, "in", index), f"'{ref}' is reserved; it cannot name a node"
                           if is_reserved(ref) else f"unknown node '{ref}'" + hints(ref, nodes))
        op_name = gate.get("op")
        op = view.ops.get(op_name) if op_name.__class__ is str else None
        if op is not None and not op.accepts(len(refs)):
            report(("gates", name, "in"), f"{op.name} takes {op.arity_text} input"
                   f"{'' if op.arity_text == '1' else 's'}, got {len(refs)}")

    order = find_cycle_free_order(reads)
    if order is None:
        problems.extend(_cycle_problems(_with_positions(reads, gates), list(gates), view))

    output = data.get("output")
    if isinstance(output, str) and NODE.match(output) and is_reserved(output):
        report(("output",), f"'{output}' is reserved; it cannot name a node")
    elif isinstance(output, str) and NODE.match(output):
        if output in inputs and output not in gates:
            report(("output",), f"'{output}' is an input; the output must be a gate "
                                "(add a gate that computes from it)")
        elif output not in gates:
            report(("output",), f"unknown gate '{output}'" + hints(output, gates))

    problems.extend(_expect_problems(data, inputs, nodes, view, hints))
    _learning_problems(data, names["inputs"], columns, nodes, report, hints)
    return problems, order


def _data_columns(data: dict, names: dict[str, set[str]], report: Any) -> set[str]:
    """The data's column names (each an input with a value per row); a
    column named like an input or a gate, or twice, is reported."""
    table = data.get("data")
    columns = table.get("columns") if isinstance(table, dict) else None
    if not isinstance(columns, list):
        return set()
    found: set[str] = set()
    for index, column in enumerate(columns):
        if not (isinstance(column, str) and NODE.match(column)) or is_reserved(column):
            continue
        for section, kind in (("inputs", "an input"), ("gates", "a gate")):
            if column in names[section]:
                report(("data", "columns", index), f"column '{column}' is also {kind}; every node needs "
                                                   "its own name (rename the column or the " +
                       kind.split()[1] + ")")
        if column in found:
            report(("data", "columns", index), f"column '{column}' is listed twice")
        found.add(column)
    rows = table.get("rows")
    if isinstance(rows, list):
        for index, row in enumerate(rows):
            message = rules.row_length_problem(row, len(columns))
            if message is not None:
                report(("data", "rows", index), message)
    return found - names["inputs"] - names["gates"]


def _learning_problems(data: dict, inputs: set[str], columns: set[str], nodes: set[str], report: Any,
                       hints: Hints) -> None:
    """`loss` and `metrics` need data and name real nodes; L2 penalizes inputs;
    expected metrics are metrics the spec computes."""
    has_data = isinstance(data.get("data"), dict)
    loss, metrics = data.get("loss"), data.get("metrics")
    for section in ("loss", "metrics"):
        if isinstance(data.get(section), dict) and not has_data:
            report((section,), f"'{section}' needs data: add a 'data' block with columns and rows",
                   key=True)
    optimize = data.get("optimize")
    if isinstance(optimize, dict) and optimize.get("batch_size") is not None and not has_data:
        report(("optimize", "batch_size"), "'batch_size' needs data: minibatches are drawn from its rows",
               key=True)

    def check(path: tuple, name: Any, allowed: set[str], kind: str) -> None:
        if isinstance(name, str) and NODE.match(name) and name not in allowed:
            report(path, f"unknown {kind} '{name}'" + hints(name, allowed))

    if isinstance(loss, dict) and isinstance(optimize, dict) and optimize.get("goal") == "maximize":
        report(("optimize", "goal"), rules.LOSS_IS_MINIMIZED)
    if isinstance(loss, dict):
        check(("loss", "of"), loss.get("of"), nodes, "node")
        l2 = loss.get("l2")
        params = l2.get("params") if isinstance(l2, dict) else None
        for index, name in enumerate(params if isinstance(params, list) else []):
            check(("loss", "l2", "params", index), name, inputs, "input")
    for metric, entry in (metrics.items() if isinstance(metrics, dict) else ()):
        if isinstance(entry, dict):
            check(("metrics", metric, "score"), entry.get("score"), nodes, "node")
            check(("metrics", metric, "label"), entry.get("label"), columns, "column")
    expect = data.get("expect")
    for path in (("metrics",), ("optimized", "metrics")):
        mapping: Any = expect
        for part in path:
            mapping = mapping.get(part) if isinstance(mapping, dict) else None
        for name in (mapping if isinstance(mapping, dict) else ()):
            if name in rules.METRICS and not (isinstance(metrics, dict) and isinstance(metrics.get(name), dict)):
                report(("expect",) + path + (name,), f"expects metric '{name}', but the spec does not "
                       f"compute it; add 'metrics: {{{name}: {{score: ..., label: ...}}}}'", key=True)



def _with_positions(reads: dict[str, list[str]], gates: dict) -> dict[str, list[tuple[str, int]]]:
    """Each gate's gate inputs with their index in its `in` list."""
    result = {}
    for name, targets in reads.items():
        wanted = set(targets)
        result[name] = [(ref, index) for index, ref in enumerate(gates[name]["in"])
                        if ref.__class__ is str and ref in wanted]
    return result


def _cycle_problems(reads: dict[str, list[tuple[str, int]]], order: list[str], view: Any) -> list[Problem]:
    """One problem per strongly connected component that is a cycle (Tarjan,
    iterative), showing one concrete loop through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in order:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = reads.get(node, [])
            if child < len(successors):
                work.append((node, child + 1))
                succ = successors[child][0]
                if succ not in index:
                    work.append((succ, 0))
                elif succ in on_stack:
                    low[node] = min(low[node], index[succ])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    problems = []
    position_of = {name: i for i, name in enumerate(order)}
    for component in components:
        members = set(component)
        start = min(component, key=position_of.__getitem__)
        self_loop = next((i for ref, i in reads.get(start, []) if ref == start), None)
        if len(component) == 1 and self_loop is None:
            continue
        if self_loop is not None and len(component) == 1:
            path = ("gates", start, "in", self_loop)
            message = f"gate '{start}' reads its own output; a circuit must not loop back"
        else:
            loop = _loop_through(start, reads, members)
            first_index = next(i for ref, i in reads[start] if ref == loop[1])
            path = ("gates", start, "in", first_index)
            shown = loop if len(loop) <= 12 else loop[:10] + [f"... ({len(loop) - 11} more)", start]
            message = ("gates form a cycle: " + " -> ".join(shown) +
                       " (each reads the next); a circuit must not loop back")
        line, column, shown = view.where(path)
        problems.append(Problem(line, column, message, shown))
    return problems


def _loop_through(start: str, reads: dict[str, list[tuple[str, int]]], members: set[str]) -> list[str]:
    """Shortest path start -> ... -> start inside one component (BFS)."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for ref, _ in reads.get(node, []):
                if ref not in members:
                    continue
                if ref == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start] + list(reversed(path[:-1])) + [start] if node != start else [start, start]
                if ref not in parent:
                    parent[ref] = node
                    following.append(ref)
        frontier = following
    return [start, start]  # unreachable for a real component


def _expect_problems(data: dict, inputs: set[str], nodes: set[str], view: Any,
                     hints: Hints) -> list[Problem]:
    expect = data.get("expect")
    if not isinstance(expect, dict):
        return []
    problems = []

    def check_names(section: tuple, allowed: set[str], kind: str) -> None:
        mapping: Any = expect
        for part in section:
            mapping = mapping.get(part) if isinstance(mapping, dict) else None
        if not isinstance(mapping, dict):
            return
        for name in mapping:
            if isinstance(name, str) and NODE.match(name) and name not in allowed:
                path = ("expect",) + section + (name,)
                line, column, _ = view.where(path, key=True)
                message = (f"'{name}' is reserved; it cannot name a node" if is_reserved(name) else
                           f"unknown {kind} '{name}'" + hints(name, allowed))
                problems.append(Problem(line, column, message, format_path(path)))

    check_names(("values",), nodes, "node")
    check_names(("grads",), nodes, "node")
    check_names(("optimized", "inputs"), inputs, "input")
    check_names(("optimized", "grads"), inputs, "input")
    if "optimized" in expect and not isinstance(data.get("optimize"), dict):
        line, column, _ = view.where(("expect", "optimized"), key=True)
        problems.append(Problem(line, column, rules.OPTIMIZED_WITHOUT_OPTIMIZE, "expect.optimized"))
    return problems


def label_problems(columns: Any, rows: list[list[float]], labels: set[str],
                   where: Any) -> list[Problem]:
    """Sign metrics need labels -1 and +1: each other label is a problem at
    `where(row, column)` -> (line, column, path) (a YAML row or a CSV cell)."""
    problems = []
    for column in sorted(labels & set(columns), key=list(columns).index):
        index = list(columns).index(column)
        for row_number, row in enumerate(rows):
            message = rules.label_problem(row[index], column)
            if message is not None:
                line, col, path = where(row_number, index)
                problems.append(Problem(line, col, message, path))
    return problems
