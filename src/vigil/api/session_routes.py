"""Logging in and out, and the account of the person logged in (``/api/v1/session``, ``/api/v1/me``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from vigil.api.account_schemas import LoginIn, MeOut, PasswordIn, PreferencesIn
from vigil.api.auth import SESSION_COOKIE, Caller, client_address, same_origin
from vigil.api.context import Api
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import Forbidden, Throttled, Unauthenticated

SESSION_PATH = "/"


def me_of(api: Api, caller: Caller) -> MeOut:
    who = caller.principal
    may = [a.value for a in Action if who.may(a)]
    return MeOut.of(who, api.deps.accounts.user(who.username), caller.csrf, may)


def set_session_cookie(request: Request, response: Response, token: str, max_age_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path=SESSION_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def session_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["session"])
    deps = api.deps

    @router.post("/session", response_model=MeOut, summary="Log in (sets the session cookie)")
    def login(body: LoginIn, request: Request, response: Response) -> MeOut:
        client = client_address(request)
        if not same_origin(request):
            api.gate.refused(body.username.strip().lower() or "?", "log in from another site", client)
            raise Forbidden("a login from another site was refused")
        old = request.cookies.get(SESSION_COOKIE)
        try:
            result = deps.accounts.login(body.username, body.password, client)
        except (Unauthenticated, Throttled) as exc:
            deps.audit.append(
                deps.clock.now_us(),
                body.username.strip().lower() or "?",
                AuditAction.LOGIN_FAILED,
                client=client,
                detail={"why": exc.message},
            )
            raise
        if old:
            deps.accounts.logout(old)  # whatever the browser held before is ended, never promoted
        deps.audit.append(deps.clock.now_us(), result.principal.username, AuditAction.LOGIN, client=client)
        max_age = max(1, (result.expires_us - deps.clock.now_us()) // 1_000_000)
        set_session_cookie(request, response, result.token, max_age)
        return me_of(api, Caller(result.principal, client, result.csrf, result.token))

    @router.delete("/session", status_code=204, summary="Log out (ends the session)")
    def logout(caller: Caller = Depends(api.auth)) -> Response:
        if caller.session:
            deps.accounts.logout(caller.session)
        deps.audit.append(deps.clock.now_us(), caller.username, AuditAction.LOGOUT, client=caller.client)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path=SESSION_PATH, httponly=True, samesite="strict")
        return response

    @router.get("/me", response_model=MeOut, summary="Who is logged in, their role and grants")
    def me(caller: Caller = Depends(api.auth)) -> MeOut:
        return me_of(api, caller)

    @router.post("/me/password", status_code=204, summary="Change one's own password (ends every session)")
    def password(body: PasswordIn, caller: Caller = Depends(api.auth)) -> Response:
        deps.accounts.change_password(caller.username, body.current, body.new)
        deps.audit.append(
            deps.clock.now_us(),
            caller.username,
            AuditAction.PASSWORD_CHANGE,
            client=caller.client,
            detail={"user": caller.username, "how": "own"},
        )
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path=SESSION_PATH, httponly=True, samesite="strict")
        return response

    @router.patch("/me", response_model=MeOut, summary="One's own language and display name")
    def preferences(body: PreferencesIn, caller: Caller = Depends(api.auth)) -> MeOut:
        deps.accounts.set_preferences(caller.username, language=body.language, display_name=body.display_name)
        return me_of(api, caller)

    return router
