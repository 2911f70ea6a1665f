"""A run as a Graphviz diagram, in the style of the seed and micrograd's `draw_dot`.

`to_dot(result)` is a pure function of a `RunResult`: inputs on the left, the
output on the right, one box per gate with its op, and every wire labelled
with the value it carries and (in red, after the backward pass) the gradient
flowing back along it. A node that feeds several wires splits its gradient
between them (the terms of `explain.walk`); its total is shown in the node.
The same spec gives the same bytes, so diagrams can be committed and diffed.

`write(dot_text, path)` saves `.dot` as text, and `.svg`, `.png` or `.pdf` by
running Graphviz's `dot` program, which is needed only for those.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from ..errors import OutputError
from ..ops import Op
from .explain import walk
from .numbers import number
from ..results.run import RunResult, row_result

VALUE_COLOUR = "#1a5e20"  # dark green, as the values in the seed's diagrams
GRAD_COLOUR = "#c62828"  # red
TRAINABLE_FILL = "#dcedc8"
FIXED_FILL = "#eeeeee"
GATE_FILL = "#e3f2fd"
UNUSED_COLOUR = "#9e9e9e"
FORMATS = ("dot", "svg", "png", "pdf")


def to_dot(result: RunResult, *, gradients: bool = True) -> str:
    """The diagram of a run, at its starting inputs, as Graphviz dot text
    (for a spec with data: at its first row, see `row_result`)."""
    result = row_result(result)
    circuit, spec = result.circuit, result.spec
    values, grads = result.values, result.grads
    output = circuit.output_name
    unused = set(circuit.unused_nodes())
    # the gradient each wire carries back: (gate, input position) -> term
    branch = {(t.gate, t.position): t.product for step in walk(result) for t in step.terms}
    fan_out: dict[str, int] = {}
    for refs in circuit.refs:
        for ref in refs:
            if isinstance(ref, str):
                fan_out[ref] = fan_out.get(ref, 0) + 1

    def grad_line(name: str) -> str:
        total = "total grad" if fan_out.get(name, 0) > 1 else "grad"
        return f"<br/>{_font(GRAD_COLOUR, f'{total} {number(grads[name])}')}" if gradients else ""

    lines = [
        f"// circuit {spec.name}, drawn by circuit-run",
        "digraph circuit {",
        "  rankdir=LR;",
        '  graph [fontname="Helvetica", nodesep=0.4, ranksep=0.7, labelloc=b, labeljust=l,',
        f"         label=<{_legend(result, gradients)}>];",
        '  node [fontname="Helvetica", fontsize=12];',
        # decorate: a line ties each label to its wire, where wires into one gate run close together
        '  edge [fontname="Helvetica", fontsize=11, arrowsize=0.7, decorate=true];',
    ]
    for name in circuit.input_names:
        trainable = name in circuit.trainable
        kind = "trainable input" if trainable else "fixed input"
        if name in unused:
            kind += ", unused"
        style, fill = ("filled", TRAINABLE_FILL) if trainable else ("filled,dashed", FIXED_FILL)
        label = (f"<b>{name}</b><br/><font point-size=\"10\">{kind}</font><br/>"
                 f"{_font(VALUE_COLOUR, number(values[name]))}{grad_line(name)}")
        extra = f', fontcolor="{UNUSED_COLOUR}"' if name in unused else ""
        lines.append(f'  "{name}" [shape=ellipse, style="{style}", fillcolor="{fill}", label=<{label}>{extra}];')

    # a constant per use, beside its gate: one node shared by every `2` of a
    # circuit would pull wires across the whole drawing
    for name, refs in zip(circuit.gate_names, circuit.refs):
        for position, ref in enumerate(refs):
            if not isinstance(ref, str):
                lines.append(f'  {_constant_id(name, position)} [shape=plaintext, fontcolor="#616161", '
                             f'label=<{html.escape(number(ref))}<br/><font point-size="9">constant</font>>];')

    for step, refs in zip(circuit.tape, circuit.refs):
        name, op = circuit.names[step.out], step.op
        attributes = f'shape=box, style="rounded,filled", fillcolor="{GATE_FILL}"'
        note = ""
        if name == output:
            attributes += ", peripheries=2, penwidth=1.5"
            note = '<br/><font point-size="10">output</font>'
        elif name in unused:
            attributes = f'shape=box, style="rounded,dashed", color="{UNUSED_COLOUR}", fontcolor="{UNUSED_COLOUR}"'
            note = '<br/><font point-size="10">unused</font>'
        total = grad_line(name) if fan_out.get(name, 0) > 1 else ""
        if op.custom:  # what the spec's own op computes, on hover in SVG
            attributes += f', tooltip="{_attribute(_custom_op_text(op))}"'
        lines.append(f'  "{name}" [{attributes}, label=<<b>{name}</b> <i>{op.name}</i><br/>'
                     f'{html.escape(_expression(op, refs))}{note}{total}>];')

    for name, refs in zip(circuit.gate_names, circuit.refs):
        for position, ref in enumerate(refs):
            if not isinstance(ref, str):
                lines.append(f'  {_constant_id(name, position)} -> "{name}" '
                             f'[label=<{_font(VALUE_COLOUR, number(ref))}>, style=dashed];')
                continue
            label = _font(VALUE_COLOUR, number(values[ref]))
            if gradients:
                label += "<br/>" + _font(GRAD_COLOUR, number(branch.get((name, position), 0.0)))
            lines.append(f'  "{ref}" -> "{name}" [label=<{label}>];')

    label = _font(VALUE_COLOUR, number(values[output]))
    if gradients:
        label += "<br/>" + _font(GRAD_COLOUR, "1")
    lines += [f'  " output" [shape=doublecircle, style=filled, fillcolor="#fff59d", fixedsize=true, width=0.6, '
              f'label=<<b>{output}</b>>];',
              f'  "{output}" -> " output" [label=<{label}>, penwidth=1.5];',
              *_clusters(circuit),
              "}"]
    return "\n".join(lines) + "\n"


def _clusters(circuit) -> list[str]:
    """A box around the nodes of each module instance (and of each formula
    of more than one step), labelled with what the user wrote."""
    members: dict[str, list[str]] = {}
    for name in circuit.index:
        group = circuit.group_of(name)
        if group is not None:
            members.setdefault(group, []).append(name)
    lines = []
    for group, names in members.items():
        about = circuit.groups[group]
        if about.kind == "formula" and len(names) == 1:
            continue
        if about.kind == "formula":
            title, colour = f"{group} = {about.formula}", "#90a4ae"
        else:
            copies = f" x{about.copies}" if about.copies > 1 else ""
            title, colour = f"{group}: {about.module}{copies}", "#5c6bc0"
        lines.append(f'  subgraph "cluster {group}" {{')
        lines.append(f'    label=<{html.escape(title)}>; labeljust=l; style="rounded,dashed"; color="{colour}";')
        lines.append("    " + " ".join(f'"{name}";' for name in names))
        lines.append("  }")
    return lines


def _custom_op_text(op: Op) -> str:
    return f"{op.name}({', '.join(op.arg_names)}) = {op.formula}; {op.gradient} (a custom op of this spec)"


def _attribute(text: str) -> str:
    """Text inside a double-quoted DOT attribute."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _expression(op: Op, refs: list) -> str:
    """What the gate computes, in its inputs' names: `x + y`, `sigmoid(z)`."""
    names = [ref if isinstance(ref, str) else number(ref) for ref in refs]
    if len(names) > 4:
        return f"{op.name} of {len(names)} inputs"
    if op.symbol:
        return f" {op.symbol} ".join(names)
    return f"{op.name}({', '.join(names)})"


