"""Stage 2b: loaded data -> a validated `Spec`, or every problem of the file.

A spec in the plain forms that passes every check is accepted by the quick
path (quickcheck.py) without the passes below. Anything else gets two
passes, both always run so a user sees all problems at once:
1. the pydantic models check structure and types; their errors are rewritten
   for people and given the position of the node they are about;
2. graph checks on the raw data: names distinct, references exist, arities,
   no cycles, the output is a gate, expectations name real nodes.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Collection, Iterable, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..errors import Problem, SpecError
from ..loading.loader import STDIN_NAME, Document, Limits, describe, load_file, load_text, paused_gc
from .models import RESERVED_NAMES, Spec, _NAME
from ..core.compiler import find_cycle_free_order
from ..ops import OP_NAMES, OPS
from .fast_path import quick_spec


def load_spec(path: str, limits: Limits = Limits()) -> Spec:
    """Read, parse and validate a spec file (`-` for standard input)."""
    with paused_gc():
        return validate(load_file(path, limits))


def load_spec_text(text: str, source: str = "<string>", *, fmt: str | None = None,
                   limits: Limits = Limits()) -> Spec:
    """Parse and validate spec text; `fmt` is 'yaml' (default) or 'json'."""
    return validate(load_text(text, source, limits, fmt=fmt or "yaml"))


def validate(document: Document) -> Spec:
    spec = None if document.problems else quick_spec(document.data)
    if spec is None:
        spec = _validate_fully(document)
    if spec.name is None:
        stem = "stdin" if document.source == STDIN_NAME else PurePath(document.source).stem
        spec = spec.model_copy(update={"name": stem})  # private attributes are copied too
    spec._source = document.source
    return spec


def _validate_fully(document: Document) -> Spec:
    """pydantic's checks and the graph checks, reporting every problem."""
    problems: list[Problem] = list(document.problems)
    # The graph checks first: their working memory is freed before the Spec
    # exists, which lowers the peak on big circuits (problems are sorted by
    # position later, so the order here does not show).
    graph_problems, order = _graph_problems(document)
    spec = None
    try:
        spec = Spec.model_validate(document.data)
    except ValidationError as err:
        # the loader's finding about a node (a number too large) says more
        # than validation's about the same node
        found = {(problem.line, problem.column) for problem in document.problems}
        problems.extend(problem for problem in _from_pydantic(err, document)
                        if (problem.line, problem.column) not in found)
    problems.extend(graph_problems)
    if problems:
        raise SpecError(document.source, _unique(problems))
    assert spec is not None
    spec._gate_order = order
    return spec


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen, result = set(), []
    for problem in problems:
        key = (problem.line, problem.column, problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def suggest(word: Any, candidates: Iterable[str]) -> str:
    """' (did you mean 'z'?)' when a close match exists, else ''."""
    if not isinstance(word, str):
        return ""
    import difflib  # only on the error path

    candidates = list(candidates)
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not matches:  # 'inputs' for 'in', 'iter' for 'iterations'
        matches = [c for c in candidates if len(c) > 1 and (word.startswith(c) or c.startswith(word))]
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def format_path(path: tuple, data: Any = None) -> str:
    """('gates', 'f', 'in', 1) -> 'gates.f.in[1]'. With `data`, an int is
    shown as an index only where the path really goes through a list."""
    text, node = "", data
    for part in path:
        in_list = isinstance(node, list) if data is not None else \
            isinstance(part, int) and not isinstance(part, bool)
        shown = "null" if part is None else str(part).lower() if isinstance(part, bool) else str(part)
        text += f"[{part}]" if in_list and text else ("." if text else "") + shown
        try:
            node = node[part] if node is not None else None
        except (KeyError, IndexError, TypeError):
            node = None
    return text


# --------------------------------------------------------------------------
# pydantic errors -> problems

_MISSING = object()


def _data_path(loc: tuple, data: Any) -> tuple:
    """pydantic's loc (strings) -> the path of real keys in the loaded data."""
    path: list[Any] = []
    node = data
    for part in loc:
        key = part
        if isinstance(node, dict):  # pydantic writes a key True as 1, and some keys as strings
            # (a string equals only itself, so the common case is one lookup, not a scan)
            key = part if isinstance(part, str) and part in node else \
                next((k for k in node if k == part), _MISSING)
            if key is _MISSING:
                key = next((k for k in node if str(k) == str(part)), part)
        path.append(key)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = _MISSING
        if node is not _MISSING and not isinstance(node, (dict, list)) or _is_reference(tuple(path)):
            break  # what follows in loc is a union tag, not a key
    return tuple(path)


def _model_at(loc: tuple) -> Optional[type[BaseModel]]:
    """The pydantic model that validates the mapping at `loc`, if any."""
    annotation: Any = Spec
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for name, f in annotation.model_fields.items()
                          if (f.alias or name) == part), None)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        elif get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Union or str(origin) == "types.UnionType":
            models = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
            others = [a for a in get_args(annotation) if a is not type(None)]
            annotation = models[0] if models else others[0]
        elif hasattr(annotation, "__metadata__"):  # Annotated[...]
            annotation = get_args(annotation)[0]
        else:
            return annotation


