"""The desk for early deletions (ADR 0017): an admin asks to destroy a camera's footage in a range before its time,
with a reason; an auditor other than the one who asked approves or refuses; the one who asked may cancel. Approval
deletes every segment overlapping the range (whole segments, every stream, from every tier) with ledger entries of
rule ``early_deletion`` naming both people and the request. Footage under a legal hold is never deleted: the request
is refused at once, and approval stops if a hold was placed since. Every step is in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from vigil.config.models import Config
from vigil.domain.audit import AuditAction
from vigil.domain.destruction import EARLY_RULE
from vigil.domain.early_deletion import DeletionRequest, DeletionState, checked, decided
from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.segment import STREAMS, Segment
from vigil.domain.timeutil import iso_from_us
from vigil.ports import AuditLog, Catalog, Clock, DeletionRequestStore, LegalHolds, SegmentStore
from vigil.usecases.playback import require_camera


class DeletionDesk:
    def __init__(
        self,
        store: DeletionRequestStore,
        catalog: Catalog,
        files: SegmentStore,
        holds: LegalHolds,
        audit: AuditLog,
        clock: Clock,
        config: Callable[[], Config],
    ) -> None:
        self.store, self.catalog, self.files, self.holds = store, catalog, files, holds
        self.audit, self.clock, self.config = audit, clock, config

    def ask(
        self, camera_id: str, start_us: int, end_us: int, reason: str, by: str, *, client: str = ""
    ) -> DeletionRequest:
        require_camera(self.config(), camera_id)
        request = checked(DeletionRequest(0, camera_id, start_us, end_us, reason, by, self.clock.now_us()))
        self._not_held(request)
        if not self._footage(request):
            raise InvalidRequest(
                f"camera {camera_id} has no footage from {iso_from_us(start_us)} to {iso_from_us(end_us)}"
            )
        stored = self.store.add(request)
        self._log(stored, by, client, "asked", stored.reason)
        return stored

    def approve(self, request_id: int, by: str, note: str = "", *, client: str = "") -> DeletionRequest:
        """Approve and carry out: the footage is deleted from every tier, each segment ledgered."""
        request = self.store.get(request_id)
        decided(request, DeletionState.APPROVED, by, 0, note)  # refused now, before any work, if it may not be
        self._not_held(request)
        now = self.clock.now_us()
        actor = f"{request.requested_by} (asked), {by} (approved)"
        why = f"early deletion request {request.id}: {request.reason}"
        deleted: list[Segment] = []
        for seg in self._footage(request):
            if not self.catalog.mark_deleting(seg.id):
                continue  # a hold placed this instant: the segment stays (the ones before it are gone, ledgered)
            tiers = self.files.erase(seg)
            self.catalog.remove_segment(seg, now, EARLY_RULE, actor, why, tiers)
            deleted.append(seg)
        done = replace(
            decided(request, DeletionState.APPROVED, by, now, note),
            segments=len(deleted),
            bytes=sum(s.size_bytes for s in deleted),
        )
        self.store.update(done)
        self._log(
            done, by, client, "approved", note or request.reason, {"segments": done.segments, "bytes": done.bytes}
        )
        return done

    def refuse(self, request_id: int, by: str, note: str, *, client: str = "") -> DeletionRequest:
        done = decided(self.store.get(request_id), DeletionState.REFUSED, by, self.clock.now_us(), note)
        self.store.update(done)
        self._log(done, by, client, "refused", done.note)
        return done

    def cancel(self, request_id: int, by: str, note: str = "", *, client: str = "") -> DeletionRequest:
        done = decided(self.store.get(request_id), DeletionState.CANCELLED, by, self.clock.now_us(), note)
        self.store.update(done)
        self._log(done, by, client, "cancelled", done.note)
        return done

    def _footage(self, request: DeletionRequest) -> list[Segment]:
        return [
            seg
            for stream in STREAMS
            for seg in self.catalog.segments(request.camera_id, stream, request.start_us, request.end_us)
        ]

    def _not_held(self, request: DeletionRequest) -> None:
        held = self.holds.covering(request.camera_id, request.start_us, request.end_us)
        if held:
            names = ", ".join(f"{h.id} ({h.reason})" for h in held)
            raise Conflict(f"the footage is under legal hold {names}: it cannot be deleted while the hold stands")

    def _log(
        self,
        request: DeletionRequest,
        actor: str,
        client: str,
        change: str,
        reason: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.audit.append(
            self.clock.now_us(),
            actor,
            AuditAction.FOOTAGE_DELETE,
            camera_id=request.camera_id,
            range_start_us=request.start_us,
            range_end_us=request.end_us,
            client=client,
            reason=reason,
            detail={"request": request.id, "change": change, **(extra or {})},
        )


def document(request: DeletionRequest) -> dict[str, Any]:
    """The request as the API and the certificate show it."""
    return {
        "id": request.id,
        "camera_id": request.camera_id,
        "start": iso_from_us(request.start_us),
        "end": iso_from_us(request.end_us),
        "reason": request.reason,
        "requested_by": request.requested_by,
        "requested": iso_from_us(request.requested_us),
        "state": str(request.state),
        "approved_by" if request.state is DeletionState.APPROVED else "decided_by": request.decided_by,
        "decided": iso_from_us(request.decided_us) if request.decided_us is not None else None,
        "note": request.note,
        "segments": request.segments,
        "bytes": request.bytes,
    }
