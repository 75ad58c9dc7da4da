"""``python -m petitionscan``: the same command line as ``petitionscan``."""

from petitionscan.cli import main

if __name__ == "__main__":
    main(prog_name="petitionscan")