def _keys_of(model: Optional[type[BaseModel]]) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


_EXPECTED = {
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "list_type": "a list", "string_type": "a string", "bool_type": "true or false",
}


def _from_pydantic(err: ValidationError, document: Document) -> list[Problem]:
    problems = []
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        # pydantic ends the loc of a dict key's error with "[key]", but a key
        # *named* "[key]" ends other errors' locs the same way. Every dict key
        # of the spec is a Name, whose errors are the name_* kinds.
        # pydantic marks an error about a mapping key by appending "[key]"
        # to loc; only name checks judge keys, so only they count (a key
        # that is literally "[key]" must not fool this).
        about_key = len(loc) >= 2 and loc[-1] == "[key]" and kind in _KEY_ERRORS
        if about_key:
            loc = loc[:-1]
        path = _data_path(loc, document.data)
        got = describe(error.get("input"))
        shown_path, position = path, document.position(path, key=about_key)
        if kind == "missing":
            shown_path = path[:-1]
            position = document.position(shown_path) if shown_path else (0, 0)
            message = f"missing required key '{loc[-1]}'" + _missing_hint(loc)
        elif kind == "extra_forbidden":
            shown_path = path[:-1]
            allowed = _keys_of(_model_at(loc[:-1]))
            position = document.position(path, key=True)
            message = f"unknown key '{loc[-1]}'" + suggest(str(loc[-1]), allowed)
            if loc[-1] == "<<":
                message += " (YAML merge keys are not supported: write the keys out)"
            if allowed:
                message += "; allowed keys: " + ", ".join(allowed)
        elif kind == "literal_error" and loc[-1:] == ("op",):
            shown = f"'{error['input']}'" if isinstance(error.get("input"), str) else got
            hint = suggest(error.get("input"), OP_NAMES)
            message = f"unknown op {shown}" + (hint or "; ops: " + ", ".join(OP_NAMES))
        elif kind == "literal_error":
            choices = [str(c) for c in _literal_choices(loc)]
            if loc == ("version",):
                message = f"unsupported version {got}; the only spec format version is 1"
            else:
                message = f"expected one of {', '.join(choices)}, got {got}" + \
                    suggest(error.get("input"), choices)
        elif kind == "string_pattern_mismatch":
            message = f"'{error['input']}' is not a valid name; " + NAME_RULE
        elif kind == "string_type" and (about_key or _is_reference(path) or loc == ("output",)):
            message = f"expected a name, got {got}; " + NAME_RULE
        elif kind in ("float_type", "finite_number") and _is_reference(path):
            message = f"expected a node name or a number, got {got}"
            if isinstance(error.get("input"), float):
                message = f"must be a finite number, not {got}"
            elif _is_huge(error.get("input")):
                message = "the number is too large to represent (the limit is about 1.8e308)"
        elif kind == "too_short" and isinstance(error.get("input"), dict):
            message = f"must not be empty; list at least one {'input' if loc == ('inputs',) else 'gate'}"
        elif kind in _EXPECTED:
            message = f"expected {_expected_here(loc, kind)}, got {got}"
        else:
            message = error["msg"]
        line, column = position
        problems.append(Problem(line, column, message, format_path(shown_path, document.data)))
    return problems


_KEY_ERRORS = frozenset({"string_type", "string_pattern_mismatch"})
NAME_RULE = "use letters, digits and '_', not starting with a digit"


def _is_reference(path: tuple) -> bool:
    return len(path) == 4 and path[0] == "gates" and path[2] == "in"


