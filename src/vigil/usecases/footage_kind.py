"""Is a segment event footage? An event of the scene (motion, objects, a rule) in it or within the margin around
it. Lifecycle and copy rules by kind (``footage: events | continuous``) read the answer, which is recorded on the
segment once its margin has passed, so each segment is looked at once (ADR 0016)."""

from __future__ import annotations

from vigil.domain.segment import Segment
from vigil.domain.tiers import SCENE_EVENT_TYPES
from vigil.ports import Catalog, SegmentCopyStore

SETTLE_US = 60_000_000  # an event may be catalogued a little after its footage: wait this long before recording


def event_footage(catalog: Catalog, copies: SegmentCopyStore, seg: Segment, margin_us: int, now_us: int) -> bool:
    if seg.event_footage is not None:
        return seg.event_footage
    found = catalog.events(
        camera_id=seg.camera_id,
        types=SCENE_EVENT_TYPES,
        start_us=seg.start_us - margin_us,
        end_us=seg.end_us + margin_us,
        limit=1,
    )
    if seg.end_us + margin_us + SETTLE_US <= now_us:
        copies.classify(seg.id, bool(found))
    return bool(found)


def classify_due(catalog: Catalog, copies: SegmentCopyStore, margin_us: int, now_us: int, limit: int = 2000) -> int:
    """Record the kind of up to ``limit`` segments whose margin has passed; how many were recorded."""
    due = copies.unclassified(now_us - margin_us - SETTLE_US, limit)
    for seg in due:
        event_footage(catalog, copies, seg, margin_us, now_us)
    return len(due)
