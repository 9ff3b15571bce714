"""Why footage is missing from an evidence package, stretch by stretch. Pure.

Every hole in a camera's range that no exported clip covers is explained, so that nothing is silently missing:
first by the segments that were catalogued but could not be used (the file is gone, or no longer matches its
hash), then by the deletion ledger (segments deleted lawfully, with the rule, who and when), then by the gaps the
recorder recorded (``timeout``, ``process_down`` ...: the one overlapping most), and otherwise ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.domain.evidence import FootageGap, moment
from vigil.domain.records import LedgerEntry
from vigil.domain.segment import Gap, Segment
from vigil.domain.timeline import Span


@dataclass(frozen=True, slots=True)
class Unusable:
    """A catalogued segment left out of the package: ``missing_file`` or ``altered``."""

    segment: Segment
    cause: str
    detail: str


@dataclass(frozen=True, slots=True)
class _Known:
    start_us: int
    end_us: int
    cause: str
    detail: str
    segment: Mapping[str, Any]


def _deleted(entry: LedgerEntry) -> _Known:
    record = {
        "segment_id": entry.segment_id,
        "path": entry.path,
        **moment("start", entry.start_us),
        **moment("end", entry.end_us),
        "size_bytes": entry.size_bytes,
        "sha256": entry.sha256,
        **moment("deleted", entry.deleted_us),
        "rule": entry.rule,
        "actor": entry.actor,
        "reason": entry.reason,
        "ledger_entry_sha256": entry.entry_sha256,
    }
    detail = "deleted per the deletion ledger (see segments: rule, who, when, why)"
    return _Known(entry.start_us, entry.end_us, "deleted", detail, record)


def _unusable(item: Unusable) -> _Known:
    seg = item.segment
    record = {
        "segment_id": seg.id,
        "path": seg.path,
        **moment("start", seg.start_us),
        **moment("end", seg.end_us),
        "size_bytes": seg.size_bytes,
        "sha256": seg.sha256,
        "problem": item.detail,
    }
    return _Known(seg.start_us, seg.end_us, item.cause, item.detail, record)


def holes(spans: Sequence[Span], start_us: int, end_us: int) -> list[tuple[int, int]]:
    """The parts of ``[start_us, end_us)`` the (ordered) spans do not cover."""
    found: list[tuple[int, int]] = []
    cursor = start_us
    for span in spans:
        if span.end_us <= cursor:
            continue
        if span.start_us >= end_us:
            break
        if span.start_us > cursor:
            found.append((cursor, span.start_us))
        cursor = max(cursor, span.end_us)
    if cursor < end_us:
        found.append((cursor, end_us))
    return found


def _recorded_cause(start_us: int, end_us: int, gaps: Sequence[Gap], range_end_us: int) -> tuple[str, str]:
    best: tuple[str, str] = ("unknown", "nothing was recorded and no cause is on record")
    best_overlap = 0
    for gap in gaps:
        gap_end = gap.end_us if gap.end_us is not None else range_end_us
        overlap = min(end_us, gap_end) - max(start_us, gap.start_us)
        if overlap > best_overlap:
            best, best_overlap = (str(gap.cause), gap.detail or f"the recorder recorded a gap: {gap.cause}"), overlap
    return best


def explain_gaps(
    camera_id: str,
    stream: str,
    spans: Sequence[Span],
    start_us: int,
    end_us: int,
    recorded: Iterable[Gap],
    deletions: Iterable[LedgerEntry],
    unusable: Iterable[Unusable] = (),
) -> list[FootageGap]:
    """Every stretch of ``[start_us, end_us)`` without footage in ``spans``, in order, each with its cause."""
    gaps = list(recorded)
    known = sorted(
        [*(_unusable(u) for u in unusable), *(_deleted(d) for d in deletions)], key=lambda k: (k.start_us, k.end_us)
    )
    pieces: list[FootageGap] = []
    for hole_start, hole_end in holes(spans, start_us, end_us):
        cursor = hole_start
        for item in known:
            piece_start, piece_end = max(item.start_us, cursor), min(item.end_us, hole_end)
            if piece_end <= piece_start:
                continue
            if piece_start > cursor:
                cause, detail = _recorded_cause(cursor, piece_start, gaps, end_us)
                pieces.append(FootageGap(camera_id, stream, cursor, piece_start, cause, detail))
            pieces.append(
                FootageGap(camera_id, stream, piece_start, piece_end, item.cause, item.detail, (item.segment,))
            )
            cursor = piece_end
        if cursor < hole_end:
            cause, detail = _recorded_cause(cursor, hole_end, gaps, end_us)
            pieces.append(FootageGap(camera_id, stream, cursor, hole_end, cause, detail))
    return _joined(pieces)


def _joined(pieces: list[FootageGap]) -> list[FootageGap]:
    """Touching pieces with the same cause as one gap (several deleted segments in a row: one gap listing all)."""
    out: list[FootageGap] = []
    for piece in pieces:
        last = out[-1] if out else None
        if last is not None and last.end_us == piece.start_us and last.cause == piece.cause:
            out[-1] = FootageGap(
                camera_id=last.camera_id,
                stream=last.stream,
                start_us=last.start_us,
                end_us=piece.end_us,
                cause=last.cause,
                detail=last.detail,
                segments=last.segments + piece.segments,
            )
        else:
            out.append(piece)
    return out
