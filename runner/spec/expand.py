"""Formulas and module instances, expanded into plain gates of the op table.

Expansion runs on the loaded data, before the wiring checks (wiring.py), so
that every check - an unknown node, a cycle, an arity - works on the circuit
as it will be run. What it makes is named after what the user wrote:

- a formula gate `f` becomes gates `f.1`, `f.2`, ..., `f` (formulas.py);
- an instance `h: {use: m, in: [...]}` becomes the module's parameters
  (`h.b`, and `h.w0`, `h.w1`, ... for a list parameter), its gates (`h.g`,
  their formula steps `h.g.1`, ...) and its output (`h`, or `h.a`, `h.b` for
  a module with several); with `repeat: N`, N copies `h.n0` ... `h.n{N-1}`,
  and `h` stands for the list of their outputs.

A module is turned into a `_Template` once for each shape of its inputs (a
single node, or a list of so many), and every instance is a copy of the
template with its own names: a layer of a thousand neurons costs one
template and a thousand cheap copies. Sizes are worked out before anything
is made, so a spec that would expand past `--max-nodes` (a layer of 10^12,
modules nested ten deep) is refused at once, and a module that uses itself
is refused with the cycle it forms.

Errors point at what the user wrote: a formula's token, a module's `out`,
an instance's `use`; the `View` gives the wiring checks those positions for
the gates expansion made.
"""

from __future__ import annotations

import random
from typing import Any, Callable, NamedTuple, Optional, Union

from ..errors import Problem
from ..limits import Limits
from ..loading.document import Document
from ..ops import OPS
from . import rules
from .custom_ops import build_custom_ops
from .formulas import FormulaError, Generated, lower
from .netlist import Group
from .messages import format_path, suggest
from ..words import counted

Ref = Union[str, float]
# In a template: a str is a local name (made by the module: "w0", "g.1"; ""
# is the instance's own output), an int the position of an input bound to a
# port, a float a number constant.
LocalRef = Union[str, int, float]


class Expansion(NamedTuple):
    data: dict  # the spec's data, with every gate flat ({op, in}) and the modules' parameters as inputs
    output: Optional[str]  # the output node (an instance name resolved), or None when unknown
    generated: dict[str, tuple]  # name of a generated gate -> where it came from (see View)
    groups: dict[str, Group]  # each formula gate and instance, for presenters
    problems: list[Problem]
    ops: dict = {}  # the spec's custom ops (name -> ops.Op), see custom_ops.py


def needs_expanding(data: Any) -> bool:
    """Whether any gate is a formula or an instance (or the spec has modules
    or custom ops)."""
    if not isinstance(data, dict):
        return False
    if data.get("ops"):
        return True
    gates = data.get("gates")
    if data.get("modules") or not isinstance(gates, dict):
        return bool(data.get("modules"))
    return any(gate.__class__ is not dict or "expr" in gate or "use" in gate for gate in gates.values())


def expand(document: Document, limits: Limits = Limits()) -> Expansion:
    """The data with formulas and instances expanded; problems (with their
    positions) instead of exceptions, so the other checks still run."""
    return _Expander(document, limits).run()


class _Stop(Exception):
    """Expansion cannot go on (a size over the limit, a module cycle)."""


class _Template(NamedTuple):
    """A module's nodes, once per shape of its inputs, with local names."""

    params: list[tuple[str, Any]]  # local name, its starting value (a number or a random init)
    trainable: list[bool]
    gates: list[tuple[str, str, list[LocalRef]]]  # local name, op, references
    out: Any  # a LocalRef, or a list of them
    size: int


