"""The optimization table for people: which trainable inputs it shows
(--columns), and a layout that stays within 120 characters."""

from __future__ import annotations

import pytest

# f = (w0 + ... + w{n-1})^2 minimized: every weight has the same gradient 2s,
# s = 0.1 + 0.2 + ... (by hand: 9 weights, s = 4.5, f = 20.25, grad 9)


def _weights(count: int, name: str = "w") -> str:
    names = [f"{name}{i}" for i in range(count)]
    lines = ["inputs:"] + [f"  {n}: {0.1 * (i + 1):.1f}" for i, n in enumerate(names)]
    lines += ["gates:", "  s: {op: add, in: [" + ", ".join(names) + "]}", "  f: {op: square, in: [s]}",
              "optimize: {goal: minimize, iterations: 3, step_size: 0.01}"]
    return "\n".join(lines) + "\n"


def _optimization_part(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("optimization:"))
    end = next(i for i, line in enumerate(lines) if "final output" in line)
    return lines[start:end]


def test_nine_inputs_fit_as_values_then_gradients(cli, write):
    """One table of 9 values and 9 gradients would be ~200 characters: it is
    split in two, every input shown, no line over 120."""
    part = _optimization_part(cli(write("nine.yaml", _weights(9))).stdout)
    assert "  values:" in part and "  gradients:" in part
    assert max(map(len, part[1:])) <= 120
    values = part[part.index("  values:") + 1].split()
    grads = part[part.index("  gradients:") + 1].split()
    assert values == ["iteration", "output", *[f"w{i}" for i in range(9)]]
    assert grads[:3] == ["iteration", "output", "grad"] and grads.count("grad") == 9
    first_grads = part[part.index("  gradients:") + 2].split()
    assert first_grads == ["0", "20.25"] + ["9"] * 9  # 2 * 4.5
    assert not any("trainable inputs shown" in line for line in part)


def test_a_narrow_table_stays_one_table(cli):
    from helpers import CIRCUITS

    part = _optimization_part(cli(str(CIRCUITS / "add-multiply.yaml")).stdout)
    assert part[1].split() == ["iteration", "output", "x", "y", "grad", "x", "grad", "y"]
    assert "  values:" not in part


def test_many_inputs_are_cut_to_fit_and_the_cut_is_said(cli, write):
    part = _optimization_part(cli(write("thirty.yaml", _weights(30, "weight_"))).stdout)
    assert max(map(len, part[1:])) <= 120
    note = next(line for line in part if "trainable inputs shown" in line)
    shown = int(note.split()[0])
    assert 1 <= shown < 30
    assert note == (f"  {shown} of 30 trainable inputs shown (--columns NAME,... to choose; "
                    "--format json or --trace FILE has them all)")
    values = part[part.index("  values:") + 1].split()
    assert values[2:] == [f"weight_{i}" for i in range(shown)]
    # one more column would not have fitted
    assert len(part[part.index("  gradients:") + 1]) + len("  grad weight_99") > 120


def test_columns_chooses_the_inputs_and_their_order(cli, write):
    part = _optimization_part(cli("--columns", "weight_29, weight_3", write("thirty.yaml", _weights(30, "weight_"))).stdout)
    assert part[1].split() == ["iteration", "output", "weight_29", "weight_3", "grad", "weight_29",
                               "grad", "weight_3"]
    assert part[2].split()[2:] == ["3", "0.4", "93", "93"]  # start values 3.0, 0.4; grad 2 * 46.5
    assert not any("trainable inputs shown" in line for line in part)


@pytest.mark.parametrize("name,fragment", [("w9", "--columns w9: not a trainable input"),
                                           ("s", "--columns s: not a trainable input"),
                                           ("w1x", "--columns w1x: not a trainable input (did you mean 'w1'?)")])
def test_columns_names_must_be_trainable_inputs(cli, write, name, fragment):
    result = cli("--columns", name, write("nine.yaml", _weights(9)))
    assert result.exit_code == 2 and fragment in result.stderr
