"""``vigil check``: the catalog against the disk, and each stream's hash chain.

Findings and what ``--repair`` does with them:
- ``missing_file``: a catalogued segment's file is gone from the hot disk. Repair: when a verified copy is on a
  tier (ADR 0016), the segment is released to it (nothing is lost: a copied camera survives the loss of the hot
  disk); else the row is removed with a ledger entry (rule ``check_repair``), so the loss stays on record.
- ``no_copy``: a segment released from the hot disk has no verified copy left on any tier. Never repaired.
- ``size_mismatch`` / ``hash_mismatch``: the file was altered. Never repaired: it is evidence.
- ``chain_broken``: a row's ``prev_sha256`` names neither the previous row nor a ledgered deletion: a row
  was removed or rewritten behind Vigil's back. Never repaired.
- ``orphan_file``: a segment file with no row. Repair: catalogued if readable (marked recovered).
- ``partial_file``: a ``.part`` file (normal while recording; after a crash, start-up salvages it).
- ``interrupted_deletion``: a row left in state ``deleting``. Repair: the deletion is finished and ledgered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from vigil.domain.errors import StorageError
from vigil.domain.segment import Segment
from vigil.domain.tiers import CopyState
from vigil.ports import Catalog, Clock, ProbeFn, SegmentCopyStore, SegmentStore
from vigil.usecases.recovery import segment_info

SERIOUS = {
    "no_copy",
    "missing_file",
    "size_mismatch",
    "hash_mismatch",
    "chain_broken",
    "orphan_file",
    "interrupted_deletion",
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    path: str
    detail: str
    repaired: bool = False


@dataclass
class CheckReport:
    segments_checked: int = 0
    files_on_disk: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in SERIOUS and not f.repaired]

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_file(
    seg: Segment, store: SegmentStore, verify_hashes: bool, copies: SegmentCopyStore | None
) -> Finding | None:
    if not seg.hot:
        if copies is not None and not any(c.state is CopyState.VERIFIED for c in copies.copies(seg.id)):
            return Finding("no_copy", seg.path, f"segment {seg.id} left the hot disk and has no verified copy")
        return None  # the scrub re-reads the tiers' copies
    size = store.size(seg.path)
    if size is None:
        return Finding("missing_file", seg.path, f"segment {seg.id} of {seg.camera_id}/{seg.stream} has no file")
    if size != seg.size_bytes:
        return Finding("size_mismatch", seg.path, f"catalogued {seg.size_bytes} bytes, found {size}")
    if verify_hashes and store.sha256(seg.path) != seg.sha256:
        return Finding("hash_mismatch", seg.path, "the file's SHA-256 differs from the catalogued one")
    return None


def _check_chains(segments: list[Segment], ledgered: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    by_stream: dict[tuple[str, str], list[Segment]] = defaultdict(list)
    for seg in segments:
        by_stream[(seg.camera_id, seg.stream)].append(seg)
    for rows in by_stream.values():
        rows.sort(key=lambda s: s.id)
        for prev, seg in zip([None, *rows[:-1]], rows, strict=True):
            expected = prev.sha256 if prev is not None else None
            if seg.prev_sha256 == expected:
                continue
            if seg.prev_sha256 is not None and seg.prev_sha256 in ledgered:
                continue  # the segment before it was deleted lawfully (ledgered)
            if prev is None and seg.prev_sha256 is None:
                continue
            findings.append(
                Finding(
                    "chain_broken",
                    seg.path,
                    f"segment {seg.id} links to {str(seg.prev_sha256)[:12]}, which is neither the previous segment "
                    "nor a ledgered deletion: a segment or its row was removed or altered",
                )
            )
    return findings


def run_check(
    catalog: Catalog,
    store: SegmentStore,
    clock: Clock,
    probe: ProbeFn,
    *,
    repair: bool = False,
    verify_hashes: bool = True,
    copies: SegmentCopyStore | None = None,
) -> CheckReport:
    report = CheckReport()
    segments = catalog.all_segments()
    report.segments_checked = len(segments)
    for seg in segments:
        finding = _check_file(seg, store, verify_hashes, copies)
        if finding is not None and finding.kind == "missing_file" and repair:
            if copies is not None and copies.release(seg.id):
                detail = f"{finding.detail}; released to its verified copy on a tier"
            else:
                catalog.remove_segment(seg, clock.now_us(), "check_repair", "vigil check", "file missing from disk")
                detail = finding.detail
            finding = Finding(finding.kind, finding.path, detail, repaired=True)
        if finding is not None:
            report.findings.append(finding)
    report.findings.extend(_check_chains(segments, catalog.ledger_hashes()))
    report.findings.extend(_interrupted_deletions(catalog, store, clock, repair))
    known = {s.path for s in segments} | {s.path for s in catalog.deleting_segments()}
    report.findings.extend(_orphans(catalog, store, probe, known, repair))
    files = store.segment_files()
    report.files_on_disk = len(files)
    return report


def _interrupted_deletions(catalog: Catalog, store: SegmentStore, clock: Clock, repair: bool) -> list[Finding]:
    findings = []
    for seg in catalog.deleting_segments():
        finding = Finding("interrupted_deletion", seg.path, f"segment {seg.id} was being deleted")
        if repair:
            tiers = store.erase(seg)
            catalog.remove_segment(
                seg, clock.now_us(), "retention", "vigil check", "finishing an interrupted deletion", tiers
            )
            finding = Finding(finding.kind, finding.path, finding.detail, repaired=True)
        findings.append(finding)
    return findings


def _orphans(catalog: Catalog, store: SegmentStore, probe: ProbeFn, known: set[str], repair: bool) -> list[Finding]:
    findings = [Finding("partial_file", p, "being written, or left by a crash") for p in store.part_files()]
    for relpath in store.segment_files():
        if relpath in known:
            continue
        finding = Finding("orphan_file", relpath, "a segment file with no catalog row")
        if repair:
            try:
                info = segment_info(store, relpath, probe(store.absolute(relpath)), recovered=True)
            except StorageError as exc:
                finding = Finding("orphan_file", relpath, f"unreadable, left in place: {exc.message}")
            else:
                if info is not None:
                    catalog.add_segment(info)
                    finding = Finding("orphan_file", relpath, "catalogued (marked recovered)", repaired=True)
        findings.append(finding)
    return findings


@dataclass(frozen=True, slots=True)
class Settled:
    released: int  # hot segments whose file is gone, now read from their verified copy on a tier
    lost: list[Segment]  # hot segments whose file is gone with no copy: ledgered as lost (rule check_repair)


def settle_lost_disk(catalog: Catalog, store: SegmentStore, copies: SegmentCopyStore, clock: Clock) -> Settled:
    """After a restore on a new machine (ADR 0018): what ``vigil check --repair`` does for missing files, for the
    hot segments only (the archived ones need nothing, and a month of catalog is hundreds of thousands of rows)."""
    released, lost = 0, []
    for seg in copies.hot_segments():
        if store.size(seg.path) is not None:
            continue
        if copies.release(seg.id):
            released += 1
        else:
            catalog.remove_segment(seg, clock.now_us(), "check_repair", "vigil restore", "file lost with the old disk")
            lost.append(seg)
    return Settled(released, lost)