class _Expander:
    def __init__(self, document: Document, limits: Limits):
        self.document, self.limits = document, limits
        self.data = document.data
        self.modules = self.data.get("modules") if isinstance(self.data.get("modules"), dict) else {}
        seed = self.data.get("seed", 0)
        self.rng = random.Random(seed if isinstance(seed, int) and not isinstance(seed, bool) else 0)
        self.problems: list[Problem] = []
        self.generated: dict[str, tuple] = {}
        self.groups: dict[str, Group] = {}
        self.sizes: dict[tuple, tuple[int, Any]] = {}
        self.templates: dict[tuple, _Template] = {}
        self.count = 0
        custom = build_custom_ops(document, limits)
        self.custom_ops = custom.ops
        self.problems.extend(custom.problems)
        self.calls = {**OPS, **custom.ops} if custom.ops else OPS

    # ---- the spec's own gates ------------------------------------------------

    def run(self) -> Expansion:
        data = self.data
        inputs = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
        gates = data.get("gates") if isinstance(data.get("gates"), dict) else {}
        self.count = len(inputs)
        made_inputs: dict[str, Any] = dict(inputs)
        made_gates: dict[str, Any] = {}
        try:
            self._check_module_cycles()
            aliases = self._aliases(gates)
            for name, gate in gates.items():
                path = ("gates", name)
                if not isinstance(name, str) or not rules.NAME.match(name):
                    made_gates[name] = gate  # pydantic and the wiring checks report it
                elif isinstance(gate, str) or (isinstance(gate, dict) and "expr" in gate):
                    self._top_formula(name, gate, path, aliases, made_gates)
                elif isinstance(gate, dict) and "use" in gate:
                    self._top_instance(name, gate, path, aliases, made_inputs, made_gates)
                else:
                    made_gates[name] = self._resolve_plain(gate, aliases)
        except _Stop:
            pass
        output = self._output(data.get("output"), gates, aliases if "aliases" in locals() else {})
        flat = dict(data, inputs=made_inputs, gates=made_gates)
        return Expansion(flat, output, self.generated, self.groups, self.problems, self.custom_ops)

    def _report(self, path: tuple, message: str, *, key: bool = False, offset: Optional[int] = None) -> None:
        if offset is not None:
            line, column = self.document.position_in(path, offset)
        else:
            line, column = self.document.position(path, key=key)
        problem = Problem(line, column, message, format_path(path))
        if problem not in self.problems:  # a module's error once, however many instances
            self.problems.append(problem)

    def _grow(self, count: int, path: tuple) -> None:
        """Count nodes about to be made; refuse them all beyond the limit."""
        self.count += count
        if self.count > self.limits.max_nodes:
            self._report(path, f"the spec expands to more than {counted(self.limits.max_nodes, 'node')} (inputs and "
                               "gates); make it smaller or raise --max-nodes if it is real", key=True)
            raise _Stop()

    def _aliases(self, gates: dict) -> dict[str, Any]:
        """What each instance's name stands for (its output node, or the list
        of its outputs), worked out before anything is made, in an order
        where an instance comes after the instances whose lists it takes."""
        aliases: dict[str, Any] = {}
        instances = {name: gate for name, gate in gates.items()
                     if isinstance(name, str) and isinstance(gate, dict) and "use" in gate}
        waiting = dict(instances)
        while waiting:
            progress = False
            for name, gate in list(waiting.items()):
                shapes = self._binding_shapes(gate.get("in"), aliases, instances)
                if shapes is None:
                    continue
                del waiting[name]
                progress = True
                module = gate.get("use")
                if module not in self.modules or not isinstance(self.modules.get(module), dict):
                    aliases[name] = name  # reported when it is made
                    continue
                size, _ = self._size(module, shapes, gate.get("activation"), ("gates", name, "use"))
                copies = _repeat(gate)
                self._grow(size * copies, ("gates", name))
                template = self._template(module, shapes, gate.get("activation"), ("gates", name, "use"))
                if template is None:
                    aliases[name] = name  # its problem is reported
                    continue
                out = template.out
                if copies == 1:
                    aliases[name] = _named(out, name)
                else:
                    outputs = [_named(out, f"{name}.n{index}") for index in range(copies)]
                    if any(isinstance(output, list) for output in outputs):
                        aliases[name] = [item for output in outputs for item in _as_list(output)]
                    else:
                        aliases[name] = outputs
            if not progress:  # instances that take each other's lists: the wiring checks report the loop
                for name in waiting:
                    aliases[name] = name
                break
        return aliases

    def _binding_shapes(self, bindings: Any, aliases: dict, instances: dict) -> Optional[tuple]:
        """Each port's shape: None for one node, the length for a list; None
        overall while a list comes from an instance not worked out yet."""
        if not isinstance(bindings, list):
            return ()
        shapes = []
        for binding in bindings:
            if isinstance(binding, list):
                shapes.append(len(binding))
            elif isinstance(binding, str) and binding in instances:
                if binding not in aliases:
                    return None
                value = aliases[binding]
                shapes.append(len(value) if isinstance(value, list) else None)
            else:
                shapes.append(None)
        return tuple(shapes)

    def _top_formula(self, name: str, gate: Any, path: tuple, aliases: dict, made: dict) -> None:
        text_path = path if isinstance(gate, str) else path + ("expr",)
        text = gate if isinstance(gate, str) else gate.get("expr")
        if not isinstance(text, str):
            made[name] = {"op": None, "in": []}  # pydantic reports the type
            return

        def resolve(word: str, offset: int) -> Any:
            return aliases.get(word, word)

        try:
            lowered = lower(name, text, resolve=resolve, calls=self.calls, max_depth=self.limits.max_depth)
        except FormulaError as err:
            self._report(text_path, err.message, offset=err.offset)
            made[name] = {"op": None, "in": []}  # so that gates reading it are not called unknown
            return
        self._grow(len(lowered) - 1, path)
        self.groups[name] = Group("formula", formula=text)
        for step in lowered:
            made[step.name] = {"op": step.op, "in": step.refs}
            self.generated[step.name] = ("formula", text_path, step)

    def _top_instance(self, name: str, gate: dict, path: tuple, aliases: dict, inputs: dict,
                      gates: dict) -> None:
        module = gate.get("use")
        if module not in self.modules:
            named = [key for key in self.modules if isinstance(key, str)]
            hint = suggest(module, named) or (
                "; modules: " + ", ".join(named) if named else "; the spec has no modules")
            self._report(path + ("use",), f"unknown module {module!r}" + hint)
            gates[name] = {"op": None, "in": []}
            return
        definition = self.modules[module]
        if not isinstance(definition, dict):
            return  # pydantic reports it
        bindings = gate.get("in") if isinstance(gate.get("in"), list) else []
        ports = definition.get("in") if isinstance(definition.get("in"), list) else []
        if len(bindings) != len(ports):
            self._report(path + ("in",), f"module {module} has {len(ports)} input port"
                                         f"{'' if len(ports) == 1 else 's'} ({', '.join(map(str, ports))}), "
                                         f"got {len(bindings)} input{'' if len(bindings) == 1 else 's'}")
            gates[name] = {"op": None, "in": []}
            return
        args, shapes = [], []
        for index, binding in enumerate(bindings):
            value = self._binding(binding, aliases, path + ("in", index))
            shapes.append(len(value) if isinstance(value, list) else None)
            args.extend(value if isinstance(value, list) else [value])
        template = self._template(module, tuple(shapes), gate.get("activation"), path + ("use",))
        if template is None:
            gates[name] = {"op": None, "in": []}
            return
        copies = _repeat(gate)
        self.groups[name] = Group("instance", module=module, copies=copies, activation=gate.get("activation"),
                                  bindings=tuple(bindings))
        for index in range(copies):
            prefix = name if copies == 1 else f"{name}.n{index}"
            self._instantiate(template, prefix, args, inputs, gates, path)

    def _binding(self, binding: Any, aliases: dict, path: tuple) -> Any:
        if isinstance(binding, list):
            return [aliases.get(item, item) if isinstance(item, str) else item for item in binding]
        if isinstance(binding, str):
            return aliases.get(binding, binding)
        return binding

    def _instantiate(self, template: _Template, prefix: str, args: list, inputs: dict, gates: dict,
                     path: tuple) -> None:
        def full(local: str) -> str:
            return f"{prefix}.{local}" if local else prefix

        for (local, init), trainable in zip(template.params, template.trainable):
            inputs[full(local)] = {"value": self._draw(init), "trainable": trainable}
        for local, op, refs in template.gates:
            name = full(local)
            gates[name] = {"op": op, "in": [full(ref) if ref.__class__ is str else args[ref]
                                            if ref.__class__ is int else ref for ref in refs]}
            self.generated[name] = ("instance", path)

    def _draw(self, init: Any) -> float:
        """A parameter's starting value (a wrong one is 0 here: pydantic reports it)."""
        try:
            if not isinstance(init, str):
                return rules.number(init)
            kind, first, second = rules.random_init_parts(rules.random_init(init))
        except rules.Invalid:
            return 0.0
        return self.rng.uniform(first, second) if kind == "uniform" else self.rng.gauss(first, second)

    def _resolve_plain(self, gate: Any, aliases: dict) -> Any:
        """A plain gate reading an instance's name reads its output node."""
        refs = gate.get("in") if isinstance(gate, dict) else None
        if not aliases or not isinstance(refs, list) or not any(isinstance(r, str) and r in aliases for r in refs):
            return gate
        return dict(gate, **{"in": [aliases.get(ref, ref) if isinstance(ref, str) and
                                    not isinstance(aliases.get(ref), list) else ref for ref in refs]})

    def _output(self, output: Any, gates: dict, aliases: dict) -> Optional[str]:
        """The output node: `output`, or the last gate listed; an instance's
        name stands for its output node, and must not be a list."""
        given = isinstance(output, str)
        if not given:
            if output is not None or not gates:
                return None
            output = next(reversed(gates))
        value = aliases.get(output, output)
        if isinstance(value, list):
            where = ("output",) if given else ("gates", output)
            self._report(where, f"the output must be one node, but {output} stands for the list of its "
                                f"{counted(len(value), 'output')} ({value[0]}{', ...' if len(value) > 1 else ''}); "
                                "name one with 'output:', or add a gate "
                                "that combines them", key=not given)
            return None
        return value if isinstance(value, str) else None

    # ---- modules -------------------------------------------------------------

    def _check_module_cycles(self) -> None:
        """A module that uses itself, directly or through others, would never end."""
        uses = {name: [gate.get("use") for gate in _mapping(module.get("gates")).values()
                       if isinstance(gate, dict) and isinstance(gate.get("use"), str)]
                for name, module in self.modules.items() if isinstance(module, dict)}
        state: dict[str, int] = {}
        for root in uses:
            if root in state:
                continue
            stack = [(root, iter(uses[root]))]
            path = [root]
            state[root] = 1
            while stack:
                node, pending = stack[-1]
                for used in pending:
                    if used not in uses:
                        continue
                    if state.get(used) == 1:
                        loop = path[path.index(used):] + [used]
                        where = next(name for name, gate in _mapping(self.modules[node].get("gates")).items()
                                     if isinstance(gate, dict) and gate.get("use") == used)
                        self._report(("modules", node, "gates", where, "use"),
                                     "modules use each other in a cycle: " + " -> ".join(loop) +
                                     "; a module cannot contain itself")
                        raise _Stop()
                    if used not in state:
                        state[used] = 1
                        stack.append((used, iter(uses[used])))
                        path.append(used)
                        break
                else:
                    stack.pop()
                    path.pop()
                    state[node] = 2

    def _size(self, module: str, shapes: tuple, activation: Any, path: tuple) -> tuple[int, Any]:
        """How many nodes one instance makes, and its output's shape (a local
        reference, or a list), without making them."""
        key = (module, shapes, activation)
        if key not in self.sizes:
            template = self._build(module, shapes, activation, path, sizes_only=True)
            self.sizes[key] = (template.size, template.out) if template else (0, "")
        return self.sizes[key]

    def _template(self, module: str, shapes: tuple, activation: Any, path: tuple) -> Optional[_Template]:
        key = (module, shapes, activation)
        if key not in self.templates:
            self.templates[key] = self._build(module, shapes, activation, path)
        return self.templates[key]

    def _build(self, module: str, shapes: tuple, activation: Any, use_path: tuple, *,
               sizes_only: bool = False) -> Optional[_Template]:
        """The template of `module` for these input shapes. With
        `sizes_only`, inner instances are counted, not copied (their outputs
        are still named, since formulas refer to them)."""
        definition = self.modules[module]
        where = ("modules", module)
        ports = definition.get("in") if isinstance(definition.get("in"), list) else []
        scope: dict[str, Any] = {}
        position = 0
        for port, shape in zip(ports, shapes):
            if isinstance(port, str):
                scope[port] = position if shape is None else list(range(position, position + shape))
            position += 1 if shape is None else shape
        params: list[tuple[str, Any]] = []
        trainable: list[bool] = []
        for name, param in _mapping(definition.get("params")).items():
            spec = param if isinstance(param, dict) else {"init": param}
            init, size = spec.get("init", 0.0), spec.get("size")
            count = size if isinstance(size, int) and not isinstance(size, bool) else None
            if isinstance(size, str):
                count = _length(scope.get(size))
                if count is None:
                    self._report(where + ("params", name, "size"),
                                 f"size {size!r} must name an input port that is bound to a list"
                                 + suggest(size, [port for port in ports if isinstance(scope.get(port), list)]))
                    return None
            if count is None:
                params.append((name, init))
                scope[name] = name
            else:
                if count > self.limits.max_nodes:
                    self._report(use_path, f"module {module}'s parameter {name} would have {count:,} elements, "
                                           f"more than --max-nodes ({self.limits.max_nodes:,})")
                    raise _Stop()
                elements = [f"{name}{index}" for index in range(count)]
                params.extend((element, init) for element in elements)
                scope[name] = elements
            trainable.extend([spec.get("trainable", True) is not False] * (1 if count is None else count))
        gates: list[tuple[str, str, list[LocalRef]]] = []
        size = len(params)
        inner = _mapping(definition.get("gates"))
        for name, gate in inner.items():  # names first: gates may read each other in any order
            scope.setdefault(name, name)
        for name, gate in inner.items():
            gate_path = where + ("gates", name)
            if isinstance(gate, dict) and "use" in gate:
                made = self._inner_instance(name, gate, gate_path, scope, sizes_only)
                if made is None:
                    return None
                scope[name], inner_gates, inner_params, inner_trainable, inner_size = made
                gates.extend(inner_gates)
                params.extend(inner_params)
                trainable.extend(inner_trainable)
                size += inner_size
            elif isinstance(gate, str) or (isinstance(gate, dict) and "expr" in gate):
                text_path = gate_path if isinstance(gate, str) else gate_path + ("expr",)
                lowered = self._lower(name, gate if isinstance(gate, str) else gate.get("expr"), text_path,
                                      scope, module)
                if lowered is None:
                    return None
                gates.extend((step.name, step.op, step.refs) for step in lowered)
                size += len(lowered)
            elif isinstance(gate, dict):
                op = self.calls.get(gate.get("op")) if isinstance(gate.get("op"), str) else None
                refs = [self._local(ref, scope, module, gate_path + ("in", index))
                        for index, ref in enumerate(gate.get("in") or [])]
                if op is None or any(ref is None or isinstance(ref, list) for ref in refs):
                    return None  # an unknown op or a wrong type: pydantic reports it
                if not op.accepts(len(refs)):
                    self._report(gate_path + ("in",), f"{op.name} takes {op.arity_text} input"
                                                      f"{'' if op.arity_text == '1' else 's'}, got {len(refs)}")
                    return None
                gates.append((name, op.name, refs))
                size += 1
        out = self._out(definition.get("out"), where + ("out",), scope, module, activation, gates)
        if out is None:
            return None
        out_value, added = out
        return _Template(params, trainable, gates, out_value, size + added)

    def _inner_instance(self, name: str, gate: dict, path: tuple, scope: dict, sizes_only: bool):
        module = gate.get("use")
        if module not in self.modules:
            self._report(path + ("use",), f"unknown module {module!r}" + suggest(module, self.modules))
            return None
        bindings = gate.get("in") if isinstance(gate.get("in"), list) else []
        ports = self.modules[module].get("in") if isinstance(self.modules[module].get("in"), list) else []
        if len(bindings) != len(ports):
            self._report(path + ("in",), f"module {module} has {len(ports)} input port"
                                         f"{'' if len(ports) == 1 else 's'}, got {len(bindings)} input"
                                         f"{'' if len(bindings) == 1 else 's'}")
            return None
        args: list[LocalRef] = []
        shapes = []
        for index, binding in enumerate(bindings):
            where = path + ("in", index)
            if isinstance(binding, list):  # a list written out: each entry one node or number
                value: Any = [self._local(item, scope, module, where) for item in binding]
                if any(item is None or isinstance(item, (list, _Many)) for item in value):
                    return None
            else:  # a name stands for what it is in the module: one node, or a list
                value = self._local(binding, scope, module, where)
                if value is None:
                    return None
            shapes.append(_length(value))
            if not isinstance(value, _Many):
                args.extend(value if isinstance(value, list) else [value])
        copies = _repeat(gate)
        size, out = self._size(module, tuple(shapes), gate.get("activation"), path + ("use",))
        prefixes = [name] if copies == 1 else [f"{name}.n{index}" for index in range(copies)]
        if sizes_only:  # count, and say how many outputs: naming them could take as long as making them
            length = _length(out)
            if copies == 1 and length is None:
                return _named(out, name), [], [], [], size
            total = copies * (1 if length is None else length)
            if total > self.limits.max_nodes:
                self._grow(total, path)
            return _Many(total), [], [], [], size * copies
        template = self._template(module, tuple(shapes), gate.get("activation"), path + ("use",))
        if template is None:
            return None
        outputs = [_named(template.out, prefix) for prefix in prefixes]
        alias = outputs[0] if copies == 1 else [item for output in outputs for item in _as_list(output)]
        gates, params, trainable = [], [], []
        for prefix in prefixes:
            def local_of(ref: LocalRef, prefix: str = prefix) -> LocalRef:
                if ref.__class__ is str:
                    return f"{prefix}.{ref}" if ref else prefix
                return args[ref] if ref.__class__ is int else ref

            params.extend((local_of(local), init) for local, init in template.params)
            trainable.extend(template.trainable)
            gates.extend((local_of(local), op, [local_of(ref) for ref in refs]) for local, op, refs in template.gates)
        return alias, gates, params, trainable, size * copies

    def _local(self, ref: Any, scope: dict, module: str, path: tuple) -> Optional[LocalRef]:
        """A reference inside a module, in its local terms."""
        if not isinstance(ref, str):
            return float(ref) if isinstance(ref, (int, float)) and not isinstance(ref, bool) else None
        if ref not in scope:
            self._report(path, f"unknown name '{ref}' in module {module}" + suggest(ref, scope) +
                         "; a module sees its input ports, its parameters and its own gates")
            return None
        value = scope[ref]
        return value

    def _lower(self, name: str, text: Any, path: tuple, scope: dict, module: str) -> Optional[list[Generated]]:
        if not isinstance(text, str):
            return None  # pydantic reports the type

        def resolve(word: str, offset: int) -> Any:
            if word not in scope:
                raise FormulaError(f"unknown name '{word}' in module {module}" + suggest(word, scope) +
                                   "; a module sees its input ports, its parameters and its own gates", offset)
            value = scope[word]
            return [0.0] * value.length if isinstance(value, _Many) else value  # counted, never made

        try:
            return lower(name, text, resolve=resolve, calls=self.calls, max_depth=self.limits.max_depth)
        except FormulaError as err:
            self._report(path, err.message, offset=err.offset)
            return None

    def _out(self, out: Any, path: tuple, scope: dict, module: str, activation: Any,
             gates: list) -> Optional[tuple[Any, int]]:
        """The output (a local reference, or a list of them) and how many
        gates it adds; its gates are appended to `gates`."""
        op = self.calls.get(activation) if isinstance(activation, str) else None
        if op is None or not op.accepts(1):
            activation = None  # not an op of one input: pydantic reports it
        if isinstance(out, dict):
            values, added = [], 0
            for key, text in out.items():
                made = self._one_out(str(key), text, path + (key,), scope, module, activation, gates)
                if made is None:
                    return None
                values.append(made[0])
                added += made[1]
            return values, added
        return self._one_out("", out, path, scope, module, activation, gates)

    def _one_out(self, local: str, text: Any, path: tuple, scope: dict, module: str, activation: Any,
                 gates: list) -> Optional[tuple[Any, int]]:
        if not isinstance(text, str):
            return None  # pydantic reports it
        bare = text.strip()
        if rules.NAME.match(bare) and bare in scope:  # just a name: the output is that node (or list)
            value = scope[bare]
            if activation is None:
                return value, 0
            if _length(value) is not None:
                self._report(path, "activation applies to one output; this module's out is a list")
                return None
            gates.append((local, activation, [value]))
            return local, 1
        lowered = self._lower(local or "@", text, path, scope, module)
        if lowered is None:
            return None
        steps = [(_rename(step.name, local), step.op, [_rename(ref, local) if isinstance(ref, str) and
                                                        _is_step(ref) else ref for ref in step.refs])
                 for step in lowered]
        if activation is not None:  # act(out): the formula's last step becomes one more numbered step
            last = f"{local}.{len(steps)}" if local else str(len(steps))
            steps = [(last if name == local else name, op, [last if ref == local else ref for ref in refs])
                     for name, op, refs in steps]
            steps.append((local, activation, [last]))
        gates.extend(steps)
        return local, len(steps)


