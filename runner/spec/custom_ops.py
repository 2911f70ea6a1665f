"""Custom ops: a spec's own ops, with derivatives written by hand (`ops:`).

    ops:
      softplus:
        args: [a]
        forward: "log(1 + exp(a))"
        grads: ["sigmoid(a)"]        # d/da; one expression per arg, over the args and `out`

Each becomes an `Op` row like those of the op table (ops.py), so that
everything after validation - the wiring checks, the compiler, the engine,
the compiled fast path, gradient checks, every presenter - treats it as it
treats a built-in op:

- `forward` and `derivative` run the expressions' lowered steps with the
  built-in ops' own functions (a small tape: nothing the user wrote is ever
  evaluated by Python);
- `code` composes the built-in ops' templates along the same steps, so the
  compiled path and the page's JavaScript compute the same numbers, bit for
  bit;
- `branch` and `kink` combine those of the piecewise ops inside `forward`, so
  gradient checks tell a kink from a wrong derivative.

Backprop uses the written `grads`, never a derivative of `forward`: a wrong
derivative gives wrong gradients, and `--gradcheck` reports the op and the
input. Expressions follow the formula grammar (formulas.py); they see the
op's args, `out` (its value, in grads only), numbers, the built-in ops and
other custom ops (ops that call each other in a cycle are an error).
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Iterable, NamedTuple, Optional

from ..errors import Problem
from ..limits import Limits
from ..loading.document import Document
from ..ops import OPS, Op
from . import rules
from .formulas import DOT, FormulaError, Generated, lower_expression, parse
from .messages import format_path, suggest

OUT = "out"  # the op's own value, as its grads expressions call it
# A composed template longer than this is not worth compiling (square(square(...))
# doubles its argument's text at each level); the op's functions are used instead.
MAX_TEMPLATE_LENGTH = 4000
# How many table-op steps one use of a custom op may run, counting the steps of
# the custom ops it calls: ops that each call the one before twice would
# otherwise double it at each level (2^64 steps for 64 of them).
MAX_OP_STEPS = 100_000
# Custom ops calling custom ops run as nested Python calls (three frames a
# level): deeper than this, whatever --max-depth says, Python's stack would end.
MAX_CALL_DEPTH = 100

Path = tuple


class CustomOps(NamedTuple):
    ops: dict[str, Op]  # every custom op by name (one with errors is a placeholder, never run)
    problems: list[Problem]


def custom_op_names(data: Any) -> dict[str, int]:
    """The custom ops a spec's raw data declares, with their number of args
    (-1 when not known): validation accepts these names where an op goes."""
    ops = data.get("ops") if isinstance(data, dict) else None
    if not isinstance(ops, dict):
        return {}
    return {name: len(definition["args"]) if isinstance(definition, dict) and
            isinstance(definition.get("args"), list) else -1
            for name, definition in ops.items() if isinstance(name, str)}


def build_custom_ops(document: Document, limits: Limits = Limits()) -> CustomOps:
    """The Op rows of the spec's `ops:`, and the problems found (with their
    positions); structure and types are left to pydantic."""
    return _Builder(document, limits).run()


class _Definition(NamedTuple):
    name: str
    args: list[str]
    texts: list[tuple[Path, str]]  # forward, then each grad: (path, text)
    calls: list[tuple[str, Path, int]]  # custom ops it calls: name, path of the text, offset
    ok: bool  # no problem found in it


class _Builder:
    def __init__(self, document: Document, limits: Limits):
        self.document, self.limits = document, limits
        data = document.data if isinstance(document.data, dict) else {}
        self.definitions = data.get("ops") if isinstance(data.get("ops"), dict) else {}
        modules = data.get("modules")
        self.modules = set(modules) if isinstance(modules, dict) else set()
        self.problems: list[Problem] = []
        self.ops: dict[str, Op] = {}
        self.depth: dict[str, int] = {}  # op -> how deep its calls of custom ops nest (1: none)
        self.steps: dict[str, int] = {}  # op -> table-op steps one run of its forward takes
        # What expressions may call: the table's ops, and every custom op - a
        # placeholder with its arity until it is built, so expressions can be
        # checked before. (A custom op may not replace a table op: that is
        # reported, and the table's stays.)
        self.calls = {**OPS, **{name: _placeholder(name, definition) for name, definition
                                in self.definitions.items() if isinstance(name, str) and name not in OPS}}

    def report(self, path: Path, message: str, *, key: bool = False, offset: Optional[int] = None) -> None:
        line, column = (self.document.position_in(path, offset) if offset is not None
                        else self.document.position(path, key=key))
        self.problems.append(Problem(line, column, message, format_path(path)))

    def run(self) -> CustomOps:
        parsed: dict[str, _Definition] = {}
        for name, definition in self.definitions.items():
            if not isinstance(name, str) or not rules.NAME.match(name):
                continue  # pydantic reports the key
            found = self._definition(name, definition)
            if found is not None:
                parsed[name] = found
        broken = set(self._in_cycles(parsed)) | {name for name, found in parsed.items() if not found.ok}
        self.broken = broken | (self.calls.keys() - parsed.keys())  # these stay placeholders
        self.ops.update((name, op) for name, op in self.calls.items() if op.custom)
        for name in _call_order(parsed):  # each after the ops it calls
            if name not in self.broken:
                self.ops[name] = self.calls[name] = self._build(parsed[name])
        return CustomOps(self.ops, self.problems)

    # ---- one definition ------------------------------------------------------

    def _definition(self, name: str, definition: Any) -> Optional[_Definition]:
        """The definition's texts parsed, after the checks of its name and
        args; None when something is wrong (reported, or left to pydantic)."""
        where = ("ops", name)
        ok = self._name_ok(name, where)
        if not isinstance(definition, dict):
            return None
        args, forward, grads = definition.get("args"), definition.get("forward"), definition.get("grads")
        if not (isinstance(args, list) and args and all(isinstance(arg, str) and rules.NAME.match(arg)
                                                        for arg in args)):
            self._syntax_only(where, forward, grads)
            return None  # pydantic reports the args
        ok = self._args_ok(args, where) and ok
        if not isinstance(grads, list) or not isinstance(forward, str) or \
                not all(isinstance(text, str) for text in grads):
            return None
        ok = self._grads_count_ok(name, args, grads, where) and ok
        texts = [(where + ("forward",), forward)] + [(where + ("grads", index), text)
                                                     for index, text in enumerate(grads)]
        calls, valid = self._expressions(name, args, texts)
        return _Definition(name, args, texts, calls, ok and valid)

    def _grads_count_ok(self, name: str, args: list[str], grads: list, where: Path) -> bool:
        if len(grads) == len(args):
            return True
        plural = "" if len(args) == 1 else "s"
        self.report(where + ("grads",), f"{name} has {len(args)} arg{plural} ({', '.join(args)}), so grads "
                                        f"needs {len(args)} expression{plural} "
                                        f"({', '.join(f'd/d{arg}' for arg in args)}), got {len(grads)}")
        return False

    def _expressions(self, name: str, args: list[str], texts: list[tuple[Path, str]]) -> tuple[list, bool]:
        """Every expression checked against the grammar and the names it may
        use: the custom ops they call (name, path, offset), and whether all are valid."""
        calls: list[tuple[str, Path, int]] = []
        ok = True
        for index, (path, text) in enumerate(texts):
            try:
                tree = parse(text, self.limits.max_depth)
                lower_expression(text, resolve=_resolver(name, args, allow_out=index > 0, calls=self.calls),
                                 calls=self.calls, max_depth=self.limits.max_depth)
            except FormulaError as err:
                self.report(path, err.message, offset=err.offset)
                ok = False
                continue
            calls.extend((callee, path, offset) for callee, offset in _calls(tree, text)
                         if callee in self.definitions)
        return calls, ok

    def _syntax_only(self, where: Path, forward: Any, grads: Any) -> None:
        """Without valid args, what can be checked of the expressions: their syntax."""
        texts = [(where + ("forward",), forward)] + [(where + ("grads", index), text) for index, text in
                                                     enumerate(grads if isinstance(grads, list) else [])]
        for path, text in texts:
            if isinstance(text, str):
                try:
                    parse(text, self.limits.max_depth)
                except FormulaError as err:
                    self.report(path, err.message, offset=err.offset)

    def _name_ok(self, name: str, where: Path) -> bool:
        if rules.is_reserved(name):
            message = f"'{name}' is reserved; choose another name"
        elif name in OPS:
            message = (f"'{name}' is a built-in op; a custom op cannot replace it: give yours a name of "
                       f"its own (for example my_{name})")
        elif name == DOT:
            message = "'dot' is the dot product of formulas; give the op another name"
        elif name in self.modules:
            message = f"'{name}' is also a module; an op and a module cannot share a name"
        else:
            return True
        self.report(where, message, key=True)
        return False

    def _args_ok(self, args: list[str], where: Path) -> bool:
        ok = True
        for index, arg in enumerate(args):
            path = where + ("args", index)
            if rules.is_reserved(arg):
                self.report(path, f"'{arg}' is reserved; choose another name")
            elif arg == OUT:
                self.report(path, "'out' is the op's own value in its grads; give the arg another name")
            elif arg in args[:index]:
                self.report(path, f"'{arg}' is listed twice; every arg needs its own name")
            else:
                continue
            ok = False
        return ok

    # ---- ops that call each other ---------------------------------------------

    def _in_cycles(self, parsed: dict[str, _Definition]) -> list[str]:
        """The ops on a cycle of calls, each cycle reported once at the call
        that closes it."""
        state: dict[str, int] = {}
        caught: list[str] = []
        for root in parsed:
            if root in state:
                continue
            path = [root]
            stack = [iter(parsed[root].calls)]
            state[root] = 1
            while stack:
                for callee, text_path, offset in stack[-1]:
                    if callee not in parsed:
                        continue
                    if state.get(callee) == 1:
                        loop = path[path.index(callee):] + [callee]
                        self.report(text_path, "custom ops call each other in a cycle: " + " -> ".join(loop) +
                                    "; an op cannot use itself" if len(loop) > 2 else
                                    f"{callee} calls itself; an op cannot use itself", offset=offset)
                        caught.extend(name for name in loop[:-1] if name not in caught)
                    elif callee not in state:
                        state[callee] = 1
                        path.append(callee)
                        stack.append(iter(parsed[callee].calls))
                        break
                else:
                    stack.pop()
                    state[path.pop()] = 2
        return caught

    # ---- building the row ------------------------------------------------------

    def _build(self, definition: _Definition) -> Op:
        name, args, calls = definition.name, definition.args, self.calls
        programs: list[_Program] = []
        for index, (path, text) in enumerate(definition.texts):
            resolve = _resolver(name, args, allow_out=index > 0, calls=calls)
            try:
                steps, result = lower_expression(text, resolve=resolve, calls=calls,
                                                 max_depth=self.limits.max_depth)
            except FormulaError as err:
                self.report(path, err.message, offset=err.offset)
                continue
            programs.append(_Program(args, [(calls[step.op], step) for step in steps], result))
        calls_broken = any(op.name in self.broken for program in programs for op in program.ops if op.custom)
        if len(programs) != len(definition.texts) or calls_broken or not self._affordable(name, programs):
            self.broken.add(name)  # its callers are not built either (its problem is reported)
            return _placeholder(name, {"args": args})
        return _op_row(name, args, definition.texts[0][1], [text for _, text in definition.texts[1:]],
                       programs[0], programs[1:])


    def _affordable(self, name: str, programs: list[_Program]) -> bool:
        """Whether running the op stays within bounds: calls nested at most
        --max-depth deep (each level is a few Python frames), and at most
        MAX_OP_STEPS steps of table ops per run."""
        called = [op.name for program in programs for op in program.ops]
        depth = 1 + max((self.depth.get(callee, 0) for callee in called), default=0)
        steps = [sum(self.steps.get(op.name, 1) for op in program.ops) for program in programs]
        self.depth[name], self.steps[name] = depth, steps[0]
        limit = min(self.limits.max_depth, MAX_CALL_DEPTH)
        if depth > limit:
            self.report(("ops", name), f"op {name} calls ops that call ops ... {depth} deep; at most {limit} "
                                       + ("(--max-depth)" if limit == self.limits.max_depth else
                                          "(Python's stack allows no more)"), key=True)
            return False
        if max(steps) > MAX_OP_STEPS:
            self.report(("ops", name), f"one use of op {name} runs {max(steps):,} steps of table ops (with the "
                                       f"steps of the ops it calls, and of those they call); at most "
                                       f"{MAX_OP_STEPS:,}", key=True)
            return False
        return True


def _resolver(name: str, args: list[str], *, allow_out: bool, calls: dict) -> Callable[[str, int], str]:
    def resolve(word: str, offset: int) -> str:
        if word in args or (word == OUT and allow_out):
            return word
        if word == OUT:
            raise FormulaError("'out' is the op's own value: only its grads may use it", offset)
        if word in calls:
            raise FormulaError(f"'{word}' is an op: call it on its inputs, as in {word}({args[0]})", offset)
        seen = args + [OUT] if allow_out else args
        raise FormulaError(f"unknown name '{word}' in op {name}" + suggest(word, seen) +
                           f"; its expressions see its args ({', '.join(args)})" +
                           (", out (its value)" if allow_out else "") + ", numbers and ops", offset)
    return resolve


def _calls(tree: ast.expr, text: str) -> Iterable[tuple[str, int]]:
    """The ops an expression calls by name, with their character offsets."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            column = node.col_offset
            offset = column if text.isascii() else len(text.encode("utf-8")[:column].decode("utf-8", "replace"))
            yield node.func.id, offset


