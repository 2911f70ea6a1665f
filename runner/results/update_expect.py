"""--update-expect: write a spec's actual results into its `expect` block.

The file is edited as text, never re-dumped, so comments, key order, quoting
and layout survive byte for byte. Positions come from PyYAML's composer (the
start and end marks of the scalar nodes to replace) or, for JSON, from the
loader's position map. Like a snapshot tool's update, only entries that fail
their check are rewritten: an entry that passes (say a published, rounded
number with its own tolerance) is left as the author wrote it. A spec without
an expect block (or with one that lists nothing) gets one: the output, the
gradient of every input and, when it optimizes, the optimized output and
trainable inputs, plus a tolerance line.

Before anything is written the new text is loaded and checked again; the file
is then replaced atomically (a temporary file in the same directory, then
`os.replace`), keeping its permissions, so a failed update leaves it intact.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import CircuitRunError, Problem, SpecError
from ..limits import Limits
from ..loading.document import load_text
from ..loading.source import STDIN, decode
from .run import RunResult, run_spec
from ..spec.validate import validate

BOM = "\ufeff"


class UpdateError(CircuitRunError):
    """The file could not be updated (not a spec error: an I/O or editing problem)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(message)

    def lines(self) -> list[str]:
        return [f"{self.path}: error: {self.message}"]


@dataclass(frozen=True)
class Change:
    path: str  # "grads.x", "optimized.inputs.y"
    old: Optional[float | str]  # None for an entry that did not exist; a word for optimized.stop
    new: float | str
    allowed: float = 0.0  # the entry's tolerance at `new`: how far a rounded number may be from it


