"""Who is asking: a browser session (cookie) or an API token (``Authorization: Bearer vgl_...``).

- The session cookie is HttpOnly and SameSite=Strict (Secure over HTTPS); its value is only ever made by a
  login, so a token planted in a browser before login is never promoted (session fixation).
- A state-changing request made with the cookie must carry the session's CSRF token in ``X-CSRF-Token``, and
  when the browser says where it comes from (``Origin``), that must be this server. Bearer tokens are not sent
  by browsers on their own and need neither.
- Until a user with a one-time password has chosen their own, only their account endpoints answer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from vigil.domain.access import Principal
from vigil.domain.errors import Forbidden, Unauthenticated
from vigil.usecases.accounts import Accounts

SESSION_COOKIE = "vigil_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# what a user who must change their one-time password may still reach
PASSWORD_CHANGE_PATHS = frozenset({"/api/v1/me", "/api/v1/me/password", "/api/v1/session"})


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    client: str  # the peer's address, as the audit log records it
    csrf: str = ""  # the session's CSRF token (empty for API tokens)
    session: str = ""  # the session cookie's value (empty for API tokens)

    @property
    def username(self) -> str:
        return self.principal.username


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else "unknown"


def same_origin(conn: HTTPConnection) -> bool:
    """False when the browser says the request comes from another site (``Origin`` not this host)."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    host = conn.headers.get("host", "")
    return urlsplit(origin).netloc == host


class Authenticator:
    """The FastAPI dependency that turns a request into a :class:`Caller` (or a 401/403 JSON error)."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def __call__(self, conn: HTTPConnection) -> Caller:
        caller = self.identify(conn)
        if caller.principal.must_change_password and conn.url.path not in PASSWORD_CHANGE_PATHS:
            raise Forbidden("change your one-time password first (POST /api/v1/me/password)")
        return caller

    def identify(self, conn: HTTPConnection) -> Caller:
        method = conn.scope.get("method", "GET")  # a WebSocket handshake is a GET
        auth = conn.headers.get("authorization", "")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("Authorization must be 'Bearer <API token>'")
            return Caller(self.accounts.token(token.strip()), client_address(conn))
        token = conn.cookies.get(SESSION_COOKIE, "")
        if not token:
            raise Unauthenticated("not logged in")
        principal, session = self.accounts.session(token)
        if not same_origin(conn):
            raise Forbidden("a request from another site was refused")
        if method not in SAFE_METHODS:
            sent = conn.headers.get(CSRF_HEADER, "")
            if not sent or not secrets.compare_digest(sent, session.csrf):
                raise Forbidden(f"missing or wrong CSRF token (send the session's token in {CSRF_HEADER})")
        return Caller(principal, client_address(conn), session.csrf, token)

    def optional(self, conn: HTTPConnection) -> Caller | None:
        """The caller of a page, or None when not logged in (the page then sends them to the login)."""
        try:
            return self.identify(conn)
        except (Unauthenticated, Forbidden):
            return None