def _is_huge(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2 ** 1024


def _literal_choices(loc: tuple) -> list[Any]:
    model = _model_at(loc[:-1])
    if model is None:
        return []
    field = next((f for name, f in model.model_fields.items() if (f.alias or name) == loc[-1]), None)
    return list(get_args(_unwrap(field.annotation))) if field else []


def _expected_here(loc: tuple, kind: str) -> str:
    if len(loc) == 2 and loc[0] == "inputs":
        return "a number or a mapping such as {value: 1.5, trainable: false}"
    if loc[-1:] == ("in",):
        return "a list of inputs such as [x, y]"
    if len(loc) == 2 and loc[0] == "gates":
        return "a mapping such as {op: add, in: [x, y]}"
    if len(loc) >= 2 and loc[0] == "expect" and kind in ("model_type", "dict_type") and \
            (loc[-2] in ("values", "grads", "inputs") or loc[-1] == "output"):
        return "a number or a mapping such as {value: 1.5, abs: 1e-6}"
    return _EXPECTED[kind]


def _missing_hint(loc: tuple) -> str:
    if loc == ("inputs",):
        return "; add an 'inputs' mapping, for example 'inputs: {x: 1, y: 2}'"
    if loc == ("gates",):
        return "; add a 'gates' mapping, for example 'gates: {f: {op: mul, in: [x, y]}}'"
    if loc[-1:] == ("op",):
        return "; for example 'op: add'"
    if loc[-1:] == ("in",):
        return "; list the gate's inputs, for example 'in: [x, y]'"
    return ""


# --------------------------------------------------------------------------
# Graph checks on the raw data

def _is_name(value: Any) -> bool:
    return isinstance(value, str) and _NAME.match(value) is not None and not _is_reserved(value)


def _is_reserved(name: str) -> bool:
    return len(name) in (4, 5) and name.lower() in RESERVED_NAMES


def _mapping(data: dict, key: str) -> dict:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _graph_problems(document: Document) -> tuple[list[Problem], list[str] | None]:
    """Problems of the wiring, and the gates in dependency order (None when
    the wiring has a cycle)."""
    data = document.data
    problems: list[Problem] = []
    hints = _Hints()

    def report(path: tuple, message: str, *, key: bool = False) -> None:
        line, column = document.position(path, key=key)
        problems.append(Problem(line, column, message, format_path(path)))

    names: dict[str, set[str]] = {}
    for section in ("inputs", "gates"):
        names[section] = set()
        for name in _mapping(data, section):
            if isinstance(name, str) and _NAME.match(name):
                if _is_reserved(name):
                    report((section, name), f"'{name}' is reserved; choose another name", key=True)
                else:
                    names[section].add(name)
    inputs = names["inputs"]
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
                if ref.__class__ is str and ref not in nodes and _NAME.match(ref):
                    report(("gates", name, "in", index), f"'{ref}' is reserved; it cannot name a node"
                           if _is_reserved(ref) else f"unknown node '{ref}'" + hints(ref, nodes))
        op_name = gate.get("op")
        op = OPS.get(op_name) if op_name.__class__ is str else None
        if op is not None and not op.accepts(len(refs)):
            report(("gates", name, "in"), f"{op.name} takes {op.arity_text} input"
                   f"{'' if op.arity_text == '1' else 's'}, got {len(refs)}")

    order = find_cycle_free_order(reads)
    if order is None:
        problems.extend(_cycle_problems(_with_positions(reads, gates), list(gates), document))

    output = data.get("output")
    if isinstance(output, str) and _NAME.match(output) and _is_reserved(output):
        report(("output",), f"'{output}' is reserved; it cannot name a node")
    elif _is_name(output):
        if output in inputs and output not in gates:
            report(("output",), f"'{output}' is an input; the output must be a gate "
                                "(add a gate that computes from it)")
        elif output not in gates:
            report(("output",), f"unknown gate '{output}'" + hints(output, gates))

    problems.extend(_expect_problems(data, inputs, nodes, document, hints))
    return problems, order


class _Hints:
    """'did you mean' / 'known: ...' for unknown names, within a budget.

    Each hint compares the name with every candidate (difflib), so a
    generated spec with thousands of unknown names among thousands of nodes
    would take hours; once `budget` comparisons are spent, the remaining
    messages go without a hint.
    """

    def __init__(self, budget: int = 100_000):
        self.left = budget

    def __call__(self, name: str, candidates: Collection[str]) -> str:
        if len(candidates) > self.left:
            self.left = 0
            return ""
        self.left -= max(len(candidates), 1)
        candidates = list(candidates)
        hint = suggest(name, candidates)
        if hint or not candidates:
            return hint
        import heapq  # here: only an error needs it

        shown = ", ".join(heapq.nsmallest(8, candidates)) + (", ..." if len(candidates) > 8 else "")
        return f"; known: {shown}"


def _with_positions(reads: dict[str, list[str]], gates: dict) -> dict[str, list[tuple[str, int]]]:
    """Each gate's gate inputs with their index in its `in` list."""
    result = {}
    for name, targets in reads.items():
        wanted = set(targets)
        result[name] = [(ref, index) for index, ref in enumerate(gates[name]["in"])
                        if ref.__class__ is str and ref in wanted]
    return result


def _cycle_problems(reads: dict[str, list[tuple[str, int]]], order: list[str],
                    document: Document) -> list[Problem]:
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
        line, column = document.position(path)
        problems.append(Problem(line, column, message, format_path(path)))
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


def _expect_problems(data: dict, inputs: set[str], nodes: set[str], document: Document,
                     hints: _Hints) -> list[Problem]:
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
            if isinstance(name, str) and _NAME.match(name) and name not in allowed:
                path = ("expect",) + section + (name,)
                line, column = document.position(path, key=True)
                message = (f"'{name}' is reserved; it cannot name a node" if _is_reserved(name) else
                           f"unknown {kind} '{name}'" + hints(name, allowed))
                problems.append(Problem(line, column, message, format_path(path)))

    check_names(("values",), nodes, "node")
    check_names(("grads",), nodes, "node")
    check_names(("optimized", "inputs"), inputs, "input")
    if "optimized" in expect and not isinstance(data.get("optimize"), dict):
        line, column = document.position(("expect", "optimized"), key=True)
        problems.append(Problem(line, column, "expects optimized results, but the spec has no "
                                              "'optimize' block; add one or remove this",
                                "expect.optimized"))
    return problems
