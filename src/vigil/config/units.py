"""Sizes in ``vigil.yaml``: ``500GB``, ``1.5 TiB``, ``2000000`` or an int."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)?\s*$", re.IGNORECASE)
_FACTORS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "p": 10**15,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
    "pi": 2**50,
}


def _parse_size(value: object) -> object:
    """Accept ``500GB``, ``1.5 TiB``, ``2000000`` or an int; leave anything else for pydantic to refuse."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"not a size: {value!r} (use bytes or a unit such as 500GB, 2TiB)")
        unit = (match.group(2) or "").lower().removesuffix("b")
        return int(float(match.group(1)) * _FACTORS[unit])
    return value


ByteSize = Annotated[int, BeforeValidator(_parse_size), Field(ge=0)]
