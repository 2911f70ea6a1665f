"""Property-based tests (hypothesis).

1. Random valid circuits over every op: values agree with an independent
   evaluator written here (plain `math`), and analytic gradients agree with
   its central differences wherever the circuit is differentiable.
2. Random mutations of valid spec text (deleted lines, swapped types, renamed
   references, truncation, byte flips): `circuit-run` ends in exit 0, 2 or 3
   with a message, never a traceback or a hang.
3. Raw bytes through the fuzz target of tests/fuzz_loader.py, for a bounded
   number of examples (the long run is atheris: docs/fuzzing.md).

Example counts are fixed so the whole file runs in well under 30 seconds.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fuzz_loader import check_input, guess_format
from reference import REFERENCE
from runner import NumericalError, SpecError, compile_spec, load_spec_text
from runner.cli import main
from runner.ops import OP_NAMES, OPS

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------
# 1. Random circuits: analytic gradients against central differences

assert set(REFERENCE) == set(OP_NAMES), "a new op needs a reference implementation here"

CONSTANTS = (0.5, -1.5, 2.0, 3.0)


@st.composite
def circuits(draw, output_op: str):
    """(inputs {name: value}, gates [(name, op, refs)], output name).

    Arguments are kept inside each op's domain by construction: log, sqrt,
    a divisor and a base of a non-integer power get `1 + tanh(x)^2` (in [1, 2]),
    exp and a node exponent get `tanh(x)`, so no draw needs rejecting.
    """
    count = draw(st.integers(1, 4))
    inputs = {f"x{i}": draw(st.floats(-2, 2, allow_nan=False, allow_subnormal=False)) for i in range(count)}
    nodes = list(inputs)
    gates: list[tuple[str, str, list]] = []

    def gate(op: str, refs: list) -> str:
        name = f"g{len(gates)}"
        gates.append((name, op, refs))
        nodes.append(name)
        return name

    def operand(constants: bool = True):
        if constants and draw(st.integers(0, 5)) == 0:
            return draw(st.sampled_from(CONSTANTS))
        return draw(st.sampled_from(nodes))

    def positive() -> str:  # a node in [1, 2]
        return gate("add", [gate("square", [gate("tanh", [operand(False)])]), 1.0])

    def bounded() -> str:  # a node in [-1, 1]
        return gate("tanh", [operand(False)])

    def build(op: str) -> str:
        if op in ("log", "sqrt"):
            return gate(op, [positive()])
        if op == "div":
            return gate(op, [operand(), positive()])
        if op == "exp":
            return gate(op, [gate("mul", [bounded(), 3.0])])
        if op == "pow":
            kind = draw(st.sampled_from(["node exponent", "integer exponent", "fraction exponent"]))
            if kind == "node exponent":
                return gate(op, [positive(), bounded()])
            if kind == "integer exponent":  # any base, negative ones too
                return gate(op, [operand(False), draw(st.sampled_from([2.0, 3.0]))])
            return gate(op, [positive(), draw(st.sampled_from([0.5, -1.5, 2.5]))])
        if op in ("add", "mul", "max", "min"):
            first = operand(False)  # at least one node, so a gradient flows
            return gate(op, [first] + [operand() for _ in range(draw(st.integers(1, 2)))])
        if op == "sub":
            return gate(op, [operand(False), operand()])
        return gate(op, [operand(False)])

    for _ in range(draw(st.integers(0, 4))):
        build(draw(st.sampled_from(OP_NAMES)))
    output = build(output_op)
    return inputs, gates, output


def spec_text(inputs: dict, gates: list, output: str) -> str:
    lines = ["inputs:"] + [f"  {name}: {value!r}" for name, value in inputs.items()] + ["gates:"]
    for name, op, refs in gates:
        shown = ", ".join(ref if isinstance(ref, str) else repr(ref) for ref in refs)
        lines.append(f"  {name}: {{op: {op}, in: [{shown}]}}")
    return "\n".join(lines + [f"output: {output}", ""])


def evaluate(inputs: dict, gates: list, output: str) -> tuple[float, list[tuple[str, tuple]]]:
    """The output by the reference ops, and every gate's (op, arguments)."""
    values = dict(inputs)
    seen = []
    for name, op, refs in gates:
        args = tuple(values[ref] if isinstance(ref, str) else ref for ref in refs)
        values[name] = REFERENCE[op](*args)
        seen.append((op, args))
    return values[output], seen


