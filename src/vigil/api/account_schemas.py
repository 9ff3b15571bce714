"""JSON shapes of logins, users, grants, API tokens and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.access import Grant, Principal, parse_actions
from vigil.domain.audit import AuditEntry
from vigil.domain.errors import InvalidRequest
from vigil.domain.records import GrantRecord, UserRecord
from vigil.domain.timeutil import iso_from_us, parse_instant

Language = Literal["en", "zh"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class GrantOut(BaseModel):
    camera_id: str | None = Field(description="One camera; with site also null: every camera")
    site: str | None
    actions: list[str] = Field(description="Actions added to the role's on these cameras")
    history_from: str | None = Field(description="Playback/export only of footage from (ISO 8601, UTC)")
    history_until: str | None

    @classmethod
    def of(cls, g: Grant | GrantRecord) -> GrantOut:
        return cls(
            camera_id=g.camera_id,
            site=g.site,
            actions=sorted(str(a) for a in g.actions),
            history_from=iso_from_us(g.history_from_us) if g.history_from_us is not None else None,
            history_until=iso_from_us(g.history_until_us) if g.history_until_us is not None else None,
        )


class GrantIn(Strict):
    camera_id: str | None = Field(default=None, min_length=1, max_length=64)
    site: str | None = Field(default=None, min_length=1, max_length=200)
    actions: list[str] = Field(default_factory=list, max_length=16)
    history_from: str | None = None
    history_until: str | None = None

    def grant(self) -> Grant:
        if self.camera_id is not None and self.site is not None:
            raise InvalidRequest("a grant names one camera or one site, not both")
        try:
            actions = parse_actions(self.actions)
            start = parse_instant(self.history_from) if self.history_from else None
            until = parse_instant(self.history_until) if self.history_until else None
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        if start is not None and until is not None and until <= start:
            raise InvalidRequest("history_until must be after history_from")
        return Grant(self.camera_id, self.site, actions, start, until)


class MeOut(BaseModel):
    username: str
    role: str
    display_name: str
    language: str
    must_change_password: bool
    grants: list[GrantOut]
    csrf_token: str = Field(description="Send in X-CSRF-Token with state-changing requests (cookie sessions)")
    may: list[str] = Field(description="The kinds of action the role (or a grant) allows somewhere")

    @classmethod
    def of(cls, p: Principal, user: UserRecord, csrf: str, may: list[str]) -> MeOut:
        return cls(
            username=p.username,
            role=p.role.value,
            display_name=user.display_name,
            language=user.language,
            must_change_password=p.must_change_password,
            grants=[GrantOut.of(g) for g in p.grants],
            csrf_token=csrf,
            may=may,
        )


class PasswordIn(Strict):
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024)


class PreferencesIn(Strict):
    language: Language | None = None
    display_name: str | None = Field(default=None, max_length=100)


class UserOut(BaseModel):
    username: str
    role: str
    display_name: str
    language: str
    disabled: bool
    must_change_password: bool
    created: str
    grants: list[GrantOut]
    vendor: str = Field(default="", description="A vendor's account: that vendor's equipment and tickets only")
    access_from_us: int | None = Field(default=None, description="The account may be used from ...")
    access_until_us: int | None = Field(default=None, description="... until")

    @classmethod
    def of(cls, u: UserRecord, grants: Sequence[Grant | GrantRecord]) -> UserOut:
        return cls(
            username=u.username,
            role=u.role,
            display_name=u.display_name,
            language=u.language,
            disabled=u.disabled,
            must_change_password=u.must_change_password,
            created=iso_from_us(u.created_us),
            grants=[GrantOut.of(g) for g in grants],
            vendor=u.vendor,
            access_from_us=u.access_from_us,
            access_until_us=u.access_until_us,
        )


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=64)
    role: str
    password: str | None = Field(default=None, max_length=1024, description="Omit to have one made up")


class VendorAccess(Strict):
    vendor: str = Field(default="", max_length=200, description="The vendor; empty: the site's own account")
    access_from: str | None = Field(default=None, description="ISO 8601: usable from (none: at once)")
    access_until: str | None = Field(default=None, description="ISO 8601: usable until (none: no end)")


class UserPatch(Strict):
    role: str | None = None
    disabled: bool | None = None
    vendor_access: VendorAccess | None = Field(
        default=None, description="Make the account a vendor's, usable in a window (technicians of a contractor)"
    )


class NewPasswordOut(BaseModel):
    username: str
    password: str = Field(description="A one-time password, shown once; it must be changed at the first login")


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100, description="What uses it")


class TokenRevokeIn(Strict):
    token: str = Field(min_length=8, max_length=200)


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="Shown once; only its hash is kept")


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    at_us: int
    actor: str
    action: str
    camera_id: str | None
    range_start: str | None
    range_end: str | None
    client: str
    reason: str
    detail: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            seq=e.seq,
            at=iso_from_us(e.at_us),
            at_us=e.at_us,
            actor=e.actor,
            action=e.action,
            camera_id=e.camera_id,
            range_start=iso_from_us(e.range_start_us) if e.range_start_us is not None else None,
            range_end=iso_from_us(e.range_end_us) if e.range_end_us is not None else None,
            client=e.client,
            reason=e.reason,
            detail=e.detail,
            hash=e.hash,
        )
