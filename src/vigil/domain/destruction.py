"""Destruction certificates (ADR 0017): what the deletion ledger says was destroyed in a period, summarised and
listed whole, signed with the site key and checked offline by ``verify_package.py`` like an evidence package. The
ledger's own chain is checked here too: each entry's hash covers its fields and the hash of the entry before it.
Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vigil.domain.records import LedgerEntry, ledger_entry_hash
from vigil.domain.timeutil import iso_from_us

FORMAT = "vigil-destruction/1"
LEDGER_FILE = "ledger.json"
EARLY_RULE = "early_deletion"  # footage destroyed before its time, by two people (an admin asks, an auditor approves)
PERIODS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Period:
    """``[start_us, end_us)`` in UTC, named as people say it: ``2026-11``, ``2026-W47``, ``2026-11-30``."""

    kind: str
    name: str
    start_us: int
    end_us: int


def _us(dt: datetime) -> int:
    return int(dt.timestamp()) * 1_000_000


def period_of(kind: str, at_us: int) -> Period:
    """The period of ``kind`` that holds the instant ``at_us``."""
    if kind not in PERIODS:
        raise ValueError(f"a period is a day, a week or a month, not {kind!r}")
    at = datetime.fromtimestamp(at_us / 1e6, UTC)
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    if kind == "day":
        nxt = datetime.fromtimestamp(_us(day) / 1e6 + 86_400, UTC)
        return Period(kind, day.strftime("%Y-%m-%d"), _us(day), _us(nxt))
    if kind == "week":
        monday = datetime.fromtimestamp(_us(day) / 1e6 - 86_400 * day.weekday(), UTC)
        year, week, _ = monday.isocalendar()
        return Period(kind, f"{year}-W{week:02d}", _us(monday), _us(monday) + 7 * 86_400_000_000)
    first = datetime(at.year, at.month, 1, tzinfo=UTC)
    nxt = datetime(at.year + (at.month == 12), at.month % 12 + 1, 1, tzinfo=UTC)
    return Period(kind, first.strftime("%Y-%m"), _us(first), _us(nxt))


def parse_period(text: str) -> Period:
    """``2026-11`` (a month), ``2026-W47`` (an ISO week) or ``2026-11-30`` (a day)."""
    try:
        if "-W" in text:
            year, week = text.split("-W")
            monday = datetime.fromisocalendar(int(year), int(week), 1).replace(tzinfo=UTC)
            return period_of("week", _us(monday))
        parts = text.split("-")
        if len(parts) == 2:
            return period_of("month", _us(datetime(int(parts[0]), int(parts[1]), 1, tzinfo=UTC)))
        if len(parts) == 3:
            return period_of("day", _us(datetime(int(parts[0]), int(parts[1]), int(parts[2]), tzinfo=UTC)))
    except ValueError:
        pass
    raise ValueError(f"not a period: {text!r} (a month 2026-11, a week 2026-W47 or a day 2026-11-30)")


def ledger_problems(entries: Sequence[LedgerEntry], prev: str | None = None) -> list[str]:
    """What is wrong with a stretch of the deletion ledger, in id order: an entry whose hash does not cover its
    fields (changed after it was written), or that does not follow the one before (removed, inserted, reordered).
    ``prev``: the hash the first entry must follow (None: take the first entry's own word for it)."""
    out: list[str] = []
    expected = prev if prev is not None else (entries[0].prev_entry_sha256 if entries else None)
    for entry in entries:
        if entry.prev_entry_sha256 != expected:
            out.append(f"ledger entry {entry.id} does not follow the entry before it: one was removed or inserted")
        if ledger_entry_hash(entry.prev_entry_sha256, entry.fields()) != entry.entry_sha256:
            out.append(f"ledger entry {entry.id} was changed after it was written: its hash does not cover it")
        expected = entry.entry_sha256
    return out


def ledger_document(entries: Sequence[LedgerEntry]) -> list[dict[str, Any]]:
    """Every entry as the certificate lists it: the fields its hash covers, and the chain."""
    return [
        {"id": e.id, "fields": e.fields(), "prev_entry_sha256": e.prev_entry_sha256, "entry_sha256": e.entry_sha256}
        for e in entries
    ]


def summary(entries: Sequence[LedgerEntry]) -> list[dict[str, Any]]:
    """Per camera, stream, rule and tiers: how many segments, bytes, and the range of footage destroyed."""
    groups: dict[tuple[str, str, str, str], list[LedgerEntry]] = {}
    for e in entries:
        groups.setdefault((e.camera_id, e.stream, e.rule, e.tiers), []).append(e)
    out = []
    for (camera, stream, rule, tiers), group in sorted(groups.items()):
        out.append(
            {
                "camera_id": camera,
                "stream": stream,
                "rule": rule,
                "tiers": tiers.split(","),
                "segments": len(group),
                "bytes": sum(e.size_bytes for e in group),
                "footage_from": iso_from_us(min(e.start_us for e in group)),
                "footage_to": iso_from_us(max(e.end_us for e in group)),
                "reasons": sorted({e.reason for e in group}),
                "actors": sorted({e.actor for e in group}),
            }
        )
    return out


def certificate_manifest(
    period: Period,
    entries: Sequence[LedgerEntry],
    early: Sequence[dict[str, Any]],
    made_us: int,
    site: dict[str, Any],
    problems: Sequence[str],
) -> dict[str, Any]:
    """The certificate's manifest (``files`` is filled in when the package is sealed)."""
    return {
        "format": FORMAT,
        "certificate_id": f"destruction-{period.name}",
        "created": iso_from_us(made_us),
        "site": site,
        "period": {
            "kind": period.kind,
            "name": period.name,
            "start": iso_from_us(period.start_us),
            "end": iso_from_us(period.end_us),
        },
        "destroyed": {
            "segments": len(entries),
            "bytes": sum(e.size_bytes for e in entries),
            "cameras": sorted({e.camera_id for e in entries}),
            "by": summary(entries),
        },
        "early_deletions": list(early),
        "ledger": {
            "file": LEDGER_FILE,
            "entries": len(entries),
            "first_id": entries[0].id if entries else None,
            "last_id": entries[-1].id if entries else None,
            "follows": entries[0].prev_entry_sha256 if entries else None,
            "last_entry_sha256": entries[-1].entry_sha256 if entries else None,
            "problems": list(problems),
        },
        "files": [],
    }
