"""Formulas: a gate written as an expression, lowered to gates of the op table.

A formula is Python's expression syntax, restricted to number literals,
node names, the operators `+ - * / **` (and unary `-`, `+`), parentheses,
calls of ops by name (`exp(a)`, `max(a, b, c)`, `pow(a, b)`, ...), and
`dot(u, v)` over two lists of equal length. It is parsed by Python's `ast`
module and walked here against that list; nothing of it is ever evaluated,
compiled or imported by Python.

Lowering follows evaluation order: every operator and call becomes one gate,
innermost first, left to right. The last one takes the gate's own name; the
ones before it are `NAME.1`, `NAME.2`, ... (a user's names cannot contain a
dot, so these never collide with them). `-3` is the number -3, not a gate.
"""

from __future__ import annotations

import ast
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, Union

from ..ops import OPS, Op
from .rules import NAME_RULE, NODE, is_reserved
from ..words import counted

Ref = Union[str, float]  # a node's name, or a number constant
Value = Union[Ref, list]  # what a name or an expression stands for: one reference, or a list of them

# Python's operators that are ops, by the symbol the op table gives them.
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
OP_OF_SYMBOL = {op.symbol: op for op in OPS.values() if op.symbol}
_NOT_OPERATORS = {
    ast.BitXor: "`^` is not power here (Python reads it as exclusive or); write `**`",
    ast.MatMult: "`@` is not an op; write `*` for a product or dot(u, v) for a dot product",
    ast.FloorDiv: "`//` is not an op; write `/`",
    ast.Mod: "`%` is not an op",
    ast.LShift: "`<<` is not an op", ast.RShift: "`>>` is not an op",
    ast.BitAnd: "`&` is not an op", ast.BitOr: "`|` is not an op",
}
_NOT_ALLOWED = {
    ast.Subscript: "subscripts ('[...]' after a value) are not allowed",
    ast.Compare: "comparisons are not allowed: a circuit has no branches (max, min, relu and abs choose "
                 "between values)",
    ast.IfExp: "'if ... else' is not allowed: a circuit has no branches (max, min, relu and abs choose "
               "between values)",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Dict: "mappings are not allowed", ast.Set: "sets are not allowed",
    ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed", ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "strings are not allowed", ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed", ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed", ast.YieldFrom: "'yield' is not allowed",
}
DOT = "dot"  # the one call that is not an op: lowered to products and a sum


