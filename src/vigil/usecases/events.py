"""One event with the footage that covers it: the recorded segments from a little before it began to a little
after it ended (pre- and post-roll), and the range to ask a clip for."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.domain.errors import NotFound
from vigil.domain.records import EventRecord
from vigil.domain.segment import Segment
from vigil.ports import Catalog

PRE_ROLL_US = 5_000_000
POST_ROLL_US = 5_000_000


@dataclass(frozen=True, slots=True)
class EventFootage:
    event: EventRecord
    start_us: int  # the event's start minus the pre-roll
    end_us: int  # its end (or now, while it goes on) plus the post-roll, never after now
    segments: list[Segment]  # recorded segments of the camera's main stream that overlap [start_us, end_us)


def event_footage(catalog: Catalog, event_id: int, now_us: int) -> EventFootage:
    event = catalog.event(event_id)
    if event is None:
        raise NotFound(f"no event with id {event_id}")
    start = event.start_us - PRE_ROLL_US
    end = min(now_us, (event.end_us if event.end_us is not None else now_us) + POST_ROLL_US)
    end = max(end, event.start_us + 1)
    segments = catalog.segments(event.camera_id, "main", start, end) if event.camera_id else []
    return EventFootage(event, start, end, segments)
