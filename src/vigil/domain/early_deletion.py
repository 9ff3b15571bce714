"""Early deletion (ADR 0017): footage destroyed before its retention says, for a court order or a recording of a
private place made by mistake, needs two people: an admin asks, with a reason, and an auditor who is not the one who
asked approves (or refuses). Only then is it deleted, from every tier, with ledger entries of rule
``early_deletion`` that the period's destruction certificate lists. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from vigil.domain.errors import Conflict, InvalidRequest

MIN_REASON_CHARS = 10
MAX_TEXT_CHARS = 2000


class DeletionState(StrEnum):
    PENDING = "pending"  # asked, waiting for an auditor
    APPROVED = "approved"  # approved and carried out
    REFUSED = "refused"
    CANCELLED = "cancelled"  # withdrawn by the one who asked


@dataclass(frozen=True, slots=True)
class DeletionRequest:
    id: int
    camera_id: str
    start_us: int  # the footage: [start_us, end_us), every stream; segments overlapping it go whole
    end_us: int
    reason: str
    requested_by: str
    requested_us: int
    state: DeletionState = DeletionState.PENDING
    decided_by: str = ""
    decided_us: int | None = None
    note: str = ""  # the auditor's words (why refused, what was checked)
    segments: int = 0  # deleted when approved
    bytes: int = 0


def checked(request: DeletionRequest) -> DeletionRequest:
    reason = request.reason.strip()
    if len(reason) < MIN_REASON_CHARS:
        raise InvalidRequest(
            f"reason: say why the footage must go before its time (at least {MIN_REASON_CHARS} characters)"
        )
    if len(reason) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"reason: at most {MAX_TEXT_CHARS} characters")
    if request.end_us <= request.start_us:
        raise InvalidRequest("end: must be after start")
    return replace(request, reason=reason)


def decided(request: DeletionRequest, to: DeletionState, by: str, now_us: int, note: str = "") -> DeletionRequest:
    """The request approved, refused or cancelled by ``by``; Conflict when that may not happen."""
    if request.state is not DeletionState.PENDING:
        raise Conflict(f"deletion request {request.id} is {request.state} already")
    if len(note) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"note: at most {MAX_TEXT_CHARS} characters")
    if to is DeletionState.CANCELLED:
        if by != request.requested_by:
            raise Conflict(f"only {request.requested_by}, who asked, may cancel deletion request {request.id}")
    elif by == request.requested_by:
        raise Conflict(f"{by} asked for deletion request {request.id}: another person (an auditor) must decide it")
    if to is DeletionState.REFUSED and not note.strip():
        raise InvalidRequest("note: say why the deletion is refused")
    return replace(request, state=to, decided_by=by, decided_us=now_us, note=note.strip())