def _call_order(parsed: dict[str, _Definition]) -> list[str]:
    """Every op after the custom ops it calls (there are no cycles left)."""
    order: list[str] = []
    done: set[str] = set()
    for root in parsed:
        stack = [root]
        while stack:
            name = stack[-1]
            pending = [callee for callee, _, _ in parsed[name].calls
                       if callee in parsed and callee not in done and callee not in stack]
            if pending:
                stack.append(pending[0])
                continue
            stack.pop()
            if name not in done:
                done.add(name)
                order.append(name)
    return order


# --------------------------------------------------------------------------
# Running an expression: its lowered steps, with the ops' own functions

class _Program:
    """An expression as a small tape over local slots: the args, then `out`,
    then its number constants, then one slot per step."""

    __slots__ = ("ops", "steps", "constants", "result")

    def __init__(self, args: list[str], steps: list[tuple[Op, Generated]], result: Any):
        slots = {arg: index for index, arg in enumerate(args)}
        slots[OUT] = len(args)
        self.constants: list[float] = []
        for _, step in steps:
            for ref in step.refs:
                if not isinstance(ref, str) and ref not in slots:
                    slots[ref] = len(args) + 1 + len(self.constants)
                    self.constants.append(ref)
        if not isinstance(result, str) and result not in slots:
            slots[result] = len(args) + 1 + len(self.constants)
            self.constants.append(result)
        first = len(args) + 1 + len(self.constants)
        for index, (_, step) in enumerate(steps):
            slots[step.name] = first + index
        self.ops = [op for op, _ in steps]
        self.steps = [(op.forward, tuple(slots[ref] for ref in step.refs)) for op, step in steps]
        self.result = slots[result]

    def values(self, args: tuple, out: float = 0.0) -> list[float]:
        """Every slot's value: the args, out, the constants, then each step's."""
        values = [*args, out, *self.constants]
        append = values.append
        for forward, ins in self.steps:
            # one or two inputs are the common cases, faster spelled out (as in the engine)
            if len(ins) == 1:
                append(forward(values[ins[0]]))
            elif len(ins) == 2:
                append(forward(values[ins[0]], values[ins[1]]))
            else:
                append(forward(*[values[slot] for slot in ins]))
        return values

    def run(self, args: tuple, out: float = 0.0) -> float:
        """The expression's value."""
        return self.values(args, out)[self.result]

    def template(self, arity: int) -> Optional[str]:
        """The expression composed of the built-in ops' templates, over `{0}`,
        `{1}`, ... and `{out}`; None when an op has none or it grows too long."""
        texts = [f"{{{index}}}" for index in range(arity)] + ["{out}"] + [f"({value!r})" for value in self.constants]
        for op, (_, ins) in zip(self.ops, self.steps):
            code = op.code(len(ins))
            if code is None:
                return None
            text = "(" + code[0].format(*[texts[slot] for slot in ins]) + ")"
            if len(text) > MAX_TEMPLATE_LENGTH:
                return None
            texts.append(text)
        return texts[self.result]


