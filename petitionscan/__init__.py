"""petitionscan: turn paper petitions into counted, deduplicated signatures, offline."""

__version__ = "0.1.0"
