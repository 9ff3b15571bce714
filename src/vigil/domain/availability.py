"""Availability as arithmetic on time intervals: how much of a period a camera recorded, how much of it its picture
was healthy, its planned and unplanned downtime, its outages, MTBF and MTTR. Pure: no I/O, no clock reads; times are
UTC microseconds, intervals half-open ``[start, end)``.

For one camera over ``[start, end)``:

- **observed**: from the later of ``start`` and the camera's first recorded segment to ``end`` (a camera is not
  down before it was ever recorded);
- **down**: the union of its main stream's gaps (an open gap lasts until ``end``);
- **planned**: the part of down inside a maintenance window (placed at run time, planned from a ticket, or recurring
  in ``alarms.maintenance``), or in a gap caused on purpose (``reconfigured``, ``disabled``); **unplanned** the rest;
- **faulty**: the union of its picture-fault events, outside down (a picture recorded but not usable);
- **recording share** = (observed - down) / observed; **healthy share** = (observed - down - faulty) / observed;
- an **outage** is a stretch without recording (touching gaps joined) that is not wholly planned;
  **MTTR** = unplanned / outages, **MTBF** = (observed - unplanned) / outages (None without outages).

Figures of several cameras (a site, a switch and what depends on it) are the sums of theirs, shares of the sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vigil.domain.rules import Schedule
from vigil.domain.timeutil import US_PER_S, us_from_datetime

Span = tuple[int, int]
PLANNED_CAUSES = frozenset({"reconfigured", "disabled"})


def merged(spans: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` as sorted, disjoint spans (touching ones joined; empty ones dropped)."""
    out: list[list[int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def clipped(spans: Iterable[Span], start: int, end: int) -> list[Span]:
    return [(max(a, start), min(b, end)) for a, b in spans if b > start and a < end]


def total(spans: Iterable[Span]) -> int:
    return sum(b - a for a, b in spans)


def intersection(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """The intersection of two sorted, disjoint span lists (a linear sweep)."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def difference(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """``a`` minus ``b``, both sorted and disjoint."""
    out: list[Span] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] <= cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] < hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            k += 1
        if cur < hi:
            out.append((cur, hi))
    return out


@dataclass(frozen=True, slots=True)
class GapSpan:
    start_us: int
    end_us: int | None  # None: still open
    cause: str


@dataclass(frozen=True, slots=True)
class CameraHistory:
    """What availability is computed from, for one camera."""

    camera_id: str
    first_recorded_us: int | None
    gaps: Sequence[GapSpan] = ()
    faults: Sequence[tuple[int, int | None]] = ()  # picture-fault events (end None: still open)
    windows: Sequence[Span] = ()  # planned maintenance


@dataclass(frozen=True, slots=True)
class Availability:
    observed_us: int = 0
    down_us: int = 0
    planned_us: int = 0
    faulty_us: int = 0
    outages: int = 0

    @property
    def unplanned_us(self) -> int:
        return self.down_us - self.planned_us

    @property
    def recording_us(self) -> int:
        return self.observed_us - self.down_us

    @property
    def healthy_us(self) -> int:
        return self.observed_us - self.down_us - self.faulty_us

    @property
    def recording_share(self) -> float | None:
        return self.recording_us / self.observed_us if self.observed_us else None

    @property
    def healthy_share(self) -> float | None:
        return self.healthy_us / self.observed_us if self.observed_us else None

    @property
    def mttr_s(self) -> float | None:
        return self.unplanned_us / self.outages / US_PER_S if self.outages else None

    @property
    def mtbf_s(self) -> float | None:
        return (self.observed_us - self.unplanned_us) / self.outages / US_PER_S if self.outages else None

    def __add__(self, other: Availability) -> Availability:
        return Availability(
            self.observed_us + other.observed_us,
            self.down_us + other.down_us,
            self.planned_us + other.planned_us,
            self.faulty_us + other.faulty_us,
            self.outages + other.outages,
        )


def availability(h: CameraHistory, start_us: int, end_us: int) -> Availability:
    """One camera's figures over ``[start_us, end_us)``."""
    if h.first_recorded_us is None or end_us <= start_us:
        return Availability()
    begin = max(start_us, h.first_recorded_us)
    if begin >= end_us:
        return Availability()
    gaps = [(g.start_us, g.end_us if g.end_us is not None else end_us) for g in h.gaps]
    down = merged(clipped(gaps, begin, end_us))
    on_purpose = [s for g, s in zip(h.gaps, gaps, strict=True) if g.cause in PLANNED_CAUSES]
    planned_cover = merged([*clipped(h.windows, begin, end_us), *clipped(on_purpose, begin, end_us)])
    planned = intersection(down, planned_cover)
    faults = merged(clipped(((a, b if b is not None else end_us) for a, b in h.faults), begin, end_us))
    faulty = difference(faults, down)
    outages = _outages(down, planned)
    return Availability(end_us - begin, total(down), total(planned), total(faulty), outages)


def _outages(down: Sequence[Span], planned: Sequence[Span]) -> int:
    """How many of the ``down`` spans are not wholly covered by ``planned`` (pieces of them, sorted)."""
    count, j = 0, 0
    for a, b in down:
        covered = 0
        while j < len(planned) and planned[j][1] <= b:
            if planned[j][0] >= a:
                covered += planned[j][1] - planned[j][0]
            j += 1
        count += covered < b - a
    return count


@dataclass(frozen=True, slots=True)
class Bucket:
    start_us: int
    end_us: int
    label: str  # 2026-12-07, 2026-W49, 2026-12


@dataclass
class Series:
    """Figures per bucket (day, week, month) and over the whole period."""

    whole: Availability
    buckets: list[tuple[Bucket, Availability]] = field(default_factory=list)


def buckets(start_us: int, end_us: int, by: str, timezone: str) -> list[Bucket]:
    """The days, weeks (Monday first) or months of the site's time zone that cut ``[start_us, end_us)``; the first
    and last are cut to the period."""
    if by not in ("day", "week", "month"):
        raise ValueError(f"by: {by!r} is not day, week or month")
    tz = ZoneInfo(timezone)
    day = datetime.fromtimestamp(start_us / US_PER_S, tz).date()
    if by == "week":
        day -= timedelta(days=day.weekday())
    elif by == "month":
        day = day.replace(day=1)
    out: list[Bucket] = []
    while True:
        begin = us_from_datetime(datetime(day.year, day.month, day.day, tzinfo=tz))
        if begin >= end_us:
            return out
        if by == "day":
            nxt, label = day + timedelta(days=1), day.isoformat()
        elif by == "week":
            iso = day.isocalendar()
            nxt, label = day + timedelta(days=7), f"{iso.year}-W{iso.week:02d}"
        else:
            nxt, label = day.replace(year=day.year + (day.month == 12), month=day.month % 12 + 1), day.strftime("%Y-%m")
        finish = us_from_datetime(datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz))
        a, b = max(begin, start_us), min(finish, end_us)
        if b > a:
            out.append(Bucket(a, b, label))
        day = nxt


def series(histories: Sequence[CameraHistory], start_us: int, end_us: int, by: str | None, timezone: str) -> Series:
    """The cameras' summed figures over the period and, with ``by``, per bucket."""
    return summed([one_series(h, start_us, end_us, by, timezone) for h in histories], start_us, end_us, by, timezone)


def one_series(h: CameraHistory, start_us: int, end_us: int, by: str | None, timezone: str) -> Series:
    out = Series(availability(h, start_us, end_us))
    if by:
        out.buckets = [(b, availability(h, b.start_us, b.end_us)) for b in buckets(start_us, end_us, by, timezone)]
    return out


def summed(parts: Sequence[Series], start_us: int, end_us: int, by: str | None, timezone: str) -> Series:
    """Several cameras' series added up (their buckets are the same)."""
    whole = Availability()
    for p in parts:
        whole = whole + p.whole
    out = Series(whole)
    if by:
        for k, bucket in enumerate(buckets(start_us, end_us, by, timezone)):
            total_ = Availability()
            for p in parts:
                total_ = total_ + p.buckets[k][1]
            out.buckets.append((bucket, total_))
    return out


def recurring(schedules: Sequence[Schedule], start_us: int, end_us: int, timezone: str) -> list[Span]:
    """The spans a recurring window (armed hours, local time) covers within ``[start_us, end_us)``; a night that
    runs past midnight belongs to the day it starts."""
    tz = ZoneInfo(timezone)
    day = datetime.fromtimestamp(start_us / US_PER_S, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_us / US_PER_S, tz).date()
    spans: list[Span] = []
    while day <= last:
        for s in schedules:
            if day.weekday() not in s.days:
                continue
            begin = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=s.start_min)
            length = s.end_min - s.start_min if s.end_min > s.start_min else 1440 - s.start_min + s.end_min
            a = us_from_datetime(begin)
            spans.append((a, a + length * 60 * US_PER_S))
        day += timedelta(days=1)
    return merged(clipped(spans, start_us, end_us))
