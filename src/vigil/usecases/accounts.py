"""Accounts: users, passwords, grants, browser sessions and API tokens, and the login throttle.

- **No default password.** :meth:`Accounts.ensure_admin` creates ``admin`` with a random one-time password on the
  first run (the caller prints it once); it must be changed at the first login before anything else is allowed.
- **Passwords** are hashed with argon2 (the hasher is injected); at least :data:`MIN_PASSWORD` characters.
- **Sessions**: a login makes a fresh random token (a new one every time: a token planted before the login is
  never promoted, so session fixation fails) and a CSRF token; only the SHA-256 of each is stored. Sessions end
  at ``session_ttl_s`` or at logout; a password change ends all of the user's sessions.
- **API tokens** for integrations, stored hashed like sessions, named, revocable.
- **Vendor accounts** (``vendor`` set) work only within their access window (a visit): outside it the login, the
  session and the API token are refused. A technician's principal gets live view of the cameras of their open
  tickets as grants made afresh at every request (``work_orders``), so the access ends with the ticket.
- **Throttle**: ``max_failures`` failed logins for one user name (from any address) within ``window_s`` lock
  that name for ``lock_s``; a success resets it. The message never says whether the user exists.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vigil.domain.access import Grant, Principal, Role, parse_actions, parse_role
from vigil.domain.errors import Conflict, Forbidden, InvalidRequest, NotFound, Throttled, Unauthenticated
from vigil.domain.records import GrantRecord, SessionRecord, TokenRecord, UserRecord
from vigil.ports import AccountStore, Clock, PasswordHasher

MIN_PASSWORD = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
BAD_LOGIN = "wrong user name or password"
OUTSIDE_WINDOW = "this account may not be used now (outside its access window; ask the site's administrator)"
LANGUAGES = ("en", "zh")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str  # the session cookie's value (shown once, stored only hashed)
    csrf: str
    principal: Principal
    expires_us: int


@dataclass
class _Failures:
    times: list[int] = field(default_factory=list)
    locked_until: int = 0


class Accounts:
    def __init__(
        self,
        store: AccountStore,
        hasher: PasswordHasher,
        clock: Clock,
        *,
        session_ttl_s: float = 12 * 3600,
        max_failures: int = 5,
        window_s: float = 900,
        lock_s: float = 300,
    ) -> None:
        self._store, self._hasher, self._clock = store, hasher, clock
        self._ttl_us = int(session_ttl_s * 1e6)
        self._max_failures, self._window_us, self._lock_us = max_failures, int(window_s * 1e6), int(lock_s * 1e6)
        self._failures: dict[str, _Failures] = {}
        self._dummy: str | None = None  # a hash of a random password, verified against for unknown names
        # a technician's grants, made afresh at every request from their open tickets and their vendor's equipment:
        # (user name, vendor or None) -> grants (the runtime sets it; ``usecases.maintenance_access``)
        self.technician_grants: Callable[[str, str | None], tuple[Grant, ...]] | None = None

    # --- users -------------------------------------------------------------------------------------
    def ensure_admin(self) -> str | None:
        """On the first run (no users at all): create ``admin`` with a one-time password and return it."""
        if self._store.users():
            return None
        password = secrets.token_urlsafe(12)
        self.add_user("admin", Role.ADMIN, password, must_change=True)
        return password

    def users(self) -> list[UserRecord]:
        return self._store.users()

    def add_user(
        self, username: str, role: Role | str, password: str | None = None, *, must_change: bool = True
    ) -> str:
        """Create a user; without a password one is made up (and returned, to be handed over once)."""
        name = username.strip().lower()
        if not USERNAME.match(name):
            raise InvalidRequest(
                f"user name {username!r}: 2-64 of lower-case letters, digits, '.', '_' and '-', starting with a "
                "letter or digit"
            )
        if self._store.user(name) is not None:
            raise Conflict(f"user {name!r} already exists")
        chosen = password if password is not None else secrets.token_urlsafe(12)
        _check_password(chosen)
        try:
            parsed = role if isinstance(role, Role) else parse_role(role)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        record = UserRecord(name, parsed.value, self._hasher.hash(chosen), self._clock.now_us(), must_change)
        self._store.add_user(record)
        return chosen

    def set_role(self, username: str, role: str) -> None:
        self._require(username)
        try:
            self._store.update_user(username, role=parse_role(role).value)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        self._store.remove_sessions(username)  # what they may do changed: log in again

    def set_preferences(self, username: str, *, language: str | None = None, display_name: str | None = None) -> None:
        """What a user chooses for themselves: the console's language (en, zh) and the name shown."""
        self._require(username)
        values: dict[str, str] = {}
        if language is not None:
            if language not in LANGUAGES:
                raise InvalidRequest(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
            values["language"] = language
        if display_name is not None:
            values["display_name"] = display_name.strip()
        if values:
            self._store.update_user(username, **values)

    def user(self, username: str) -> UserRecord:
        return self._require(username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._require(username)
        self._store.update_user(username, disabled=disabled)
        if disabled:
            self._store.remove_sessions(username)

    def set_grants(self, username: str, grants: Sequence[Grant]) -> None:
        self._require(username)
        self._store.set_grants(
            username,
            [
                GrantRecord(
                    username,
                    g.camera_id,
                    g.site,
                    tuple(sorted(a.value for a in g.actions)),
                    g.history_from_us,
                    g.history_until_us,
                )
                for g in grants
            ],
        )

    def set_vendor(
        self, username: str, vendor: str, access_from_us: int | None = None, access_until_us: int | None = None
    ) -> None:
        """Make a user a vendor's account (``vendor`` "" makes it the site's own again), usable only from
        ``access_from_us`` until ``access_until_us`` when given (a visit); their sessions end."""
        self._require(username)
        name = vendor.strip()
        if len(name) > 200:
            raise InvalidRequest("vendor: at most 200 characters")
        if access_from_us is not None and access_until_us is not None and access_until_us <= access_from_us:
            raise InvalidRequest("access_until: must be after access_from")
        self._store.update_user(username, vendor=name, access_from_us=access_from_us, access_until_us=access_until_us)
        self._store.remove_sessions(username)

    def _in_window(self, user: UserRecord) -> bool:
        now = self._clock.now_us()
        if user.access_from_us is not None and now < user.access_from_us:
            return False
        return user.access_until_us is None or now < user.access_until_us

    def principal(self, username: str, *, via_token: bool = False) -> Principal:
        user = self._require(username)
        grants = tuple(
            Grant(
                g.camera_id,
                g.site,
                parse_actions(g.actions),
                g.history_from_us,
                g.history_until_us,
            )
            for g in self._store.grants(username)
        )
        role = Role(user.role)
        vendor = user.vendor or None
        if role is Role.TECHNICIAN and self.technician_grants is not None:
            grants += self.technician_grants(user.username, vendor)
        return Principal(user.username, role, grants, user.must_change_password, via_token, vendor)

    def change_password(self, username: str, old: str, new: str) -> None:
        user = self._require(username)
        if not self._hasher.verify(user.password_hash, old):
            raise Forbidden("the current password is wrong")
        if new == old:
            raise InvalidRequest("the new password must differ from the current one")
        _check_password(new)
        self._store.update_user(username, password_hash=self._hasher.hash(new), must_change_password=False)
        self._store.remove_sessions(username)

    def reset_password(self, username: str) -> str:
        """An admin's reset: a new one-time password, to be changed at the next login."""
        self._require(username)
        password = secrets.token_urlsafe(12)
        self._store.update_user(username, password_hash=self._hasher.hash(password), must_change_password=True)
        self._store.remove_sessions(username)
        return password

    # --- sessions ------------------------------------------------------------------------------------
    def login(self, username: str, password: str, client: str) -> LoginResult:
        name = username.strip().lower()
        now = self._clock.now_us()
        failures = self._failures.setdefault(name, _Failures())
        if failures.locked_until > now:
            wait_s = (failures.locked_until - now + 999_999) // 1_000_000
            raise Throttled(f"too many failed logins for this user name; try again in {wait_s} s")
        user = self._store.user(name)
        # verify even for an unknown user, so that timing does not tell who exists
        hashed = user.password_hash if user is not None else self._dummy_hash()
        ok = self._hasher.verify(hashed, password) and user is not None and not user.disabled
        if ok and user is not None and not self._in_window(user):
            raise Unauthenticated(OUTSIDE_WINDOW)
        if not ok:
            failures.times = [t for t in failures.times if now - t < self._window_us] + [now]
            if len(failures.times) >= self._max_failures:
                failures.locked_until, failures.times = now + self._lock_us, []
            raise Unauthenticated(BAD_LOGIN)
        assert user is not None
        self._failures.pop(name, None)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = now + self._ttl_us
        self._store.add_session(SessionRecord(token_hash(token), user.username, csrf, now, expires, client))
        return LoginResult(token, csrf, self.principal(user.username), expires)

    def session(self, token: str) -> tuple[Principal, SessionRecord]:
        """The principal behind a session cookie, and its session (for the CSRF token)."""
        record = self._store.session(token_hash(token)) if token else None
        if record is None or record.expires_us <= self._clock.now_us():
            if record is not None:
                self._store.remove_session(record.token_hash)
            raise Unauthenticated("not logged in (or the session has ended)")
        user = self._store.user(record.username)
        if user is None or user.disabled:
            raise Unauthenticated("not logged in (or the session has ended)")
        if not self._in_window(user):
            raise Unauthenticated(OUTSIDE_WINDOW)
        return self.principal(user.username), record

    def logout(self, token: str) -> None:
        self._store.remove_session(token_hash(token))

    # --- API tokens ----------------------------------------------------------------------------------
    def issue_token(self, username: str, name: str) -> str:
        self._require(username)
        if not name.strip():
            raise InvalidRequest("an API token needs a name (what uses it)")
        token = "vgl_" + secrets.token_urlsafe(32)
        self._store.add_token(TokenRecord(token_hash(token), username, name.strip(), self._clock.now_us()))
        return token

    def token(self, token: str) -> Principal:
        record = self._store.token(token_hash(token)) if token else None
        user = self._store.user(record.username) if record is not None else None
        if record is None or user is None or user.disabled:
            raise Unauthenticated("unknown or revoked API token")
        if not self._in_window(user):
            raise Unauthenticated(OUTSIDE_WINDOW)
        return self.principal(user.username, via_token=True)

    def revoke_token(self, token: str) -> None:
        self._store.remove_token(token_hash(token))

    # --- helpers -------------------------------------------------------------------------------------
    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _require(self, username: str) -> UserRecord:
        user = self._store.user(username)
        if user is None:
            raise NotFound(f"no user {username!r}")
        return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"a password needs at least {MIN_PASSWORD} characters")
