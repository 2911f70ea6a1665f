"""Stage 2: loaded data -> a validated `Spec` (and its `Netlist`), or every
problem of the file at once.

A spec in the plain forms that passes every check is accepted by the fast
path (fast_path.py) without the passes below. Anything else gets two
passes, both always run so a user sees all problems at once:
1. the pydantic models (models.py) check structure and types, each value by
   its rule (rules.py); their errors become positioned problems (messages.py);
2. the wiring checks (wiring.py) on the raw data: names distinct, references
   exist, arities, no cycles, the output is a gate, expectations name real nodes.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Iterable

from ..errors import Problem, SpecError
from ..gc_pause import paused_gc
from ..limits import Limits
from ..loading.document import Document, load_file, load_text
from ..loading.source import STDIN_NAME
from .fast_path import quick_spec
from .models import Spec
from .netlist import Netlist
from .rules import describe
from ..words import counted


def load_spec(path: str, limits: Limits = Limits()) -> Spec:
    """Read, parse and validate a spec file (`-` for standard input)."""
    with paused_gc():
        return validate(load_file(path, limits), limits)


def load_spec_text(text: str, source: str = "<string>", *, fmt: str | None = None,
                   limits: Limits = Limits()) -> Spec:
    """Parse and validate spec text; `fmt` is 'yaml' (default) or 'json'."""
    return validate(load_text(text, source, limits, fmt=fmt or "yaml"), limits)


def validate(document: Document, limits: Limits = Limits()) -> Spec:
    """The Spec of a loaded document, its netlist worked out; raises
    `SpecError` with every problem found."""
    _check_top_level(document, limits)
    found = None if document.problems else quick_spec(document.data)
    if found is None:
        spec, netlist = _validate_fully(document, limits)
    else:
        spec, order, reads = found
        netlist = Netlist(spec.inputs, spec.gates, order, spec.output_name, reads)
    if spec.name is None:
        stem = "stdin" if document.source == STDIN_NAME else PurePath(document.source).stem
        spec = spec.model_copy(update={"name": stem})
    spec._source = document.source
    spec._netlist = netlist
    if spec.data is not None:
        spec = _with_data(spec, document, limits)
    return spec


def _with_data(spec: Spec, document: Document, limits: Limits) -> Spec:
    """Load the spec's rows (inline, or from its CSV file), check the labels
    of sign metrics, and make each column an input of the netlist; with a
    loss, the goal defaults to minimize."""
    from .data import load_rows

    netlist = spec.netlist
    netlist.data = load_rows(spec, document, limits)
    netlist.inputs = {**netlist.inputs, **_column_inputs(netlist.data)}
    optimize = spec.optimize
    if spec.loss is not None and optimize is not None and "goal" not in optimize.model_fields_set:
        spec = spec.model_copy(update={"optimize": optimize.model_copy(update={"goal": "minimize"})})
        spec._source, spec._netlist = document.source, netlist
    return spec


def _column_inputs(data) -> dict:
    from .models import Input

    first = data.rows[0]
    return {column: Input.model_construct(value=first[index], trainable=False, min=None, max=None)
            for index, column in enumerate(data.columns)}


def _check_top_level(document: Document, limits: Limits) -> None:
    """A spec is a mapping, and not one with more nodes than the limit
    (refused before validation spends time and memory on them)."""
    source, data = document.source, document.data
    if data is None and document.position(()) == (0, 0):
        raise SpecError(source, [Problem(0, 0, "the file is empty; a spec is a mapping with at least "
                                               "'inputs' and 'gates'")])
    if not isinstance(data, dict):
        raise SpecError(source, [Problem(*document.position(()), "the top level must be a mapping with "
                                         "'inputs' and 'gates', not " + describe(data))])
    count = 0
    for key in ("inputs", "gates"):
        section = data.get(key)
        if isinstance(section, dict):
            count += len(section)
            if count > limits.max_nodes:
                line, column = document.position((key,), key=True)
                raise SpecError(source, [Problem(line, column, f"the spec has more than {counted(limits.max_nodes, 'node')} "
                                                 "(inputs and gates); raise --max-nodes if it is real")])


def _validate_fully(document: Document, limits: Limits = Limits()) -> tuple[Spec, Netlist]:
    """pydantic's checks and the wiring checks (on the circuit with its
    formulas and instances expanded), reporting every problem; returns the
    Spec and its netlist."""
    from pydantic import ValidationError

    from .custom_ops import custom_op_names
    from .expand import View, expand, needs_expanding
    from .messages import from_pydantic
    from .wiring import PlainView, wiring_problems

    problems: list[Problem] = list(document.problems)
    expansion = expand(document, limits) if needs_expanding(document.data) else None
    view = View(document, expansion) if expansion is not None else PlainView(document)
    if expansion is not None:
        problems.extend(expansion.problems)
    # The wiring checks first: their working memory is freed before the Spec
    # exists, which lowers the peak on big circuits (problems are sorted by
    # position later, so the order here does not show).
    wiring, order = wiring_problems(view)
    spec = None
    try:
        spec = Spec.model_validate(document.data, context={"ops": custom_op_names(document.data)})
    except ValidationError as err:
        # the loader's finding about a node (a number too large) says more
        # than validation's about the same node
        found = {(problem.line, problem.column) for problem in document.problems}
        problems.extend(problem for problem in from_pydantic(err, document)
                        if (problem.line, problem.column) not in found)
    problems.extend(wiring)
    if problems:
        problems = _explain_misindented(problems, document)
        raise SpecError(document.source, _unique(problems))
    assert spec is not None and order is not None
    if expansion is None:
        return spec, Netlist(spec.inputs, spec.gates, order, spec.output_name)
    return spec, _expanded_netlist(spec, expansion, order)


def _expanded_netlist(spec: Spec, expansion, order: list[str]) -> Netlist:
    """The netlist of a spec with formulas or instances: every gate as a
    Gate, the modules' parameters as Inputs."""
    from .models import Gate, Input, construct_many

    data = expansion.data
    inputs = dict(spec.inputs)
    inputs.update(construct_many(Input, {name: row for name, row in data["inputs"].items()
                                         if name not in spec.inputs}))
    return Netlist(inputs, construct_many(Gate, data["gates"]), order, expansion.output,
                   groups=expansion.groups, ops=expansion.ops)


def _explain_misindented(problems: list[Problem], document: Document) -> list[Problem]:
    """A gate key written at the level of gate names gets one message that
    says so, in place of the checks that took it for a gate."""
    from .messages import misindented_gate_keys

    explained = misindented_gate_keys(document)
    if not explained:
        return problems
    paths = {problem.path for problem in explained}
    kept = [problem for problem in problems
            if not any(problem.path == path or problem.path.startswith(path + ".") or
                       problem.path.startswith(path + "[") for path in paths)]
    return kept + explained


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen, result = set(), []
    for problem in problems:
        key = (problem.line, problem.column, problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result
