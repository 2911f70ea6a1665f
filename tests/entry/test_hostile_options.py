"""Hostile command lines (issue 17 and the CLI bugs of issue 12): each ends in
a result or a clear error with its documented exit code, never a traceback,
and nothing is written where it must not be."""

from __future__ import annotations

import json

import pytest

from runner.errors import EXIT_SPEC_ERROR

SQUARE = "inputs: {x: 3}\ngates: {f: {op: square, in: [x]}}\n"


# ---- non-finite option values (issue 17, item 4) -----------------------------------

@pytest.mark.parametrize("option", ["--gradcheck-eps", "--gradcheck-atol", "--gradcheck-rtol", "--numerical-h",
                                    "--step-size", "--tolerance"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "infinity"])
def test_non_finite_option_values_are_usage_errors(cli, write, option, value):
    path = write("s.yaml", SQUARE)
    result = cli("--gradcheck", "--numerical", "--format", "json", f"{option}={value}", path)
    assert result.exit_code == EXIT_SPEC_ERROR
    assert result.stdout == ""
    assert f"Invalid value for '{option}': must be a finite number" in result.stderr


@pytest.mark.parametrize("option,value,fragment", [
    ("--gradcheck-eps", "0", "greater than 0"), ("--numerical-h", "-1e-6", "greater than 0"),
    ("--gradcheck-atol", "-1", "at least 0"), ("--gradcheck-rtol", "abc", "is not a number")])
def test_out_of_range_option_values_are_usage_errors(cli, write, option, value, fragment):
    result = cli("--gradcheck", f"{option}={value}", write("s.yaml", SQUARE))
    assert result.exit_code == EXIT_SPEC_ERROR and fragment in result.stderr


def test_zero_tolerances_are_still_allowed(cli, write):
    (doc,) = cli.json("--gradcheck", "--gradcheck-atol", "0", "--gradcheck-rtol", "0.5", write("s.yaml", SQUARE))
    assert doc["gradcheck"]["atol"] == 0.0 and doc["gradcheck"]["rtol"] == 0.5