def near_kink(op: str, args: tuple, width: float) -> bool:
    """At or within `width` of a point where the op has no derivative, where a
    central difference would straddle the kink."""
    if _is_kink(op, args):
        return True
    if op in ("relu", "abs"):
        return abs(args[0]) < width
    if op in ("max", "min"):
        ranked = sorted(args, reverse=op == "max")
        return abs(ranked[0] - ranked[1]) < width
    return False


@pytest.mark.parametrize("op", OP_NAMES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_circuits_match_central_differences(op, data):
    inputs, gates, output = data.draw(circuits(op))
    spec = load_spec_text(spec_text(inputs, gates, output))
    circuit = compile_spec(spec)
    value = circuit.forward()
    grads = circuit.backward()

    expected, seen = evaluate(inputs, gates, output)
    assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)
    scale = max((abs(x) for x in inputs.values()), default=1.0)
    h = 1e-6 * max(1.0, scale)
    assume(not any(near_kink(gate_op, args, 1e3 * h * (1 + abs(max(args, key=abs))))
                   for gate_op, args in seen))
    for name, x in inputs.items():
        plus = evaluate({**inputs, name: x + h}, gates, output)[0]
        minus = evaluate({**inputs, name: x - h}, gates, output)[0]
        numeric = (plus - minus) / (2 * h)
        analytic = grads[name]
        assert math.isclose(analytic, numeric, rel_tol=1e-4, abs_tol=1e-5 * max(1.0, abs(expected))), \
            (name, analytic, numeric, spec_text(inputs, gates, output))


def test_the_gradient_check_would_catch_a_wrong_derivative(monkeypatch):
    """The property above is not vacuous: with sin's derivative made wrong
    (-cos), the same comparison fails for a circuit that uses sin."""
    from runner.ops import OPS

    wrong = OPS["sin"]._replace(derivative=lambda args, out: (-math.cos(args[0]),))
    monkeypatch.setitem(OPS, "sin", wrong)
    inputs, gates, output = {"x0": 0.3}, [("g0", "sin", ["x0"])], "g0"
    circuit = compile_spec(load_spec_text(spec_text(inputs, gates, output)))
    circuit.forward()
    analytic = circuit.backward()["x0"]
    numeric = (evaluate({"x0": 0.3 + 1e-6}, gates, output)[0] -
               evaluate({"x0": 0.3 - 1e-6}, gates, output)[0]) / 2e-6
    assert not math.isclose(analytic, numeric, rel_tol=1e-4)


# --------------------------------------------------------------------------
# 2. Mutations of valid spec text

SEEDS = sorted(str(path) for path in (ROOT / "circuits").glob("*.yaml")) + \
    sorted(str(path) for path in (ROOT / "tests" / "corpus").glob("valid-*"))
SEED_TEXTS = [Path(path).read_bytes() for path in SEEDS]

REPLACEMENTS = [b"[1, 2]", b"{a: 1}", b"true", b"null", b".nan", b"-.inf", b"1e400", b"'x'",
                b"1" + b"0" * 400, b"1" + b"0" * 5000, b"0x1F", b"!!python/object/apply:os.system ['true']",
                b"&a [*a]", b"*nowhere", b"\t", b"\x00", b"\xff\xfe", b"\"\\ud800\"", b"", b"- ", b"? ",
                b"x", b"y", b"f", b"zz", b"on", b"gates", b"inputs", b"{", b"]", b"'", b"\"", b"#", b"---\n"]
TOKEN = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*|[-+]?[0-9][0-9.eE+-]*|[\[\]{}:,]")


