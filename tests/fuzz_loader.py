"""Fuzz target: arbitrary bytes through everything a spec file goes through.

One input is run the way `circuit-run --check --format json` runs a file:
bytes -> decode -> load (YAML or JSON) -> validate -> compile -> forward /
backward -> optimization -> checks -> every report format. The only
acceptable outcomes are a result, a `SpecError` whose every line reads
`FILE[:LINE:COL]: error: MESSAGE`, or a `NumericalError` naming a gate.
Anything else (another exception, a message that cannot be printed as
UTF-8) is a crash. Optimizations are capped at a few hundred steps so a
fuzzed `iterations: 999999999` is not mistaken for a hang.

Run it for a long time with atheris (see docs/fuzzing.md)::

    pip install atheris
    python tests/fuzz_loader.py -max_total_time=300 -max_len=4096 tests/corpus/

The test suite runs the same `check_input` under hypothesis for a bounded
time (tests/test_properties.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from runner.present import csv_output, json_output, tables  # noqa: E402
from runner.errors import NumericalError, SpecError  # noqa: E402
from runner.limits import Limits
from runner.loading.document import load_text
from runner.loading.source import decode  # noqa: E402
from runner.results.run import run_spec  # noqa: E402
from runner.spec.validate import validate  # noqa: E402

# Small limits keep each input fast; they are part of what is fuzzed.
LIMITS = Limits(max_bytes=1 << 20, max_depth=64, max_alias_nodes=2_000)
MAX_STEPS = 200
_LINE = re.compile(r"[^\n]*?(:\d+:\d+)?: error: \S")


def check_input(data: bytes, fmt: str = "yaml") -> str:
    """Run one input; return 'ok', 'spec' or 'numerical', or raise on a bug."""
    source = f"fuzz.{fmt}"
    try:
        text = decode(data, source, LIMITS)
        spec = validate(load_text(text, source, LIMITS, fmt=fmt))
        if spec.optimize is not None and spec.optimize.iterations > MAX_STEPS:
            spec = spec.model_copy(update={"optimize": spec.optimize.model_copy(
                update={"iterations": MAX_STEPS})})
        result = run_spec(spec, check=spec.expect is not None, numerical_h=1e-6)
        json_output.render_json(result)
        csv_output.render_csv(result)
        tables.render_table(result)
        if result.check is not None:
            tables.render_check(source, result.check)
        return "ok"
    except SpecError as err:
        lines = err.lines()
        assert lines, "a SpecError without a problem"
        for line in lines:
            assert line.startswith(source) and _LINE.match(line), line
            line.encode("utf-8")  # must be printable
        return "spec"
    except NumericalError as err:
        message = str(err)
        assert f"gate '{err.gate}'" in message, message
        message.encode("utf-8")
        return "numerical"


def guess_format(data: bytes) -> str:
    """JSON for what starts like a JSON object (as for standard input), else YAML."""
    return "json" if data.lstrip().startswith(b"{") else "yaml"


def _atheris_main() -> None:  # pragma: no cover - needs atheris
    import atheris

    def one(data: bytes) -> None:
        check_input(data, guess_format(data))

    atheris.instrument_all()
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":  # pragma: no cover
    _atheris_main()
