"""pydantic's validation errors, rewritten for people and placed in the file.

pydantic reports where in the data an error is (`loc`) and what kind it is;
this module turns that into `FILE:LINE:COL: error: PATH: MESSAGE`, with a
"did you mean" for near misses and the allowed keys or choices. It also holds
the helpers every spec message uses (`suggest`, `format_path`, `Hints`).
"""

from __future__ import annotations

import re
from typing import Any, Collection, Iterable, Optional, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError

from ..errors import Problem
from ..loading.document import Document
from ..ops import OP_NAMES, OPS
from .models import GATE_FORMS, Spec
from .rules import NAME_RULE, SYNONYMS, describe


def suggest(word: Any, candidates: Iterable[str]) -> str:
    """' (did you mean 'z'?)' when a close match exists, else ''."""
    if not isinstance(word, str):
        return ""
    import difflib  # only on the error path

    candidates = [c for c in candidates if isinstance(c, str)]  # YAML keys may be true, 1, null
    matches = [c for c in candidates if c.lower() == word.lower()]  # SGD for sgd, Mul for mul
    if not matches and SYNONYMS.get(word.lower()) in candidates:  # backprop for analytic
        matches = [SYNONYMS[word.lower()]]
    if not matches:
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



class Hints:
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
        # the nodes formulas and modules made (f.1, h.w0) only when a dotted name was asked for
        candidates = [candidate for candidate in candidates if "." in name or "." not in candidate]
        hint = suggest(name, candidates)
        if hint or not candidates:
            return hint
        import heapq  # here: only an error needs it

        shown = ", ".join(heapq.nsmallest(8, candidates)) + (", ..." if len(candidates) > 8 else "")
        return f"; known: {shown}"



# --------------------------------------------------------------------------
# pydantic errors -> problems

_MISSING = object()


def _data_path(loc: tuple, data: Any) -> tuple:
    """pydantic's loc (strings) -> the path of real keys in the loaded data."""
    path: list[Any] = []
    node = data
    for part in loc:
        if part in UNION_TAGS and not (isinstance(node, dict) and part in node):
            continue  # which form of a gate (or binding) pydantic tried: not a key
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
        member = _tagged_member(annotation, part)
        if member is not None:  # loc names which form of a union it tried
            annotation = member
            continue
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


UNION_TAGS = frozenset(GATE_FORMS) | {"name", "number", "list", "one", "rows"}


def _tagged_member(annotation: Any, tag: Any) -> Any:
    """The member of a tagged union annotated with Tag(tag), or None."""
    if tag not in UNION_TAGS:
        return None
    while hasattr(annotation, "__metadata__"):
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is not Union:
        return None
    for member in get_args(annotation):
        if any(isinstance(meta, Tag) and meta.tag == tag for meta in getattr(member, "__metadata__", ())):
            return member
    return None


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


def from_pydantic(err: ValidationError, document: Document) -> list[Problem]:
    """Every error of `err` as a problem at its node's position."""
    problems = []
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
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
            custom = document.data.get("ops") if isinstance(document.data, dict) else None
            known = list(dict.fromkeys([*OP_NAMES, *(name for name in custom if isinstance(name, str))])) \
                if isinstance(custom, dict) else OP_NAMES
            hint = suggest(error.get("input"), known)
            message = f"unknown op {shown}" + (hint or "; ops: " + ", ".join(known))
        elif kind == "literal_error":
            choices = [str(c) for c in _literal_choices(loc)]
            if loc == ("version",):
                message = f"unsupported version {got}; the only spec format version is 1"
            else:
                message = f"expected one of {', '.join(choices)}, got {got}" + \
                    suggest(error.get("input"), choices)
        elif kind == "string_pattern_mismatch":
            message = f"'{error['input']}' is not a valid name; " + NAME_RULE + \
                _formula_hint(path, error["input"], document.data)
        elif kind == "string_type" and (about_key or _is_reference(path) or loc == ("output",)):
            message = f"expected a name, got {got}; " + NAME_RULE
        elif kind in ("float_type", "finite_number") and _is_reference(path):
            message = f"expected a node name or a number, got {got}"
            if isinstance(error.get("input"), float):
                message = f"must be a finite number, not {got}"
            elif _is_huge(error.get("input")):
                message = "the number is too large to represent (the limit is about 1.8e308)"
        elif kind == "too_short" and loc[:1] == ("ops",) and loc[-1:] == ("args",):
            message = "must not be empty; list the op's inputs, such as [a] or [a, b]"
        elif kind == "too_short" and isinstance(error.get("input"), dict):
            message = f"must not be empty; list at least one {'input' if loc == ('inputs',) else 'gate'}"
        elif kind in _EXPECTED:
            message = f"expected {_expected_here(loc, kind)}, got {got}"
            if loc == ("expect", "tolerance") and isinstance(error.get("input"), (int, float)) and \
                    not isinstance(error.get("input"), bool):
                shown = error["input"]
                message += f"; write {{abs: {shown}}} for an absolute tolerance (or {{rel: {shown}}})"
        else:
            message = error["msg"]
        line, column = position
        problems.append(Problem(line, column, message, format_path(shown_path, document.data)))
    return problems



