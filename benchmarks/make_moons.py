"""Write a "two moons" data set as CSV: scikit-learn's make_moons recipe, without scikit-learn.

    python benchmarks/make_moons.py                         # circuits/data/moons.csv
    python benchmarks/make_moons.py -n 100000 -o big.csv    # the benchmark's big variant

The recipe (sklearn.datasets.make_moons, shuffle=True): n//2 points on the upper half
circle (cos t, sin t) and the rest on the lower one, shifted, (1 - cos t, 1 - sin t - 0.5),
t evenly spaced over [0, pi] on each; the rows shuffled; then gaussian noise of standard
deviation `noise` added to every coordinate. Labels are -1 (upper moon) and +1 (lower),
as micrograd's demo notebook makes them (`y*2 - 1`).

The random numbers come from numpy's legacy `RandomState(seed)` in scikit-learn's order
(one shuffle of the row indices, then the noise), so the default seed 1337 gives the very
points of micrograd's demo, which calls `np.random.seed(1337)` and then
`make_moons(n_samples=100, noise=0.1)`. Columns: x0, x1, y; coordinates rounded to 6 decimals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "circuits" / "data" / "moons.csv"


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 1337):
    """(points, labels): an (n, 2) float array and n labels in {-1, +1}."""
    import numpy as np

    random = np.random.RandomState(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    x = np.append(np.cos(t_out), 1 - np.cos(t_in))
    y = np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)
    points = np.vstack([x, y]).T
    labels = np.hstack([np.zeros(n_out, dtype=int), np.ones(n_in, dtype=int)])
    order = np.arange(n_samples)
    random.shuffle(order)
    points, labels = points[order], labels[order]
    points = points + random.normal(scale=noise, size=points.shape)
    return points, labels * 2 - 1


def csv_text(points, labels) -> str:
    rows = [f"{x0:.6f},{x1:.6f},{label:d}" for (x0, x1), label in zip(points.tolist(), labels.tolist())]
    return "x0,x1,y\n" + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--samples", type=int, default=100, help="rows (default 100)")
    parser.add_argument("--noise", type=float, default=0.1, help="noise's standard deviation (0.1)")
    parser.add_argument("--seed", type=int, default=1337, help="numpy RandomState seed (1337)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    args = parser.parse_args(argv)
    points, labels = make_moons(args.samples, args.noise, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(csv_text(points, labels), encoding="utf-8")
    print(f"wrote {args.samples:,} rows to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