def _rename(name: str, local: str) -> str:
    """formulas.lower names a module's output steps after '@' ('@.1', '@'):
    in the template they are the instance's own name ('' and '1')."""
    if name == "@":
        return local
    if name.startswith("@."):
        return f"{local}.{name[2:]}" if local else name[2:]
    return name


def _is_step(ref: str) -> bool:
    return ref == "@" or ref.startswith("@.")


class _Many(NamedTuple):
    """While sizes are counted: a list of this many nodes, not named yet."""

    length: int


def _length(value: Any) -> Optional[int]:
    """How many nodes a list (or a _Many) holds; None for one node."""
    if isinstance(value, _Many):
        return value.length
    return len(value) if isinstance(value, list) else None


def _named(out: Any, prefix: str) -> Any:
    """A template's output, in the names of the instance `prefix`."""
    if isinstance(out, list):
        return [_named(item, prefix) for item in out]
    if out.__class__ is str:
        return f"{prefix}.{out}" if out else prefix
    return out


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _repeat(gate: dict) -> int:
    copies = gate.get("repeat", 1)
    return copies if isinstance(copies, int) and not isinstance(copies, bool) and copies >= 1 else 1


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


class View:
    """The expanded data as the wiring checks see it: positions and paths
    of generated gates are those of what the user wrote."""

    def __init__(self, document: Document, expansion: Expansion):
        self.document, self.expansion = document, expansion
        self.data = expansion.data
        self.source = document.source
        self.ops = {**OPS, **expansion.ops} if expansion.ops else OPS  # what a gate's op may name

    def where(self, path: tuple, *, key: bool = False) -> tuple[int, int, str]:
        """(line, column, path as shown) of a path into the expanded data."""
        origin = self.expansion.generated.get(path[1]) if len(path) >= 2 and path[0] == "gates" else None
        if origin is None:
            line, column = self.document.position(path, key=key)
            return line, column, format_path(path)
        if origin[0] == "formula":
            _, text_path, step = origin
            offset = step.offset
            if len(path) >= 4 and path[2] == "in" and isinstance(path[3], int) and path[3] < len(step.offsets):
                offset = step.offsets[path[3]]
            line, column = self.document.position_in(text_path, offset)
            return line, column, format_path(text_path[:2])
        _, instance_path = origin
        line, column = self.document.position(instance_path, key=True)
        return line, column, format_path(instance_path)
