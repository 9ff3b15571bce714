"""Recorded spans and gaps of one stream over a window: what the timeline shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigil.domain.segment import Gap, Segment

# Two segments closer than this are one recording (timestamps are rounded to frames).
JOIN_TOLERANCE_US = 250_000


@dataclass(frozen=True, slots=True)
class Span:
    start_us: int
    end_us: int
    segment_count: int


@dataclass(frozen=True, slots=True)
class TimelineGap:
    start_us: int
    end_us: int
    cause: str


def recorded_spans(segments: Iterable[Segment], tolerance_us: int = JOIN_TOLERANCE_US) -> list[Span]:
    """Merge segments (any order) into gap-free spans."""
    spans: list[Span] = []
    for seg in sorted(segments, key=lambda s: s.start_us):
        if spans and seg.start_us <= spans[-1].end_us + tolerance_us:
            last = spans[-1]
            spans[-1] = Span(last.start_us, max(last.end_us, seg.end_us), last.segment_count + 1)
        else:
            spans.append(Span(seg.start_us, seg.end_us, 1))
    return spans


def gaps_between(spans: Sequence[Span], known_gaps: Iterable[Gap], start_us: int, end_us: int) -> list[TimelineGap]:
    """The holes in ``[start_us, end_us)`` not covered by ``spans``, each with the cause recorded for it
    (the recorded gap that overlaps it most), or ``unknown``."""
    holes: list[tuple[int, int]] = []
    cursor = start_us
    for span in spans:
        if span.end_us <= cursor:
            continue
        if span.start_us > cursor:
            holes.append((cursor, min(span.start_us, end_us)))
        cursor = max(cursor, span.end_us)
        if cursor >= end_us:
            break
    if cursor < end_us:
        holes.append((cursor, end_us))
    gaps = list(known_gaps)
    result: list[TimelineGap] = []
    for hole_start, hole_end in holes:
        if hole_end <= hole_start:
            continue
        best, best_overlap = "unknown", 0
        for gap in gaps:
            gap_end = gap.end_us if gap.end_us is not None else end_us
            overlap = min(hole_end, gap_end) - max(hole_start, gap.start_us)
            if overlap > best_overlap:
                best, best_overlap = str(gap.cause), overlap
        result.append(TimelineGap(hole_start, hole_end, best))
    return result
