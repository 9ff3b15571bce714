"""Plain-language pieces for event descriptions."""

from __future__ import annotations


def duration_words(seconds: float) -> str:
    """``3 min 12 s``, ``1 h 5 min``, ``4.2 s``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
