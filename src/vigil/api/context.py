"""What every router of the API shares: the injected dependencies, the authenticator and the footage gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from vigil.api.auth import Authenticator
from vigil.api.deps import ApiDeps
from vigil.domain.errors import InvalidRequest
from vigil.domain.timeutil import parse_instant
from vigil.usecases.footage_access import FootageGate

Stream = Annotated[str, Query(pattern="^(main|sub)$", description="main or sub")]
Instant = Annotated[str, Query(description="ISO 8601 time (e.g. 2026-11-24T10:00:00Z) or UTC microseconds")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=100, description="next_cursor of the previous page")]
Reason = Annotated[
    str | None, Query(max_length=500, description="Why (written to the audit log; the site may require it)")
]


@dataclass(frozen=True)
class Api:
    deps: ApiDeps
    auth: Authenticator
    gate: FootageGate


def instant(name: str, text: str) -> int:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise InvalidRequest(f"{name}: {exc}") from None


def offset_of(cursor: str | None) -> int:
    """The offset a list cursor stands for (lists that are not keyed by time)."""
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise InvalidRequest("cursor: not a cursor this list gave")
    return int(cursor)


def next_offset(offset: int, limit: int, got: int) -> str | None:
    return str(offset + limit) if got >= limit else None
