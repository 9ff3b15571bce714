"""Legal holds and the purpose limit. Pure: no I/O, no clock reads.

A **legal hold** is an order that keeps one camera's footage over a stretch of time past every retention rule:
while it is active (placed and not lifted), no segment overlapping it is deleted, whether by the age rule or by
the size rule (a segment partly inside a hold is kept whole). Exporting an evidence package places one per
camera; an admin places others by hand and lifts them. Both acts are written to the audit log.

The **purpose limit** (``cameras[].purpose.max_view_age_days``) is the other side: footage older than its purpose
allows may not be played back or exported at all, unless a hold covers it. Holds are what open it again, so a
look at old footage always follows an audited, reasoned act by an admin.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from vigil.domain.errors import InvalidRequest
from vigil.domain.retention import StoredSegment
from vigil.domain.timeutil import US_PER_DAY

MAX_REASON_CHARS = 2000


@dataclass(frozen=True, slots=True)
class LegalHold:
    id: int
    camera_id: str
    start_us: int  # the footage held: [start_us, end_us) of every stream of the camera
    end_us: int
    placed_us: int
    placed_by: str
    reason: str
    package_id: str | None = None  # the evidence package whose export placed it
    lifted_us: int | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.lifted_us is None

    def overlaps(self, camera_id: str, start_us: int, end_us: int) -> bool:
        return self.camera_id == camera_id and self.start_us < end_us and start_us < self.end_us


def check_hold(camera_id: str, start_us: int, end_us: int, by: str, reason: str) -> str:
    """The reason, trimmed; InvalidRequest for a hold without a camera, a range, a person or a reason."""
    why = reason.strip()
    if not camera_id.strip():
        raise InvalidRequest("camera: a legal hold is on one camera")
    if end_us <= start_us:
        raise InvalidRequest("the end of a legal hold must be after its start")
    if not by.strip():
        raise InvalidRequest("by: who places or lifts a legal hold must be named")
    if not why:
        raise InvalidRequest("reason: a legal hold needs a reason (the order, the case)")
    if len(why) > MAX_REASON_CHARS:
        raise InvalidRequest(f"reason: at most {MAX_REASON_CHARS} characters")
    return why


def _by_camera(holds: Iterable[LegalHold]) -> dict[str, list[tuple[int, int]]]:
    """Each camera's active holds as merged ``(start_us, end_us)`` intervals, in order."""
    raw: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hold in holds:
        if hold.active:
            raw[hold.camera_id].append((hold.start_us, hold.end_us))
    return {camera: _merge(spans) for camera, spans in raw.items()}


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlapping(spans: list[tuple[int, int]], start_us: int, end_us: int) -> bool:
    """Whether merged, ordered ``spans`` overlap ``[start_us, end_us)``."""
    at = bisect_right(spans, (end_us, end_us)) - 1  # the last span starting at or before end_us
    while at >= 0 and spans[at][0] >= end_us:
        at -= 1
    return at >= 0 and spans[at][1] > start_us


def mark_held(segments: Sequence[StoredSegment], holds: Iterable[LegalHold]) -> list[StoredSegment]:
    """The segments, each marked ``held`` when an active hold on its camera overlaps it."""
    spans = _by_camera(holds)
    if not spans:
        return list(segments)
    return [
        replace(seg, held=True)
        if not seg.held and seg.camera_id in spans and _overlapping(spans[seg.camera_id], seg.start_us, seg.end_us)
        else seg
        for seg in segments
    ]


def uncovered(camera_id: str, start_us: int, end_us: int, holds: Iterable[LegalHold]) -> list[tuple[int, int]]:
    """The parts of ``[start_us, end_us)`` of a camera that no active hold covers, in order."""
    parts: list[tuple[int, int]] = []
    cursor = start_us
    for hold_start, hold_end in _by_camera(holds).get(camera_id, []):
        if hold_end <= cursor:
            continue
        if hold_start >= end_us:
            break
        if hold_start > cursor:
            parts.append((cursor, hold_start))
        cursor = max(cursor, hold_end)
    if cursor < end_us:
        parts.append((cursor, end_us))
    return parts


def purpose_cutoff_us(now_us: int, max_view_age_days: float | None) -> int | None:
    """Footage that ended at or before this instant is older than its purpose allows (None: no limit)."""
    if max_view_age_days is None:
        return None
    return now_us - int(max_view_age_days * US_PER_DAY)


def beyond_purpose(
    camera_id: str,
    start_us: int,
    end_us: int,
    now_us: int,
    max_view_age_days: float | None,
    holds: Iterable[LegalHold],
) -> tuple[int, int] | None:
    """The first stretch of ``[start_us, end_us)`` older than the purpose limit and under no active hold; None
    when the whole range may be viewed."""
    cutoff = purpose_cutoff_us(now_us, max_view_age_days)
    if cutoff is None or start_us >= cutoff:
        return None
    parts = uncovered(camera_id, start_us, min(end_us, cutoff), holds)
    return parts[0] if parts else None
