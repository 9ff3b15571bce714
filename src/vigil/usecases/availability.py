"""Availability per camera, per site and per piece of equipment (the cameras that depend on it), over any period,
per day, week or month in the site's time zone: computed exactly from the catalog's gaps, picture faults and
maintenance windows (``vigil.domain.availability``), and as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vigil.config.models import Config
from vigil.domain.availability import (
    Availability,
    CameraHistory,
    Series,
    Span,
    clipped,
    difference,
    merged,
    one_series,
    recurring,
    summed,
)
from vigil.domain.equipment import Graph, downstream
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.domain.timeutil import iso_from_us
from vigil.ports import Catalog, Clock, HistoryReader, TicketStore

MAX_SPAN_US = 400 * 86_400 * 1_000_000  # a little over a year


@dataclass(frozen=True, slots=True)
class Figures:
    """One subject's (a camera, a site, a piece of equipment) availability over a period."""

    subject: str  # camera:<id>, site:<name>, equipment:<id>
    cameras: tuple[str, ...]
    series: Series


@dataclass(frozen=True, slots=True)
class StripPiece:
    """One stretch of a camera's health strip."""

    track: str  # recording, gap, fault, maintenance, ticket
    start_us: int
    end_us: int
    label: str  # the gap's cause, the fault's kind, the window's reason, the ticket's kind
    ref: str = ""  # the event id, the ticket id


