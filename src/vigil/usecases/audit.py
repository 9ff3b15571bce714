"""The audit log for auditors: verify its chain against its anchors, search it, export a search as CSV or
JSON lines (and record that export in the log itself)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from vigil.domain.audit import (
    AuditAction,
    AuditEntry,
    AuditHead,
    AuditProblem,
    ChainVerifier,
    ProblemKind,
)
from vigil.domain.errors import InvalidRequest, StorageError
from vigil.domain.timeutil import iso_from_us
from vigil.ports import AuditLog, Clock

ExportFormat = Literal["csv", "jsonl"]
PAGE = 500


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries_checked: int
    problems: list[AuditProblem]
    head: AuditHead | None  # the newest entry found
    anchor: AuditHead | None  # the head the anchor file remembers

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit(log: AuditLog, expected_heads: Sequence[AuditHead] = ()) -> AuditReport:
    """Check the whole chain, streamed oldest first, against the anchor file and any heads kept elsewhere
    (``expected_heads``, e.g. one an operator copied off the machine). A log with entries but no readable
    anchor is a problem too: the anchor is written after every append, so it was removed or damaged."""
    anchor_problem: str | None = None
    try:
        anchor = log.anchor()
    except StorageError as exc:
        anchor, anchor_problem = None, exc.message
    heads = list(dict.fromkeys(h for h in (anchor, *expected_heads) if h is not None))  # each head once
    verifier = ChainVerifier()
    verifier.watch(heads)
    for entry in log.all_in_order():
        verifier.check(entry)
    problems = verifier.finish(heads)
    newest = verifier.last.seq if verifier.last else 0
    if anchor_problem is not None:
        problems.append(AuditProblem(newest, ProblemKind.NO_ANCHOR, anchor_problem))
    elif anchor is None and verifier.last is not None:
        problems.append(
            AuditProblem(
                newest,
                ProblemKind.NO_ANCHOR,
                "the head anchor file is missing: removal of the newest entries cannot be ruled out",
            )
        )
    return AuditReport(verifier.checked, problems, verifier.last.head if verifier.last else None, anchor)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A search of the log: exact actor, action and camera; the time it happened, ``start_us <= at_us < end_us``;
    words in the reason, actor, client or detail."""

    actor: str | None = None
    action: AuditAction | None = None
    camera_id: str | None = None
    start_us: int | None = None
    end_us: int | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.start_us is not None and self.end_us is not None and self.end_us <= self.start_us:
            raise InvalidRequest("end: must be after start")

    def filters(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def search_all(log: AuditLog, query: AuditQuery, page: int = PAGE) -> Iterator[AuditEntry]:
    """Every entry the query finds, newest first, read a page at a time from a view fixed when it starts
    (entries appended meanwhile are not included, none is repeated)."""
    head = log.head()
    max_seq = head.seq if head else 0
    while max_seq > 0:
        rows = log.entries(**query.filters(), limit=page, max_seq=max_seq)
        yield from rows
        if len(rows) < page:
            return
        max_seq = rows[-1].seq - 1


def export_format(file_name: str) -> ExportFormat:
    """The format an export file's name asks for; InvalidRequest for any other than .csv and .jsonl."""
    lower = file_name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".jsonl"):
        return "jsonl"
    raise InvalidRequest(f"output: {file_name!r} must end in .csv or .jsonl")


CSV_COLUMNS = (
    "seq",
    "time",
    "actor",
    "action",
    "camera_id",
    "range_start",
    "range_end",
    "client",
    "reason",
    "detail",
    "at_us",
    "range_start_us",
    "range_end_us",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str | None) -> str:
    """Free text for a spreadsheet: a leading ``'`` where it would otherwise be taken for a formula (CSV
    injection); the JSON lines export keeps every value exactly."""
    value = text or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The header, then one CSV line per entry: times both as ISO 8601 and as microseconds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(row: Sequence[object]) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_COLUMNS)
    for e in entries:
        yield line(
            [
                e.seq,
                iso_from_us(e.at_us),
                _cell(e.actor),
                e.action,
                _cell(e.camera_id),
                "" if e.range_start_us is None else iso_from_us(e.range_start_us),
                "" if e.range_end_us is None else iso_from_us(e.range_end_us),
                _cell(e.client),
                _cell(e.reason),
                _cell(json.dumps(e.detail, ensure_ascii=False, sort_keys=True)),
                e.at_us,
                "" if e.range_start_us is None else e.range_start_us,
                "" if e.range_end_us is None else e.range_end_us,
                e.prev_hash,
                e.hash,
            ]
        )


def jsonl_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """One JSON object per line per entry, every field exactly as stored (the hash can be recomputed)."""
    for e in entries:
        yield json.dumps(e.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"


@dataclass(frozen=True, slots=True)
class AuditExport:
    entries: int
    recorded: AuditEntry  # the audit_export entry that records this export


def export_audit(
    log: AuditLog,
    query: AuditQuery,
    fmt: ExportFormat,
    write: Callable[[Iterable[str]], None],
    *,
    clock: Clock,
    actor: str,
    client: str,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditExport:
    """Hand the lines of a search (newest first) to ``write``, then record the export in the log itself
    (what was asked for, how many entries, by whom). Nothing is recorded when ``write`` fails."""
    count = 0

    def counted() -> Iterator[AuditEntry]:
        nonlocal count
        for entry in search_all(log, query):
            count += 1
            yield entry

    write(csv_lines(counted()) if fmt == "csv" else jsonl_lines(counted()))
    filters = {k: v for k, v in query.filters().items() if k not in ("start_us", "end_us")}
    recorded = log.append(
        clock.now_us(),
        actor,
        AuditAction.AUDIT_EXPORT,
        client=client,
        reason=reason,
        range_start_us=query.start_us,
        range_end_us=query.end_us,
        detail={**(detail or {}), "format": fmt, "entries": count, "filters": filters},
    )
    return AuditExport(count, recorded)
