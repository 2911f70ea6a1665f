"""`python -m runner SPEC...` is the same as `circuit-run SPEC...`."""

from .cli import main

main(prog_name="circuit-run")
