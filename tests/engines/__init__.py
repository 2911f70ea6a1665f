"""Scalar autodiff engines that the `--engine` tests run: a correct one, one
with the classic mistakes, micrograd-like ones that break in other ways.
Used only by the tests (tests/ is on the import path)."""
