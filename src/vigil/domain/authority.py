"""Requests from an authority (police, a court, a regulator) to view or copy footage (pure: no I/O, no clock).

A request is recorded as received (who asks, on what legal basis, for which cameras and time, by when), decided by
an admin (approved or refused, with the reason), and an approved one is fulfilled as an evidence package; it may be
withdrawn before it is fulfilled. Every step keeps who did it and when; the audit log holds each step too.

    received -> approved -> fulfilled
             -> refused
    received | approved -> withdrawn
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from vigil.domain.errors import Conflict, InvalidRequest

MAX_TEXT = 2000
MAX_CAMERAS = 64
MAX_RANGE_US = 31 * 86_400 * 1_000_000


class RequestState(StrEnum):
    RECEIVED = "received"
    APPROVED = "approved"
    REFUSED = "refused"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"


class RequestKind(StrEnum):
    VIEW = "view"  # to look at footage
    COPY = "copy"  # to take a copy away


NEXT: dict[RequestState, frozenset[RequestState]] = {
    RequestState.RECEIVED: frozenset({RequestState.APPROVED, RequestState.REFUSED, RequestState.WITHDRAWN}),
    RequestState.APPROVED: frozenset({RequestState.FULFILLED, RequestState.WITHDRAWN}),
    RequestState.REFUSED: frozenset(),
    RequestState.FULFILLED: frozenset(),
    RequestState.WITHDRAWN: frozenset(),
}


@dataclass(frozen=True, slots=True)
class AuthorityRequest:
    id: int  # 0 until stored
    received_us: int
    recorded_by: str
    authority: str  # the requesting body (e.g. Pudong Public Security Bureau)
    officer: str  # the person acting for it
    officer_id: str  # badge or warrant-card number
    contact: str
    legal_basis: str  # the law, order or warrant it relies on
    reference: str  # the authority's own case or document number
    kind: RequestKind
    camera_ids: tuple[str, ...]
    start_us: int
    end_us: int
    deadline_us: int | None
    notes: str = ""
    state: RequestState = RequestState.RECEIVED
    decided_by: str = ""
    decided_us: int | None = None
    decision_reason: str = ""
    fulfilled_by: str = ""
    fulfilled_us: int | None = None
    package_id: str = ""
    closed_reason: str = ""  # why it was withdrawn

    def overdue(self, now_us: int) -> bool:
        """Past its deadline and not yet answered (fulfilled, refused or withdrawn)."""
        open_ = self.state in (RequestState.RECEIVED, RequestState.APPROVED)
        return open_ and self.deadline_us is not None and now_us > self.deadline_us


def checked(request: AuthorityRequest) -> AuthorityRequest:
    """A new request with its texts trimmed; InvalidRequest naming the first thing missing or wrong."""
    texts = {
        name: str(getattr(request, name)).strip()
        for name in ("authority", "officer", "officer_id", "contact", "legal_basis", "reference", "notes")
    }
    for name in ("authority", "officer", "legal_basis"):
        if not texts[name]:
            raise InvalidRequest(f"{name}: required (who asks, and on what legal basis, must be on record)")
    for name, text in texts.items():
        if len(text) > MAX_TEXT:
            raise InvalidRequest(f"{name}: at most {MAX_TEXT} characters")
    cameras = tuple(dict.fromkeys(c.strip() for c in request.camera_ids))
    if not cameras or not all(cameras):
        raise InvalidRequest("cameras: name at least one camera")
    if len(cameras) > MAX_CAMERAS:
        raise InvalidRequest(f"cameras: at most {MAX_CAMERAS}")
    if request.end_us <= request.start_us:
        raise InvalidRequest("the end of the range must be after its start")
    if request.end_us - request.start_us > MAX_RANGE_US:
        raise InvalidRequest("the range is longer than 31 days; record one request per month")
    if request.deadline_us is not None and request.deadline_us < request.received_us:
        raise InvalidRequest("deadline: before the request was received")
    if request.kind not in set(RequestKind):
        raise InvalidRequest(f"kind: one of {', '.join(RequestKind)}")
    return replace(
        request,
        camera_ids=cameras,
        kind=RequestKind(request.kind),
        authority=texts["authority"],
        officer=texts["officer"],
        officer_id=texts["officer_id"],
        contact=texts["contact"],
        legal_basis=texts["legal_basis"],
        reference=texts["reference"],
        notes=texts["notes"],
    )


def moved(request: AuthorityRequest, to: RequestState, by: str, at_us: int, reason: str = "") -> AuthorityRequest:
    """The request after one step; Conflict when the step does not follow from where it is."""
    if to not in NEXT[request.state]:
        raise Conflict(f"authority request {request.id} is {request.state}: it cannot be {to} now")
    why = reason.strip()
    if to in (RequestState.REFUSED, RequestState.WITHDRAWN) and not why:
        raise InvalidRequest(f"reason: say why the request is {to}")
    if to in (RequestState.APPROVED, RequestState.REFUSED):
        return replace(request, state=to, decided_by=by, decided_us=at_us, decision_reason=why)
    if to is RequestState.WITHDRAWN:
        return replace(request, state=to, closed_reason=why)
    return replace(request, state=to, fulfilled_by=by, fulfilled_us=at_us)


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """What a report over a period says of the requests received in it."""

    count: int
    by_state: dict[str, int]
    by_authority: dict[str, int]
    overdue: int
    answered_late: int  # fulfilled or refused after their deadline
    days_to_decide_median: float | None
    days_to_fulfil_median: float | None


def summary(requests: Sequence[AuthorityRequest], now_us: int) -> RequestSummary:
    day = 86_400 * 1_000_000
    decide = [(r.decided_us - r.received_us) / day for r in requests if r.decided_us is not None]
    fulfil = [(r.fulfilled_us - r.received_us) / day for r in requests if r.fulfilled_us is not None]
    late = 0
    for r in requests:
        answered = r.fulfilled_us if r.fulfilled_us is not None else r.decided_us
        if r.deadline_us is not None and answered is not None and answered > r.deadline_us:
            late += 1
    return RequestSummary(
        count=len(requests),
        by_state=dict(Counter(str(r.state) for r in requests)),
        by_authority=dict(Counter(r.authority for r in requests).most_common()),
        overdue=sum(r.overdue(now_us) for r in requests),
        answered_late=late,
        days_to_decide_median=round(statistics.median(decide), 2) if decide else None,
        days_to_fulfil_median=round(statistics.median(fulfil), 2) if fulfil else None,
    )
