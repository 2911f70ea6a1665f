"""`python -m runner SPEC...` is the same as `circuit-run SPEC...`."""

from .cli import command

command()
