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


def one_of(label: str) -> str:
    """``a person``, ``an umbrella``, ``a traffic light`` (labels use ``_`` for spaces)."""
    word = label.replace("_", " ")
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def many_of(label: str) -> str:
    """``people``, ``cars``, ``buses``."""
    word = label.replace("_", " ")
    if word == "person":
        return "people"
    return word + ("es" if word.endswith(("s", "sh", "ch")) else "s")