@st.composite
def mutated_specs(draw) -> bytes:
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete line", "duplicate line", "swap token", "rename reference",
                                     "truncate", "flip byte", "insert bytes", "delete bytes"]))
        if not text:
            break
        if kind in ("delete line", "duplicate line"):
            lines = text.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i:i + 1] = [] if kind == "delete line" else [lines[i], lines[i]]
            text = b"\n".join(lines)
        elif kind in ("swap token", "rename reference"):
            tokens = list(TOKEN.finditer(text))
            if not tokens:
                continue
            token = draw(st.sampled_from(tokens))
            if kind == "swap token":
                new = draw(st.sampled_from(REPLACEMENTS))
            else:
                others = sorted({m.group() for m in tokens if m.group()[:1].isalpha()})
                new = draw(st.sampled_from(others + [b"nowhere", b"true", b"null"]))
            text = text[:token.start()] + new + text[token.end():]
        elif kind == "truncate":
            text = text[:draw(st.integers(0, len(text)))]
        elif kind == "flip byte":
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + bytes([text[i] ^ (1 << draw(st.integers(0, 7)))]) + text[i + 1:]
        elif kind == "insert bytes":
            i = draw(st.integers(0, len(text)))
            text = text[:i] + draw(st.binary(min_size=1, max_size=4)) + text[i:]
        else:
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
    return text


_DIAGNOSTIC = re.compile(r"[^\n]*?(:\d+:\d+)?: (error|warning|note): \S")
_LONG_RUN = re.compile(rb"iterations\W+[0-9.eE+]{5,}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_specs(), as_json=st.booleans())
def test_mutated_specs_end_in_a_message_not_a_traceback(tmp_path_factory, text, as_json):
    # a mutation may ask for 10**5+ optimization steps: a long run, not a hang
    assume(not _LONG_RUN.search(text))
    path = tmp_path_factory.mktemp("mutated") / ("spec.json" if as_json else "spec.yaml")
    path.write_bytes(text)
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["--format", "json", str(path)])
    elapsed = time.perf_counter() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2, 3), result.output
    assert "Traceback" not in result.output
    if result.exit_code:
        assert result.stderr.startswith(str(path)), result.stderr
        assert all(_DIAGNOSTIC.match(line) for line in result.stderr.splitlines()), result.stderr
        if '"stop": "diverged"' not in result.stdout:  # a diverged run still reports its finite rows
            (report,) = [json.loads(line) for line in result.stdout.splitlines()]  # the errors, for programs
            assert report["spec"] == str(path) and report["exit_code"] == result.exit_code
            assert len(report["errors"]) == sum(": error: " in line for line in result.stderr.splitlines())
    assert elapsed < 5, f"{elapsed:.1f} s"


# --------------------------------------------------------------------------
# 3. Raw bytes through the fuzz target (bounded)

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=512), mutated_specs(),
                      st.text(alphabet="{}[]:,-?&*!|>'\"# \n\tabxyfgin01.e", max_size=200).map(str.encode)))
def test_fuzz_target_on_raw_bytes(data):
    started = time.perf_counter()
    outcome = check_input(data, guess_format(data))
    assert outcome in ("ok", "spec", "numerical")
    assert time.perf_counter() - started < 5


def test_fuzz_target_accepts_and_refuses_as_it_should():
    assert check_input((ROOT / "circuits" / "neuron.yaml").read_bytes()) == "ok"
    assert check_input(b"inputs: {x: 1}\ngates: {f: {op: log, in: [x]}}\n") == "ok"
    assert check_input(b"inputs: {x: 0}\ngates: {f: {op: log, in: [x]}}\n") == "numerical"
    assert check_input(b"- 1") == "spec"
    assert check_input(b'{"inputs": {"x": 1}, "gates": {}}', "json") == "spec"
    with pytest.raises(SpecError):  # the library raises what the target classifies
        load_spec_text("- 1")
    assert issubclass(NumericalError, Exception)


def _is_kink(op: str, args: tuple) -> bool:
    kink = OPS[op].kink
    return bool(kink and kink(args))
