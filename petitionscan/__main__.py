"""``python -m petitionscan``: the same command line as ``petitionscan``."""

from petitionscan.cli import main

main(prog_name="petitionscan")