class AvailabilityDesk:
    def __init__(
        self,
        history: HistoryReader,
        config: Callable[[], Config],
        graph: Callable[[], Graph],
        catalog: Catalog | None = None,
        tickets: TicketStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.history, self.config, self.graph = history, config, graph
        self.catalog, self.tickets, self.clock = catalog, tickets, clock

    def _until_now(self, start_us: int, end_us: int) -> int:
        """A period reaching into the future is counted up to now (nothing is known of what has not happened)."""
        if self.clock is None:
            return end_us
        return min(end_us, max(self.clock.now_us(), start_us))

    def strip(self, camera_id: str, start_us: int, end_us: int) -> list[StripPiece]:
        """The camera's health strip over the period: recording, gaps (with their cause), picture faults by kind,
        maintenance windows and tickets, each clipped to the period."""
        check_period(start_us, end_us, None)
        end_us = self._until_now(start_us, end_us)
        if self.config().camera(camera_id) is None:
            raise NotFound(f"no camera with id {camera_id!r}")
        [h] = self.histories([camera_id], start_us, end_us)
        out: list[StripPiece] = []
        begin = max(start_us, h.first_recorded_us) if h.first_recorded_us is not None else end_us
        gaps = [(g.start_us, g.end_us if g.end_us is not None else end_us) for g in h.gaps]
        down = merged(clipped(gaps, begin, end_us))
        out += [StripPiece("recording", a, b, "") for a, b in difference([(begin, end_us)], down) if b > a]
        for g, (a, b) in zip(h.gaps, gaps, strict=True):
            if b > start_us and a < end_us:
                out.append(StripPiece("gap", max(a, start_us), min(b, end_us), g.cause))
        if self.catalog is not None:
            for e in self.catalog.events(
                camera_id=camera_id, types=["fault", "stream_fault"], start_us=start_us, end_us=end_us, limit=5000
            ):
                stop = e.end_us if e.end_us is not None else end_us
                out.append(
                    StripPiece(
                        "fault", max(e.start_us, start_us), min(stop, end_us), str(e.data.get("fault", "")), str(e.id)
                    )
                )
        out += [StripPiece("maintenance", a, b, "") for a, b in merged(clipped(h.windows, start_us, end_us))]
        if self.tickets is not None:
            for t in self.tickets.tickets(camera_id=camera_id, opened_until_us=end_us, limit=1000):
                stop = t.closed_us or t.verified_us or end_us
                if stop > start_us:
                    out.append(
                        StripPiece("ticket", max(t.opened_us, start_us), min(stop, end_us), t.kind.value, str(t.id))
                    )
        return sorted(out, key=lambda p: (p.start_us, p.track))

    def histories(self, cameras: Sequence[str], start_us: int, end_us: int) -> list[CameraHistory]:
        """Everything the figures of ``cameras`` over the period are made of (three queries, whatever the count)."""
        config = self.config()
        first = self.history.first_recorded()
        gaps = self.history.gaps(start_us, end_us, cameras)
        faults = self.history.faults(start_us, end_us, cameras)
        placed = self.history.windows(start_us, end_us)
        recurring_windows = [
            (frozenset(m.cameras), recurring(m.window().schedules, start_us, end_us, config.site.timezone))
            for m in config.alarms.maintenance
        ]
        out = []
        for camera in cameras:
            windows: list[Span] = [span for ids, span in placed if not ids or camera in ids]
            for ids, spans in recurring_windows:
                if not ids or camera in ids:
                    windows.extend(spans)
            out.append(CameraHistory(camera, first.get(camera), gaps.get(camera, []), faults.get(camera, []), windows))
        return out

    def figures(
        self,
        start_us: int,
        end_us: int,
        *,
        cameras: Sequence[str] | None = None,
        site: str | None = None,
        equipment: str | None = None,
        by: str | None = None,
        each: bool = False,
    ) -> list[Figures]:
        """The figures of the cameras named (every camera when none is), of a site, or of what depends on a piece
        of equipment; with ``each``, one set per camera as well as the whole."""
        check_period(start_us, end_us, by)
        end_us = self._until_now(start_us, end_us)
        config = self.config()
        known = [c.id for c in config.cameras]
        if equipment is not None:
            below = downstream(self.graph(), equipment) | {equipment}
            chosen = [c for c in known if c in below]
            subject = f"equipment:{equipment}"
            if not chosen and equipment not in self.graph():
                raise NotFound(f"no equipment with id {equipment!r}")
        elif site is not None:
            chosen = [c.id for c in config.cameras if c.site == site]
            subject = f"site:{site}"
            if not chosen:
                raise NotFound(f"no camera at site {site!r}")
        else:
            chosen = list(cameras) if cameras is not None else known
            unknown = sorted(set(chosen) - set(known))
            if unknown:
                raise NotFound(f"no camera with id {unknown[0]!r}")
            subject = f"camera:{chosen[0]}" if len(chosen) == 1 else "cameras"
        histories = self.histories(chosen, start_us, end_us)
        tz = config.site.timezone
        parts = [one_series(h, start_us, end_us, by, tz) for h in histories]
        out = [Figures(subject, tuple(chosen), summed(parts, start_us, end_us, by, tz))]
        if each and len(chosen) > 1:
            out += [Figures(f"camera:{h.camera_id}", (h.camera_id,), p) for h, p in zip(histories, parts, strict=True)]
        return out


def check_period(start_us: int, end_us: int, by: str | None) -> None:
    if end_us <= start_us:
        raise InvalidRequest("end: must be after start")
    if end_us - start_us > MAX_SPAN_US:
        raise InvalidRequest("the period may be at most 400 days")
    if by is not None and by not in ("day", "week", "month"):
        raise InvalidRequest(f"by: {by!r} is not day, week or month")


COLUMNS = (
    "subject", "period", "start", "end", "observed_s", "recording_s", "recording_share", "healthy_s", "healthy_share",
    "planned_down_s", "unplanned_down_s", "outages", "mtbf_s", "mttr_s",
)  # fmt: skip


def row(subject: str, label: str, start_us: int, end_us: int, a: Availability) -> list[object]:
    def share(v: float | None) -> str:
        return "" if v is None else f"{v:.6f}"

    def seconds(v: float | None) -> str:
        return "" if v is None else f"{v:.1f}"

    return [
        subject,
        label,
        iso_from_us(start_us),
        iso_from_us(end_us),
        seconds(a.observed_us / 1e6),
        seconds(a.recording_us / 1e6),
        share(a.recording_share),
        seconds(a.healthy_us / 1e6),
        share(a.healthy_share),
        seconds(a.planned_us / 1e6),
        seconds(a.unplanned_us / 1e6),
        a.outages,
        seconds(a.mtbf_s),
        seconds(a.mttr_s),
    ]


def figures_csv(found: Sequence[Figures], start_us: int, end_us: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for f in found:
        writer.writerow(row(f.subject, "whole", start_us, end_us, f.series.whole))
        for bucket, a in f.series.buckets:
            writer.writerow(row(f.subject, bucket.label, bucket.start_us, bucket.end_us, a))
    return out.getvalue()