def _op_row(name: str, args: list[str], forward_text: str, grad_texts: list[str], forward: _Program,
            grads: list[_Program]) -> Op:
    arity, run_forward = len(args), forward.run
    forward_template = forward.template(arity)
    grad_templates = [grad.template(arity) for grad in grads]
    templates = None if forward_template is None or None in grad_templates else \
        (forward_template, tuple(grad_templates))
    piecewise = [(index, op) for index, op in enumerate(forward.ops) if op.branch is not None]

    def step_args(values: list[float], index: int) -> tuple:
        return tuple(values[slot] for slot in forward.steps[index][1])

    def branch(inputs: tuple) -> tuple:
        values = forward.values(inputs)
        return tuple(op.branch(step_args(values, index)) for index, op in piecewise)

    def kink(inputs: tuple) -> str:
        values = forward.values(inputs)
        for index, op in piecewise:
            where = op.kink(step_args(values, index)) if op.kink is not None else ""
            if where:
                return f"at a kink of its {op.name} ({where})"
        return ""

    return Op(name, arity, arity,
              lambda *inputs: run_forward(inputs),
              _derivative([grad.run for grad in grads]),
              forward_text, "; ".join(f"d/d{arg} = {text}" for arg, text in zip(args, grad_texts)),
              lambda count: templates if count == arity else None,
              note="a custom op of this spec: its gradients are the grads written there",
              branch=branch if piecewise else None, kink=kink if piecewise else None,
              arg_names=tuple(args), custom=True)


def _derivative(runs: list[Callable[[tuple, float], float]]) -> Callable[[tuple, float], tuple]:
    """The op's derivative(args, out): one written expression per arg."""
    if len(runs) == 1:
        (only,) = runs
        return lambda inputs, out: (only(inputs, out),)
    return lambda inputs, out: tuple([run(inputs, out) for run in runs])


def _placeholder(name: str, definition: Any) -> Op:
    """A custom op with errors: its name is known (so uses of it are not
    reported as unknown), it is never run (the spec does not validate)."""
    args = definition.get("args") if isinstance(definition, dict) else None
    count = len(args) if isinstance(args, list) and args else None

    def broken(*_: Any) -> Any:
        raise AssertionError(f"custom op {name} has errors and must not run")

    return Op(name, count or 0, count, broken, broken, "", "", lambda _: None,
              arg_names=tuple(str(arg) for arg in args or ()), custom=True)