_KEY_ERRORS = frozenset({"string_type", "string_pattern_mismatch"})


_EXPRESSION = re.compile(r"[-+*/() ]|^\d")


def _formula_hint(path: tuple, text: Any, data: Any) -> str:
    """An expression among a gate's inputs (`in: [x, -y]`, `in: [2*x]`):
    the gate written as a formula does what was meant."""
    if not _is_reference(path) or not isinstance(text, str) or not _EXPRESSION.search(text):
        return ""
    gate = data["gates"][path[1]]
    op = OPS.get(gate.get("op")) if isinstance(gate.get("op"), str) else None
    if op is None or not isinstance(gate.get("in"), list):
        return ""
    refs = [str(ref) for ref in gate["in"]]
    if op.symbol and len(refs) > 1:
        formula = f" {op.symbol} ".join(ref if not _EXPRESSION.search(ref) else f"({ref})" for ref in refs)
    else:
        formula = f"{op.name}({', '.join(refs)})"
    return f"; for an expression, write the gate as a formula: {path[1]}: \"{formula}\""


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
# A gate's keys indented at the level of the gate names

# A gate's key whose value could not be a gate of that name: a list of inputs,
# an op's name, a count (a formula named `expr` could be a real gate: not judged)
_NOT_A_GATE = {
    "in": lambda value, modules: isinstance(value, list),
    "op": lambda value, modules: value in OP_NAMES,
    "activation": lambda value, modules: value in OP_NAMES,
    "repeat": lambda value, modules: isinstance(value, int),
    "use": lambda value, modules: isinstance(value, str) and value in modules,
}
GATE_KEYS = tuple(_NOT_A_GATE)


def misindented_gate_keys(document: Document) -> list[Problem]:
    """`in:` (or `op:` ...) written one level too shallow under a gate is read
    as a gate named `in`; say that, instead of what such a gate is missing.

    Only a value that cannot be a gate counts (a list of inputs, an op's
    name): a mapping or a formula named `in` is a (strangely named) gate
    and gets the usual checks."""
    data = document.data
    problems = []
    sections = [("gates",)] + [("modules", name, "gates") for name, module in _mapping(data.get("modules")).items()
                               if isinstance(module, dict)]
    for section in sections:
        gates = _mapping(_at(data, section))
        names = list(gates)
        modules = _mapping(data.get("modules"))
        for index, name in enumerate(names):
            if name not in _NOT_A_GATE or not _NOT_A_GATE[name](gates[name], modules):
                continue
            above = next((n for n in reversed(names[:index]) if n not in GATE_KEYS), None)
            where = f"under '{above}'" if above is not None else "under its gate's name"
            line, column = document.position(section + (name,), key=True)
            problems.append(Problem(line, column,
                                    f"'{name}' is indented like a gate's name, so it is read as a gate named "
                                    f"'{name}'; a gate is a mapping {{op, in}}: indent '{name}' one level "
                                    f"deeper, {where}", format_path(section + (name,), data)))
    return problems


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data