def _constant_id(gate: str, position: int) -> str:
    # a space cannot occur in a node name, so these ids never clash with one
    return f'"constant {gate} {position}"'


def _font(colour: str, text: str) -> str:
    return f'<font color="{colour}">{html.escape(text)}</font>'


def _legend(result: RunResult, gradients: bool) -> str:
    spec = result.spec
    title = f"<b>{html.escape(spec.name or '')}</b>"
    if spec.description:
        title += " — " + html.escape(spec.description.strip())
    key = (f"on each wire: {_font(VALUE_COLOUR, 'value')}"
           + (f" and {_font(GRAD_COLOUR, f'gradient d{result.circuit.output_name}/d(wire)')}" if gradients else "")
           + "; green ellipse: trainable input, grey dashed: fixed input; double box: output")
    return f"{title}<br/>{key}"


def write(dot_text: str, path: str | Path) -> None:
    """Save a diagram; the format comes from the file's extension."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OutputError(str(path), f"cannot tell the diagram format from the extension; "
                          f"use one of {', '.join('.' + f for f in FORMATS)}")
    if fmt == "dot":
        _write_text(path, dot_text)
        return
    program = shutil.which("dot")
    if program is None:
        raise OutputError(str(path), f"writing .{fmt} needs Graphviz's `dot` program, which is not installed "
                          "(install the 'graphviz' package, e.g. `apt-get install graphviz` or "
                          "`brew install graphviz`), or write a .dot file instead")
    try:
        done = subprocess.run([program, f"-T{fmt}", "-o", str(path)], input=dot_text.encode(),
                              capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise OutputError(str(path), f"running Graphviz failed: {err}") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
        raise OutputError(str(path), f"Graphviz could not draw the diagram: {reason}")


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise OutputError(str(path), f"cannot write: {err.strerror or err}") from None