@dataclass
class UpdateResult:
    source: str
    checked: int  # entries compared before the update
    changes: list[Change] = field(default_factory=list)
    created: bool = False  # the expect block (or its entries) was written from scratch

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def as_dict(self) -> dict:
        return {"spec": self.source, "updated": self.changed, "created": self.created,
                "checked": self.checked,
                "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in self.changes]}


def format_number(value: float | str) -> str:
    """The shortest text that reads back as exactly `value`, in YAML 1.2 and 1.1 alike
    (a word, such as a stop reason, as it is)."""
    if isinstance(value, str):
        return value
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:  # 1e-05 is a string to YAML 1.1 readers; 1.0e-05 is not
        text = f"{mantissa}.0e{exponent}"
    return text


def rounded(value: float | str, allowed: float) -> float | str:
    """The shortest decimal within half of `allowed` of `value` (7.3 for
    7.300000000000001 under a tolerance of 5e-4): it passes its check with
    room to spare for the last digits of another platform's arithmetic."""
    if isinstance(value, (str, int)) or not allowed > 0 or not math.isfinite(value):
        return value  # a word, a count (steps), or nothing to spare
    for digits in range(1, 18):
        candidate = float(f"{value:.{digits}g}")
        if abs(candidate - value) <= allowed / 2:
            return candidate
    return value


def _rounding(changes: list[Change]) -> list[Change]:
    return [Change(c.path, c.old, rounded(c.new, c.allowed), c.allowed) for c in changes]


# --------------------------------------------------------------------------
# The whole update of one file

def update_file(path: str, limits: Limits = Limits(), *, round_numbers: bool = False) -> UpdateResult:
    """Run the spec at `path` and rewrite its failing or missing expectations;
    with `round_numbers`, each as the shortest decimal its tolerance allows.

    Raises `SpecError` / `NumericalError` like a normal run (the file is not
    touched then) and `UpdateError` when the file cannot be edited or written.
    """
    if path == STDIN:
        raise UpdateError(path, "standard input cannot be updated; pass the spec's file name")
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise UpdateError(path, "not a regular file (a pipe or a device cannot be updated in place); "
                                        "pass the spec's file name")
            raw = handle.read(limits.max_bytes + 1)
    except OSError as err:
        raise SpecError(path, [Problem(0, 0, f"cannot read the file: {err.strerror or err}")]) from None
    text = decode(raw, path, limits)  # checks size and encoding; drops a BOM
    fmt = "json" if path.lower().endswith(".json") else "yaml"
    spec = validate(load_text(text, path, limits, fmt=fmt))
    result = run_spec(spec, check=True)
    assert result.check is not None
    run = result.optimization
    if run is not None and run.error is not None:  # what a run refuses, an update does not record
        raise run.error
    outcome = UpdateResult(path, len(result.check.comparisons))
    has_entries = bool(result.check.comparisons) or (spec.expect is not None and spec.expect.optimized)
    if has_entries:
        outcome.changes = [Change(c.path, c.expected, c.actual, _allowed_at(c, c.actual))
                           for c in result.check.failures if c.actual is not None] + _stop_change(spec, result)
        if round_numbers:
            outcome.changes = _rounding(outcome.changes)
        if not outcome.changes:
            return outcome
        new_text = (_edit_yaml if fmt == "yaml" else _edit_json)(text, path, outcome.changes)
    else:
        entries = fresh_entries(result)
        outcome.created = True
        outcome.changes = [Change(p, None, v, 0.0 if isinstance(v, str) else
                                  _TOLERANCE["abs"] + _TOLERANCE["rel"] * abs(v))
                           for p, v in _flatten(entries)]
        if round_numbers:
            outcome.changes = _rounding(outcome.changes)
            entries = _unflatten([(c.path, c.new) for c in outcome.changes])
        new_text = (_create_yaml if fmt == "yaml" else _create_json)(text, path, entries)
    _verify(new_text, path, fmt, limits, spec)
    bom = BOM if raw.startswith(BOM.encode("utf-8")) else ""
    write_atomically(path, (bom + new_text).encode("utf-8"))
    return outcome


def fresh_entries(result: RunResult) -> dict[str, Any]:
    """What a new expect block holds, in the order it is written."""
    circuit = result.circuit
    data = result.spec.netlist.data
    columns = set(data.columns) if data is not None else set()  # their gradients are per row
    entries: dict[str, Any] = {"output": result.output,
                               "grads": {name: result.grads[name] for name in circuit.input_names
                                         if name not in columns}}
    if result.metrics:
        entries["metrics"] = dict(result.metrics)
    run = result.optimization
    if run is not None:
        entries["optimized"] = {"output": run.final_output,
                                "inputs": {name: run.final_inputs[name] for name in circuit.trainable}}
        if run.final_metrics:
            entries["optimized"]["metrics"] = dict(run.final_metrics)
        if run.stop in ("tolerance", "stalled"):  # ended early: how far it went is a result worth pinning
            entries["optimized"].update(steps=run.steps, stop=run.stop)
    return entries


def _parts(path: str) -> list:
    """`values.cost[1]` -> ["values", "cost", 1]: keys, and a row's index."""
    parts: list = []
    for part in path.split("."):
        name, bracket, index = part.partition("[")
        parts.append(name)
        if bracket:
            parts.append(int(index.rstrip("]")))
    return parts


_TOLERANCE = {"abs": 1e-9, "rel": 1e-9}  # the format's defaults, written out to be edited


def _allowed_at(comparison, actual: float) -> float:
    """The entry's tolerance once `actual` is its expected value."""
    return comparison.abs_tol + comparison.rel_tol * abs(actual)


def _stop_change(spec, result: RunResult) -> list[Change]:
    """optimized.stop, when the run ended for another reason than the one pinned."""
    expected = spec.expect.optimized.stop if spec.expect is not None and spec.expect.optimized else None
    run = result.optimization
    if expected is None or run is None or run.stop == expected:
        return []
    return [Change("optimized.stop", expected, run.stop)]


def _unflatten(flat: list[tuple[str, Any]]) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for path, value in flat:
        *parents, last = path.split(".")
        node = entries
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return entries


def _flatten(entries: dict, prefix: str = "") -> list[tuple[str, float]]:
    flat = []
    for key, value in entries.items():
        if isinstance(value, dict):
            flat += _flatten(value, f"{prefix}{key}.")
        else:
            flat.append((prefix + key, value))
    return flat


def _verify(new_text: str, path: str, fmt: str, limits: Limits, before) -> None:
    """The edited text must load, describe the same circuit and pass its checks."""
    try:
        spec = validate(load_text(new_text, path, limits, fmt=fmt))
        check = run_spec(spec, check=True).check
    except CircuitRunError as err:
        raise UpdateError(path, f"the edited file would not load ({err}); the file was left unchanged") from None
    if spec.model_dump(exclude={"expect"}) != before.model_dump(exclude={"expect"}) or not check.passed:
        raise UpdateError(path, "the edited file did not check out as intended; the file was left unchanged "
                          "(please report this)")


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file's content all at once, keeping its permissions.

    A symlink is followed, so the link stays a link. On any failure the
    temporary file is removed and the original is left as it was.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target) or "."
    temporary = None
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
        # the temporary name must fit in NAME_MAX (255 bytes) even when the spec's name nearly fills it
        prefix = "." + os.path.basename(target).encode()[:_TEMPORARY_PREFIX].decode(errors="ignore") + "."
        fd, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as err:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
        raise UpdateError(path, f"cannot write the file: {err.strerror or err}; it was left unchanged") from None