class FormulaError(Exception):
    """A formula that is not allowed or not valid; `offset` is the character
    of the formula text it is about."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message = message
        self.offset = offset


class Generated(NamedTuple):
    """One gate a formula becomes."""

    name: str
    op: str
    refs: list[Ref]
    offsets: list[int]  # where each reference was written in the formula (for messages)
    offset: int  # where the operator or call is


def lower(name: str, text: str, *, resolve: Optional[Callable[[str, int], Value]] = None,
          calls: Mapping[str, Op] = OPS, max_depth: int = 64) -> list[Generated]:
    """The gates of formula `text` for gate `name`, in evaluation order (the
    last one is `name` itself).

    `resolve(name, offset)` says what a name in the formula stands for (a
    node's name, a number, or a list of them); by default every name is a
    node of the circuit, checked later with the rest of the wiring. `calls`
    are the ops a formula may call by name.
    """
    tree = parse(text, max_depth)
    return _Lowering(name, text, resolve or _as_node, calls).run(tree)


def lower_expression(text: str, *, resolve: Callable[[str, int], Value], calls: Mapping[str, Op],
                     max_depth: int = 64) -> tuple[list[Generated], Ref]:
    """The gates of an expression that may also be just a name or a number
    (a custom op's derivative can be `1` or `a`), and what its value is: the
    last gate's name, or that name or number. Gates are named `.1`, `.2`, ...
    (no user name starts with a dot)."""
    lowering = _Lowering("", text, resolve, calls)
    made = lowering._walk(parse(text, max_depth))
    if isinstance(made.value, list):
        raise FormulaError(f"the expression is a list of {counted(len(made.value), 'value')}; it must be one value "
                           "(lists are for dot(u, v))", made.offset)
    names = [f".{index + 1}" for index in range(len(lowering.gates))]
    return lowering.generated(names), names[made.value] if made.gate else made.value


def parse(text: str, max_depth: int = 64) -> ast.expr:
    """The expression tree of a formula, or a FormulaError: Python's syntax,
    then this module's list of what is allowed, then the nesting depth."""
    if not text.strip():
        raise FormulaError("the formula is empty; write an expression such as 'x * y'")
    # A newline in a formula is a space: a folded or literal YAML block may
    # break a long formula over lines. Same length, so offsets stay put.
    flat = text.replace("\r", " ").replace("\n", " ")
    _check_parentheses(flat, max_depth)
    try:
        tree = ast.parse(flat, mode="eval").body
    except SyntaxError as err:
        raise FormulaError(_syntax_message(err, flat), _syntax_offset(err, flat)) from None
    except (RecursionError, MemoryError):
        raise FormulaError("the formula is too long or too deeply nested for Python's parser (a few "
                           "thousand operators in one chain); split it into several gates") from None
    _check_depth(tree, _char_offsets(flat), max_depth)
    return tree


def _check_parentheses(text: str, max_depth: int) -> None:
    """Parentheses nested deeper than the limit, found before Python's parser
    sees them (it gives up at 200 with a message of its own)."""
    depth = 0
    for offset, character in enumerate(text):
        if character in "([":
            depth += 1
            if depth > max_depth:
                raise FormulaError(f"the formula is nested deeper than {counted(max_depth, 'level')}; split it into "
                                   "several gates (or raise --max-depth)", offset)
        elif character in ")]":
            depth -= 1


def _as_node(name: str, offset: int) -> Value:
    return name


def _syntax_message(err: SyntaxError, text: str) -> str:
    reason = (err.msg or "invalid syntax").rstrip(".")
    hint = ""
    if "decimal literal" in reason or "imaginary literal" in reason:
        hint = "; write the product with '*', e.g. 2*x"
    elif "never closed" in reason or "unmatched" in reason or "does not match" in reason:
        hint = "; check the parentheses"
    elif "too many nested parentheses" in reason:
        hint = "; split the formula into several gates"
    return f"the formula is not valid: {reason}{hint}"


def _syntax_offset(err: SyntaxError, text: str) -> int:
    """SyntaxError's 1-based column as a 0-based character offset."""
    if not err.offset:
        return 0
    return max(0, min(err.offset - 1, len(text) - 1))


def _char_offsets(text: str) -> Callable[[int], int]:
    """ast's col_offset counts UTF-8 bytes; messages count characters."""
    if text.isascii():
        return lambda column: column
    encoded = text.encode("utf-8")
    return lambda column: len(encoded[:column].decode("utf-8", "replace"))


def _children(node: ast.AST) -> list[ast.AST]:
    kind = type(node)
    if kind is ast.BinOp:
        return [node.left, node.right]
    if kind is ast.UnaryOp:
        return [node.operand]
    if kind is ast.Call:
        return node.args
    if kind is ast.List:
        return node.elts
    return []


_REMINDER = "; a formula holds node names, numbers, + - * / **, parentheses and ops such as exp(x) or max(a, b)"


def _check_depth(tree: ast.expr, offset: Callable[[int], int], max_depth: int) -> None:
    """Nesting as people count it: parentheses, calls and unary operators
    add a level; the left operand of a chain `a + b + c` does not (it is the
    same level, written out)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise FormulaError(f"the formula is nested deeper than {counted(max_depth, 'level')}; split it into "
                               "several gates (or raise --max-depth)", offset(node.col_offset))
        if isinstance(node, ast.BinOp):
            stack.append((node.left, depth))
            stack.append((node.right, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in _children(node))


class _Gate:
    """A gate being made: its references point at earlier gates by index
    until names are given at the end."""

    __slots__ = ("op", "refs", "offsets", "offset")

    def __init__(self, op: str, refs: list, offsets: list[int], offset: int):
        self.op, self.refs, self.offsets, self.offset = op, refs, offsets, offset


class _Made(NamedTuple):
    """What an expression stands for once lowered: a reference (a name, a
    number, or the index of a gate made here), or a list of them."""

    value: Union[Ref, int, list]
    gate: bool  # value is the index of a gate made here
    offset: int


class _Lowering:
    def __init__(self, name: str, text: str, resolve: Callable[[str, int], Value], calls: Mapping[str, Op]):
        self.name, self.text, self.resolve, self.calls = name, text, resolve, calls
        self.offset = _char_offsets(text)
        self.gates: list[_Gate] = []

    def run(self, tree: ast.expr) -> list[Generated]:
        made = self._walk(tree)
        if not made.gate and isinstance(made.value, str) and made.value in self.calls:
            raise FormulaError(f"'{made.value}' is an op: call it on its inputs, as in {made.value}(x), or "
                               f"write the gate as {{op: {made.value}, in: [...]}}", made.offset)
        if not made.gate:
            what = "a list" if isinstance(made.value, list) else \
                f"the number {made.value:g}" if isinstance(made.value, float) else f"just '{made.value}'"
            raise FormulaError(f"the formula computes nothing: it is {what}; a gate must apply an op "
                               "(for example 'x * 1' or 'relu(x)')", made.offset)
        last = len(self.gates) - 1
        return self.generated([f"{self.name}.{index + 1}" for index in range(last)] + [self.name])

    def generated(self, names: list[str]) -> list[Generated]:
        """The gates made, with these names (references between them too)."""
        return [Generated(names[index], gate.op, [names[ref] if isinstance(ref, _Index) else ref
                                                  for ref in gate.refs], gate.offsets, gate.offset)
                for index, gate in enumerate(self.gates)]

    def _walk(self, tree: ast.expr) -> _Made:
        """Post-order without recursion: a long formula is a deep tree."""
        done: dict[int, _Made] = {}
        stack: list[tuple[ast.AST, bool]] = [(tree, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                self._allowed(node)
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(_children(node)))
            else:
                done[id(node)] = self._make(node, [done.pop(id(child)) for child in _children(node)])
        return done[id(tree)]

    def _allowed(self, node: ast.AST) -> None:
        """Refuse everything outside the list before anything of it is made."""
        kind = type(node)
        if kind is ast.Name:
            return
        if kind is ast.BinOp:
            if type(node.op) not in _OPERATORS:
                raise FormulaError(_NOT_OPERATORS.get(type(node.op), "this operator is not an op"),
                                   self._operator_offset(node))
            return
        at = self.offset(getattr(node, "col_offset", 0))
        if kind is ast.Constant:
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                what = "strings" if isinstance(value, (str, bytes)) else repr(value)
                raise FormulaError(f"{what} {'are' if what == 'strings' else 'is'} not allowed: a formula's "
                                   "values are node names and numbers", at)
        elif kind is ast.UnaryOp:
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise FormulaError("only '-' and '+' may stand before a value ('not' and '~' are not ops)", at)
        elif kind is ast.Call:
            self._allowed_call(node, at)
        elif kind is ast.Attribute:
            if _dotted_name(node) is None:
                raise FormulaError("attribute access ('.') is not allowed; a formula holds node names (a node "
                                   "that a module made may be named with dots, as h.n0), numbers, + - * / **, "
                                   "parentheses and ops such as exp(x) or max(a, b)", at)
        elif kind in _NOT_ALLOWED:
            raise FormulaError(_NOT_ALLOWED[kind] + _REMINDER, at)
        elif kind is not ast.List:
            raise FormulaError(f"'{kind.__name__}' is not allowed in a formula", at)

    def _allowed_call(self, node: ast.Call, at: int) -> None:
        if node.keywords:
            keyword = node.keywords[0]
            raise FormulaError("keyword arguments are not allowed: ops take their inputs in order",
                               self.offset(keyword.col_offset))
        if type(node.func) is not ast.Name:
            self._allowed(node.func)  # say what it is, if it is something refused (lambda, '.')
            raise FormulaError("only ops can be called, by name (exp(x), max(a, b), dot(u, v))", at)
        if node.func.id != DOT and node.func.id not in self.calls:
            from .messages import suggest

            known = [*self.calls, DOT]
            hint = suggest(node.func.id, known) or "; ops: " + ", ".join(known)
            raise FormulaError(f"unknown op '{node.func.id}'" + hint, at)

    def _operator_offset(self, node: ast.BinOp) -> int:
        """Where the operator of `a OP b` is: the first character after the
        left operand that is not a space or a closing parenthesis."""
        end = getattr(node.left, "end_col_offset", None)
        if end is None:
            return self.offset(node.col_offset)
        position = self.offset(end)
        while position < len(self.text) and self.text[position] in " \t\r\n)":
            position += 1
        return min(position, max(len(self.text) - 1, 0))

    def _make(self, node: ast.AST, inputs: list[_Made]) -> _Made:
        at = self.offset(node.col_offset)
        if isinstance(node, ast.Constant):
            number = float(node.value)
            if number in (float("inf"), float("-inf")):
                raise FormulaError("the number is too large to represent (the limit is about 1.8e308)", at)
            return _Made(number, False, at)
        if isinstance(node, ast.Name):
            return self._name(node.id, at)
        if isinstance(node, ast.Attribute):  # h.n0: the dotted name of a node a module made
            return self._name(_dotted_name(node), at)
        if isinstance(node, ast.List):
            return _Made([made for made in inputs], False, at)
        if isinstance(node, ast.UnaryOp):
            (operand,) = inputs
            self._scalar(operand, "'-'")
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(operand.value, float) and not operand.gate:  # -3 is a number
                return _Made(-operand.value, False, at)
            return self._gate("neg", [operand], at)
        if isinstance(node, ast.BinOp):
            symbol = _OPERATORS[type(node.op)]
            for operand in inputs:
                self._scalar(operand, f"'{symbol}'")
            return self._gate(OP_OF_SYMBOL[symbol].name, inputs, self._operator_offset(node))
        assert isinstance(node, ast.Call)
        if node.func.id == DOT:
            return self._dot(inputs, at)
        op = self.calls[node.func.id]
        for argument in inputs:
            self._scalar(argument, f"{op.name}(...)")
        if not op.accepts(len(inputs)):
            raise FormulaError(f"{op.name} takes {op.arity_text} input{'' if op.arity_text == '1' else 's'}, "
                               f"got {len(inputs)}", at)
        return self._gate(op.name, inputs, at)

    def _name(self, name: str, at: int) -> _Made:
        if is_reserved(name.split(".", 1)[0]):
            raise FormulaError(f"'{name}' is reserved; it cannot name a node", at)
        if not NODE.match(name):
            raise FormulaError(f"'{name}' is not a valid name; {NAME_RULE}", at)
        value = self.resolve(name, at)
        if isinstance(value, list):
            return _Made([_Made(item, False, at) for item in value], False, at)
        return _Made(value, False, at)

    def _scalar(self, made: _Made, where: str) -> None:
        if isinstance(made.value, list):
            raise FormulaError(f"a list of {counted(len(made.value), 'value')} cannot be an input of {where}; lists are "
                               "for dot(u, v)", made.offset)

    def _dot(self, inputs: list[_Made], at: int) -> _Made:
        if len(inputs) != 2 or not all(isinstance(made.value, list) for made in inputs):
            raise FormulaError("dot(u, v) takes two lists of equal length, such as dot([a, b], [x, y]) "
                               "or dot(w, x) with list inputs", at)
        left, right = inputs[0].value, inputs[1].value
        if len(left) != len(right) or not left:
            raise FormulaError(f"dot(u, v) needs two lists of the same, non-zero length; got {len(left)} "
                               f"and {len(right)}", at)
        for item in (*left, *right):
            self._scalar(item, "dot(...)")
        products = [self._gate("mul", [u, v], at) for u, v in zip(left, right)]
        return products[0] if len(products) == 1 else self._gate("add", products, at)

    def _gate(self, op: str, inputs: Sequence[_Made], at: int) -> _Made:
        refs = [_Index(made.value) if made.gate else made.value for made in inputs]
        self.gates.append(_Gate(op, refs, [made.offset for made in inputs], at))
        return _Made(len(self.gates) - 1, True, at)


def _dotted_name(node: ast.Attribute) -> Optional[str]:
    """`h.n0.w1` as one name, when the chain is names all the way down and
    none is Python's own (`__class__`); else None."""
    parts = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name) or any(part.startswith("__") for part in [current.id, *parts]):
        return None
    return ".".join([current.id, *reversed(parts)])


class _Index(int):
    """A reference to a gate made earlier in the same formula, by its index."""
