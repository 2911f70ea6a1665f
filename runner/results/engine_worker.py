"""The other side of `--engine`: a process that imports someone's scalar
autodiff class and runs circuits with it, one request at a time.

circuit-run starts it (`python -m runner.results.engine_worker`) so that the
user's code runs apart from circuit-run itself: a `backward()` that never
returns is ended by killing this process, and a crash ends only this process.
It talks JSON lines: requests on stdin, replies on a copy of stdout; the
user's own prints are sent to stderr so they cannot garble the replies.

1. hello: `{"target": "MODULE:CLASS", "path": [...]}` (sys.path to import
   from) -> `{"ready": true}` or `{"refused": "why"}`.
2. per case: `{"names", "inputs": [[slot, value]], "constants": [[slot,
   value]], "tape": [[op, out, ins]], "output", "twice"}` -> `{"phase":
   "backward"}` (so a hang can be placed), then one of `{"status": "done",
   "output", "values", "grads", "grads_first"}`, `{"status": "skipped",
   "reason"}`, `{"status": "error", "where", "type", "message"}`.

This module imports nothing of circuit-run's: the worker starts fast and the
user's class sees a plain interpreter (the default recursion limit included).
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import sys
import threading
import time
from typing import Any, Callable

# How each op of the table is written with the class: an operator (the
# dunder a left-hand object needs, and the one for a number on the left), or
# a method. Folded left to right over the inputs of add, mul, max and min.
OPERATORS = {
    "add": ("__add__", "__radd__", "a + b"),
    "sub": ("__sub__", "__rsub__", "a - b"),
    "mul": ("__mul__", "__rmul__", "a * b"),
    "div": ("__truediv__", "__rtruediv__", "a / b"),
    "pow": ("__pow__", "__rpow__", "a ** b"),
}
UNARY = {  # op -> (what the class needs, how it is written)
    "neg": ("__neg__", "-a"),
    "square": ("__pow__", "a ** 2"),
    "abs": ("__abs__", "abs(a)"),
}
SQRT = ("sqrt", "a ** 0.5")  # the method when the class has one, else the power
MESSAGE_LENGTH = 300


class Refused(Exception):
    """MODULE:CLASS cannot be used; the message says why."""


def main() -> None:
    # The requests and replies travel on copies of stdin and stdout; the
    # user's code gets an empty stdin and prints to stderr.
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)

    def send(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        hello = json.loads(requests.readline())
        sys.path[:] = hello["path"]
        try:
            cls = load_class(hello["target"])
        except Refused as why:
            send({"refused": str(why)})
            return
        send({"ready": True})
        for line in requests:
            send(run_case(cls, json.loads(line), send))
    except (KeyboardInterrupt, BrokenPipeError):  # Ctrl-C reaches this process too; circuit-run reports it
        os._exit(1)


def _exit_with_parent(parent: int) -> None:
    """End this process once circuit-run is gone (killed while a case hangs,
    it could not stop the worker itself): a thread, so it also runs while the
    user's code loops."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def load_class(target: str) -> type:
    module_name, _, attributes = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and (module_name == err.name or module_name.startswith(err.name + ".")):
            raise Refused(f"cannot import module '{module_name}': no module named '{err.name}' (looked in "
                          "the current directory and on Python's path)") from None
        raise Refused(f"importing module '{module_name}' failed: {_describe(err)}") from None
    except (Exception, SystemExit) as err:
        raise Refused(f"importing module '{module_name}' failed: {_describe(err)}") from None
    where = module_name
    for attribute in attributes.split("."):
        if not hasattr(found, attribute):
            close = difflib.get_close_matches(attribute, [n for n in dir(found) if not n.startswith("_")], 1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise Refused(f"'{where}' has no attribute '{attribute}'{hint}")
        found = getattr(found, attribute)
        where = f"{where}:{attribute}" if where == module_name else f"{where}.{attribute}"
    if not isinstance(found, type):
        raise Refused(f"'{target}' is not a class (it is {_kind(found)})")
    if not callable(getattr(found, "backward", None)):
        raise Refused(f"class '{found.__name__}' has no backward() method")
    return found


def unsupported(cls: type, op: str) -> str:
    """Why `cls` cannot run this op ('' when it can, or may: a missing
    reflected method is found by running it, as a TypeError)."""
    name = cls.__name__
    if op in OPERATORS:
        left, right, written = OPERATORS[op]
        if not (_has(cls, left) or _has(cls, right)):
            return f"{name} has no {left} ({written})"
        return ""
    if op in UNARY:
        needs, written = UNARY[op]
        if op == "abs" and _has(cls, "abs"):
            return ""
        return "" if _has(cls, needs) else f"{name} has no {needs} ({written})"
    if op == "sqrt":
        return "" if _has(cls, "sqrt") or _has(cls, "__pow__") else f"{name} has no sqrt() and no __pow__"
    return "" if _has(cls, op) else f"{name} has no method {op}()"


def apply(cls: type, op: str, args: list) -> Any:
    """The op computed with the class's operators or methods."""
    if not any(isinstance(arg, cls) for arg in args):  # only numbers: the first becomes an object
        args = [cls(args[0]), *args[1:]]
    if op in OPERATORS:
        operate = _BINARY[op]
        result = args[0]
        for arg in args[1:]:
            result = operate(result, arg)
        return result
    first = args[0]
    if op == "neg":
        return -first
    if op == "square":
        return first ** 2
    if op == "abs":
        return abs(first) if _has(cls, "__abs__") else _object(cls, first).abs()
    if op == "sqrt" and not _has(cls, "sqrt"):
        return first ** 0.5
    if op in ("max", "min"):  # on the first object, with the others (the order only matters at a tie)
        receiver = next((arg for arg in args if isinstance(arg, cls)), None)
        others = [arg for arg in args if arg is not receiver]
        result = receiver if receiver is not None else _object(cls, others.pop(0))
        for arg in others:
            result = getattr(result, op)(arg)
        return result
    return getattr(_object(cls, first), op)()


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
}


