"""circuits/data/moons.csv: the shipped data set is the one its recipe makes."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from runner.loading.csv_reader import read_csv

ROOT = Path(__file__).resolve().parents[2]
MOONS = ROOT / "circuits" / "data" / "moons.csv"


def recipe():
    """benchmarks/make_moons.py, which needs numpy."""
    pytest.importorskip("numpy")
    spec = importlib.util.spec_from_file_location("make_moons", ROOT / "benchmarks" / "make_moons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_moons_has_100_points_half_on_each_moon():
    table = read_csv(MOONS, max_bytes=1 << 20, columns=["x0", "x1", "y"])
    assert table.columns == ["x0", "x1", "y"] and len(table.rows) == 100
    labels = [row[2] for row in table.rows]
    assert labels.count(-1.0) == 50 and labels.count(1.0) == 50


def test_each_point_lies_near_its_half_circle():
    """Upper moon: radius 1 around (0, 0), y >= 0; lower: radius 1 around (1, 0.5), y <= 0.5;
    noise of 0.1 per coordinate moves a point far less than 0.4 from its circle."""
    for x0, x1, label in read_csv(MOONS, max_bytes=1 << 20).rows:
        cx, cy, side = (0.0, 0.0, 1) if label == -1 else (1.0, 0.5, -1)
        assert abs(math.hypot(x0 - cx, x1 - cy) - 1.0) < 0.4
        assert side * (x1 - cy) > -0.4


def test_the_file_is_what_make_moons_writes():
    module = recipe()
    assert MOONS.read_text(encoding="utf-8") == module.csv_text(*module.make_moons(100, 0.1, 1337))


def test_make_moons_follows_the_recipe_without_noise():
    """Without noise the points are exactly the two half circles at evenly spaced angles."""
    module = recipe()
    points, labels = module.make_moons(6, 0.0, 0)
    found = sorted((round(x, 12), round(y, 12), label) for (x, y), label in zip(points.tolist(), labels.tolist()))
    angles = [0.0, math.pi / 2, math.pi]
    expected = [(round(math.cos(t), 12), round(math.sin(t), 12), -1) for t in angles]
    expected += [(round(1 - math.cos(t), 12), round(1 - math.sin(t) - 0.5, 12), 1) for t in angles]
    assert found == sorted(expected)