_TEMPORARY_PREFIX = 100  # bytes of the file's name kept in its temporary file's name


# --------------------------------------------------------------------------
# YAML: edits at node positions

def _compose(text: str, path: str):
    import yaml

    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)  # pure Python: marks count characters
    except yaml.YAMLError as err:  # pragma: no cover - the text was loaded once already
        raise UpdateError(path, f"cannot re-read the YAML: {err}") from None


def _child(node, key):
    from yaml.nodes import MappingNode, SequenceNode

    if isinstance(key, int):  # a row of a per-row expectation
        return node.value[key] if isinstance(node, SequenceNode) and key < len(node.value) else None
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _edit_yaml(text: str, path: str, changes: list[Change]) -> str:
    from yaml.nodes import ScalarNode

    root = _compose(text, path)
    block = _child(root, "expect")
    edits: list[tuple[int, int, str]] = []
    for change in changes:
        node = block
        for part in _parts(change.path):
            node = _child(node, part)
        if node is not None and not isinstance(node, ScalarNode):
            node = _child(node, "value")  # {value: N, abs: ..., rel: ...}
        if not isinstance(node, ScalarNode):  # pragma: no cover - validation guarantees the entry
            raise UpdateError(path, f"cannot find expect.{change.path} in the file")
        start, end = node.start_mark.index, node.end_mark.index
        if not block.start_mark.index <= start < end <= block.end_mark.index or \
                any(s < end and start < e for s, e, _ in edits):
            raise SpecError(path, [Problem(node.start_mark.line + 1, node.start_mark.column + 1,
                                           f"cannot update expect.{change.path}: its value is an alias "
                                           "of another node; write the number out")])
        edits.append((start, end, format_number(change.new)))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _flow(entries: dict) -> str:
    items = ", ".join(f"{key}: {_flow(value) if isinstance(value, dict) else format_number(value)}"
                      for key, value in entries.items())
    return "{" + items + "}"


def _block_lines(entries: dict, indent: str, step: str, width: int = 88) -> list[str]:
    lines = []
    for key, value in entries.items():
        if not isinstance(value, dict):
            lines.append(f"{indent}{key}: {format_number(value)}")
            continue
        flow = f"{indent}{key}: {_flow(value)}"
        nested = any(isinstance(v, dict) for v in value.values())
        if len(flow) <= width and not nested:
            lines.append(flow)
        else:
            lines.append(f"{indent}{key}:")
            lines += _block_lines(value, indent + step, step, width)
    return lines


def _indent_step(root) -> int:
    """How far this file indents a nested block mapping (2 if nothing shows it)."""
    from yaml.nodes import MappingNode

    for _, value in root.value:
        if isinstance(value, MappingNode) and value.value and not value.flow_style:
            step = value.value[0][0].start_mark.column - root.value[0][0].start_mark.column
            if step > 0:
                return step
    return 2


def _create_yaml(text: str, path: str, entries: dict) -> str:
    from yaml.nodes import MappingNode, ScalarNode

    root = _compose(text, path)
    newline = "\r\n" if "\r\n" in text else "\n"
    block = dict(entries, tolerance=_TOLERANCE)
    existing = _child(root, "expect")
    if isinstance(existing, ScalarNode):  # `expect:` with no value: fill it in, in the file's style
        return _fill_empty(text, root, existing, block, newline)
    if isinstance(existing, MappingNode):  # a block that lists only a tolerance: add entries
        return _insert_into(text, existing, entries, newline, _indent_step(root))
    if root.flow_style:  # the whole spec is one {...}
        close = root.end_mark.index - 1
        return text[:close].rstrip() + f", expect: {_flow(block)}" + text[close:]
    column = root.value[0][0].start_mark.column
    step = " " * _indent_step(root)
    lines = [" " * column + "expect:"] + _block_lines(block, " " * column + step, step)
    insert = newline.join(lines) + newline
    at = _document_end(text, root)
    if at == len(text) and text and not text.endswith("\n"):
        insert = newline + insert
    return text[:at] + insert + text[at:]


