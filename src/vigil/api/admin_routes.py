"""Users, their grants and API tokens (admins), and the audit log (auditors and admins)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from vigil.api.account_schemas import (
    AuditEntryOut,
    GrantIn,
    GrantOut,
    NewPasswordOut,
    TokenIn,
    TokenOut,
    TokenRevokeIn,
    UserIn,
    UserOut,
    UserPatch,
)
from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, instant
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest
from vigil.usecases.audit import AuditQuery, csv_lines, jsonl_lines, search_all


def admin_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["users"])
    deps = api.deps
    accounts = deps.accounts

    def admin(caller: Caller, what: str) -> None:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, what)

    def record(caller: Caller, action: AuditAction, detail: dict[str, Any]) -> None:
        deps.audit.append(deps.clock.now_us(), caller.username, action, client=caller.client, detail=detail)

    def user_out(username: str) -> UserOut:
        return UserOut.of(accounts.user(username), list(accounts.principal(username).grants))

    @router.get("/users", response_model=Page[UserOut], summary="Users with their roles and grants")
    def users(caller: Caller = Depends(api.auth)) -> Page[UserOut]:
        admin(caller, "list users")
        return Page(items=[user_out(u.username) for u in accounts.users()], next_cursor=None)

    @router.post("/users", response_model=NewPasswordOut, status_code=201, summary="Add a user")
    def add_user(body: UserIn, caller: Caller = Depends(api.auth)) -> NewPasswordOut:
        admin(caller, "add users")
        password = accounts.add_user(body.username, body.role, body.password)
        name = body.username.strip().lower()
        record(caller, AuditAction.USER_CHANGE, {"user": name, "change": "added", "role": body.role})
        return NewPasswordOut(username=name, password="" if body.password is not None else password)

    @router.get("/users/{username}", response_model=UserOut, summary="One user")
    def user(username: str, caller: Caller = Depends(api.auth)) -> UserOut:
        admin(caller, "see users")
        return user_out(username)

    @router.patch("/users/{username}", response_model=UserOut, summary="Change a user's role or disable them")
    def change_user(username: str, body: UserPatch, caller: Caller = Depends(api.auth)) -> UserOut:
        admin(caller, "change users")
        if username == caller.username and (body.disabled or (body.role not in (None, "admin"))):
            raise InvalidRequest("you cannot disable yourself or take away your own admin role")
        if body.role is not None:
            accounts.set_role(username, body.role)
            record(caller, AuditAction.PERMISSION_CHANGE, {"user": username, "role": body.role})
        if body.vendor_access is not None:
            v = body.vendor_access
            start = instant("access_from", v.access_from) if v.access_from else None
            until = instant("access_until", v.access_until) if v.access_until else None
            accounts.set_vendor(username, v.vendor, start, until)
            detail = {"user": username, "vendor": v.vendor, "access_from_us": start, "access_until_us": until}
            record(caller, AuditAction.PERMISSION_CHANGE, detail)
        if body.disabled is not None:
            accounts.set_disabled(username, body.disabled)
            change = "disabled" if body.disabled else "enabled"
            record(caller, AuditAction.USER_CHANGE, {"user": username, "change": change})
        return user_out(username)

    @router.put("/users/{username}/grants", response_model=UserOut, summary="Replace a user's grants")
    def set_grants(username: str, body: list[GrantIn], caller: Caller = Depends(api.auth)) -> UserOut:
        admin(caller, "change permissions")
        if len(body) > 1000:
            raise InvalidRequest("at most 1000 grants per user")
        grants = [g.grant() for g in body]
        accounts.set_grants(username, grants)
        shown = [GrantOut.of(g).model_dump() for g in grants]
        record(caller, AuditAction.PERMISSION_CHANGE, {"user": username, "grants": shown})
        return user_out(username)

    @router.post("/users/{username}/password", response_model=NewPasswordOut, summary="Reset a password")
    def reset_password(username: str, caller: Caller = Depends(api.auth)) -> NewPasswordOut:
        admin(caller, "reset passwords")
        password = accounts.reset_password(username)
        record(caller, AuditAction.PASSWORD_CHANGE, {"user": username, "how": "reset"})
        return NewPasswordOut(username=username, password=password)

    @router.post("/users/{username}/tokens", response_model=TokenOut, status_code=201, summary="Issue an API token")
    def issue_token(username: str, body: TokenIn, caller: Caller = Depends(api.auth)) -> TokenOut:
        admin(caller, "issue API tokens")
        token = accounts.issue_token(username, body.name)
        record(caller, AuditAction.TOKEN_CHANGE, {"user": username, "change": "issued", "name": body.name})
        return TokenOut(name=body.name, token=token)

    @router.post("/tokens/revoke", status_code=204, summary="Revoke an API token")
    def revoke_token(body: TokenRevokeIn, caller: Caller = Depends(api.auth)) -> Response:
        admin(caller, "revoke API tokens")
        accounts.revoke_token(body.token)
        record(caller, AuditAction.TOKEN_CHANGE, {"change": "revoked"})
        return Response(status_code=204)

    # --- the audit log ---------------------------------------------------------------------------------
    def query_of(
        actor: str | None, action: str | None, camera: str | None, start: str | None, end: str | None, q: str | None
    ) -> AuditQuery:
        try:
            kind = AuditAction(action) if action else None
        except ValueError:
            raise InvalidRequest(f"action: {action!r} is not one of {', '.join(AuditAction)}") from None
        return AuditQuery(
            actor=actor,
            action=kind,
            camera_id=camera,
            start_us=instant("start", start) if start else None,
            end_us=instant("end", end) if end else None,
            text=q,
        )

    @router.get("/audit", response_model=Page[AuditEntryOut], tags=["audit"], summary="Search the audit log")
    def audit(
        limit: Limit = 100,
        cursor: Cursor = None,
        actor: Annotated[str | None, Query(max_length=64)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        start: str | None = None,
        end: str | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[AuditEntryOut]:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "read the audit log")
        if cursor is not None and not cursor.isdigit():
            raise InvalidRequest("cursor: not a cursor this list gave")
        query = query_of(actor, action, camera, start, end, q)
        max_seq = int(cursor) if cursor else None
        rows = deps.audit.entries(**query.filters(), limit=limit, max_seq=max_seq)
        if cursor is None:
            api.gate.witness(
                caller.principal,
                AuditAction.AUDIT_VIEW,
                caller.client,
                detail={k: str(v) for k, v in query.filters().items() if v is not None},
            )
        nxt = str(rows[-1].seq - 1) if len(rows) == limit and rows[-1].seq > 1 else None
        return Page(items=[AuditEntryOut.of(e) for e in rows], next_cursor=nxt)

    @router.get("/audit/export", tags=["audit"], summary="Export a search of the audit log (CSV or JSON lines)")
    def audit_export(
        format: Annotated[str, Query(pattern="^(csv|jsonl)$")] = "csv",
        actor: Annotated[str | None, Query(max_length=64)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        start: str | None = None,
        end: str | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        reason: Annotated[str | None, Query(max_length=500)] = None,
        caller: Caller = Depends(api.auth),
    ) -> StreamingResponse:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "export the audit log")
        query = query_of(actor, action, camera, start, end, q)
        filters = {k: str(v) for k, v in query.filters().items() if v is not None}
        deps.audit.append(
            deps.clock.now_us(),
            caller.username,
            AuditAction.AUDIT_EXPORT,
            client=caller.client,
            reason=(reason or "").strip(),
            detail={"format": format, **filters},
        )
        lines = csv_lines if format == "csv" else jsonl_lines

        def body() -> Iterator[str]:
            yield from lines(search_all(deps.audit, query))

        media = "text/csv" if format == "csv" else "application/x-ndjson"
        name = f"vigil-audit.{format}"
        return StreamingResponse(
            body(), media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    return router
