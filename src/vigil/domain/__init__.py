"""Pure domain: dataclasses and functions. Standard library only; no I/O, no clock reads."""