def _fill_empty(text: str, root, empty, block: dict, newline: str) -> str:
    """`expect:` (or `expect: null`) filled in: as a {...} in a one-line
    spec, else as a block under the key, indented like the file; a comment
    after the key stays on its line."""
    start, end = empty.start_mark.index, empty.end_mark.index
    if root.flow_style:
        lead = " " if start == end else ""
        return text[:start] + lead + _flow(block) + text[end:]
    key = next(k for k, v in root.value if v is empty)
    step = " " * _indent_step(root)
    lines = _block_lines(block, " " * key.start_mark.column + step, step)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    comment = text[end:line_end].rstrip()  # "   # fill me", or ""
    head = text[:start].rstrip(" \t") + comment
    return head + newline + newline.join(lines) + newline + text[line_end + 1:]


def _insert_into(text: str, mapping, entries: dict, newline: str, step: int) -> str:
    if mapping.flow_style:
        open_brace = mapping.start_mark.index + 1
        rest = text[open_brace:mapping.end_mark.index - 1].strip()
        separator = ", " if rest else ""
        return text[:open_brace] + _flow(entries)[1:-1] + separator + text[open_brace:]
    first_key = mapping.value[0][0].start_mark
    line_start = first_key.index - first_key.column
    indent = " " * first_key.column
    lines = _block_lines(entries, indent, " " * step)
    return text[:line_start] + newline.join(lines) + newline + text[line_start:]


_DOCUMENT_MARKER = re.compile(r"^(?:\.\.\.|---)(?:[ \t].*)?$", re.M)


def _document_end(text: str, root) -> int:
    """Where a new top-level key goes: before a closing `...`/`---`, else at the end."""
    last_value = root.value[-1][1]
    marker = _DOCUMENT_MARKER.search(text, last_value.start_mark.index)
    return marker.start() if marker else len(text)


# --------------------------------------------------------------------------
# JSON: the same edits, with positions from the loader

_JSON_NUMBER = re.compile(r"[^\s{}\[\],:\"]+")
_JSON_STRING = re.compile(r'"[a-z]*"')  # a stop reason


def _offset(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column - 1


def _edit_json(text: str, path: str, changes: list[Change]) -> str:
    document = load_text(text, path, fmt="json")
    edits = []
    for change in changes:
        where: tuple = ("expect",) + tuple(_parts(change.path))
        entry = document.data
        for part in where:
            entry = entry[part]
        if isinstance(entry, dict):
            where += ("value",)
        start = _offset(text, *document.position(where))
        token = (_JSON_STRING if isinstance(change.new, str) else _JSON_NUMBER).match(text, start)
        if token is None:  # pragma: no cover - the entry was validated as a number
            raise UpdateError(path, f"cannot find expect.{change.path} in the file")
        edits.append((start, token.end(), json.dumps(change.new)))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _create_json(text: str, path: str, entries: dict) -> str:
    """Add the block as the last key of the top-level object, indented like the file."""
    document = load_text(text, path, fmt="json")
    block = dict(entries, tolerance=_TOLERANCE)
    newline = "\r\n" if "\r\n" in text else "\n"
    close = text.rstrip().rindex("}")
    indent_match = re.search(r"\n([ \t]+)\"", text)
    if "expect" in document.data:  # "expect": null or {"tolerance": ...}
        return _replace_json_expect(text, document, block if document.data["expect"] is None else entries)
    if indent_match is None:  # one line
        return text[:close].rstrip() + ", \"expect\": " + json.dumps(block) + text[close:]
    unit = indent_match.group(1)
    body = json.dumps(block, indent=len(unit) if unit.strip(" ") == "" else "\t")
    body = body.replace("\n", newline + unit)
    before = text[:close].rstrip()
    return before + "," + newline + unit + "\"expect\": " + body + newline + text[close:].lstrip(" \t")


def _replace_json_expect(text: str, document, entries: dict) -> str:
    start = _offset(text, *document.position(("expect",)))
    if document.data["expect"] is None:
        return text[:start] + json.dumps(entries) + text[start + len("null"):]
    inner = json.dumps(entries)[1:-1]
    separator = ", " if document.data["expect"] else ""
    return text[:start + 1] + inner + separator + text[start + 1:]


def describe_number(value: Optional[float | str]) -> str:
    if isinstance(value, str):
        return value
    return "(new)" if value is None else format_number(value) if math.isfinite(value) else repr(value)