def run_case(cls: type, job: dict, send: Callable[[dict], None]) -> dict:
    names, tape = job["names"], job["tape"]
    constants = {slot for slot, _ in job["constants"]}
    for op, out, _ in tape:
        reason = unsupported(cls, op)
        if reason:
            return {"status": "skipped", "reason": f"{reason}: gate '{names[out]}'"}
    nodes: list[Any] = [None] * len(names)
    where = f"{cls.__name__}(number)"
    try:
        for slot, value in job["inputs"]:
            nodes[slot] = cls(value)
        for slot, value in job["constants"]:
            nodes[slot] = _number(value)
        for op, out, ins in tape:
            where = f"gate '{names[out]}' ({op})"
            nodes[out] = apply(cls, op, [nodes[slot] for slot in ins])
        output = nodes[job["output"]]
        send({"phase": "backward()"})
        where = "backward()"
        output.backward()
        where = "reading .data and .grad"
        first = _grads(nodes, constants) if job["twice"] else None
        if job["twice"]:
            send({"phase": "the second backward()"})
            where = "the second backward()"
            output.backward()
            where = "reading .data and .grad"
        values = [None if slot in constants else float(node.data) for slot, node in enumerate(nodes)]
        return {"status": "done", "output": float(output.data), "values": values,
                "grads": _grads(nodes, constants), "grads_first": first}
    except (Exception, SystemExit) as err:
        return {"status": "error", "where": where, "type": type(err).__name__,
                "message": _message(err)}


def _grads(nodes: list, constants: set) -> list:
    """Every node's .grad as a number (None: a constant, or a grad of None, as
    PyTorch leaves it on a tensor the output does not depend on)."""
    grads = []
    for slot, node in enumerate(nodes):
        grad = None if slot in constants else node.grad
        grads.append(None if grad is None else float(grad))
    return grads


def _number(value: float) -> float | int:
    """A constant as a Python user writes it: 2, not 2.0, when it is whole."""
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value


def _object(cls: type, value: Any) -> Any:
    return value if isinstance(value, cls) else cls(value)


def _has(cls: type, name: str) -> bool:
    return callable(getattr(cls, name, None))


def _message(err: BaseException) -> str:
    text = str(err).replace("\n", " ")
    return text if len(text) <= MESSAGE_LENGTH else text[:MESSAGE_LENGTH - 3] + "..."


def _describe(err: BaseException) -> str:
    message = _message(err)
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def _kind(thing: Any) -> str:
    kind = type(thing).__name__
    return f"an instance of {kind}" if kind not in ("module", "function", "builtin_function_or_method") else \
        f"a {kind.replace('builtin_function_or_method', 'built-in function')}"


if __name__ == "__main__":
    main()
