"""Accounts on a real SQLite catalog with real argon2: first-run admin, passwords, the login throttle, sessions
(fresh token at every login, hashed at rest, ended by logout and password change), grants, API tokens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vigil.domain.access import Action, Grant, Role
from vigil.domain.errors import Conflict, Forbidden, InvalidRequest, Throttled, Unauthenticated
from vigil.passwords import Argon2Passwords
from vigil.storage.accounts import SqlAccounts
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.usecases.accounts import Accounts, token_hash


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000_000

    def now_us(self) -> int:
        return self.now


@pytest.fixture
def setup(tmp_path: Path):
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    clock = Clock()
    yield Accounts(SqlAccounts(catalog), Argon2Passwords(), clock, session_ttl_s=3600), clock, tmp_path / "vigil.db"
    catalog.close()


def test_the_first_run_creates_admin_with_a_one_time_password_and_only_once(setup):
    accounts, _, _ = setup
    password = accounts.ensure_admin()
    assert password and len(password) >= 12
    assert accounts.ensure_admin() is None
    result = accounts.login("admin", password, "127.0.0.1")
    assert result.principal.role is Role.ADMIN and result.principal.must_change_password
    accounts.change_password("admin", password, "a much better one")
    assert not accounts.principal("admin").must_change_password


def test_passwords_are_stored_as_argon2_and_sessions_and_tokens_only_hashed(setup):
    accounts, _, db = setup
    accounts.add_user("alice", "operator", "correct horse battery")
    login = accounts.login("Alice", "correct horse battery", "10.0.0.9")
    api = accounts.issue_token("alice", "alarm panel")
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "correct horse battery" not in dump and "$argon2id$" in dump
    assert login.token not in dump and token_hash(login.token) in dump
    assert api not in dump and token_hash(api) in dump
    assert accounts.token(api).via_token and accounts.token(api).username == "alice"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(setup):
    accounts, _, _ = setup
    accounts.add_user("bob", "viewer", "bob's long password")
    with pytest.raises(Unauthenticated) as wrong:
        accounts.login("bob", "not it at all", "1.2.3.4")
    with pytest.raises(Unauthenticated) as unknown:
        accounts.login("nobody", "not it at all", "1.2.3.4")
    assert wrong.value.message == unknown.value.message


def test_five_failures_lock_the_name_for_a_while_and_a_success_resets_the_count(setup):
    accounts, clock, _ = setup
    accounts.add_user("carol", "operator", "carol's long password")
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            accounts.login("carol", "guess", "6.6.6.6")
    accounts.login("carol", "carol's long password", "10.0.0.1")  # resets
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            accounts.login("carol", "guess", "6.6.6.6")
    with pytest.raises(Throttled, match="try again in 300 s"):
        accounts.login("carol", "carol's long password", "10.0.0.1")  # even the right password waits
    clock.now += 301_000_000
    assert accounts.login("carol", "carol's long password", "10.0.0.1").principal.username == "carol"


def test_every_login_is_a_fresh_session_and_logout_or_a_password_change_ends_it(setup):
    accounts, clock, _ = setup
    accounts.add_user("dave", "operator", "dave's long password")
    first = accounts.login("dave", "dave's long password", "a")
    second = accounts.login("dave", "dave's long password", "b")
    assert first.token != second.token and first.csrf != second.csrf
    principal, session = accounts.session(first.token)
    assert principal.username == "dave" and session.csrf == first.csrf
    accounts.logout(first.token)
    with pytest.raises(Unauthenticated):
        accounts.session(first.token)
    accounts.change_password("dave", "dave's long password", "dave's new password")
    with pytest.raises(Unauthenticated):
        accounts.session(second.token)
    third = accounts.login("dave", "dave's new password", "c")
    clock.now += 3601_000_000
    with pytest.raises(Unauthenticated):
        accounts.session(third.token)
    with pytest.raises(Unauthenticated):
        accounts.session("a token nobody issued")


def test_disabling_a_user_ends_their_sessions_and_tokens(setup):
    accounts, _, _ = setup
    accounts.add_user("erin", "operator", "erin's long password")
    login = accounts.login("erin", "erin's long password", "a")
    api = accounts.issue_token("erin", "script")
    accounts.set_disabled("erin", True)
    for check in (lambda: accounts.session(login.token), lambda: accounts.token(api)):
        with pytest.raises(Unauthenticated):
            check()
    with pytest.raises(Unauthenticated):
        accounts.login("erin", "erin's long password", "a")


def test_grants_round_trip_and_decide_what_a_principal_may_do(setup):
    accounts, _, _ = setup
    accounts.add_user("inv", "auditor", "investigator's password")
    accounts.set_grants(
        "inv", [Grant(camera_id="dock", actions=frozenset({Action.PLAYBACK}), history_from_us=10, history_until_us=20)]
    )
    p = accounts.principal("inv")
    assert p.may_on(Action.PLAYBACK, "dock", "north", (11, 19))
    assert not p.may_on(Action.PLAYBACK, "dock", "north", (5, 19))
    assert not p.may_on(Action.PLAYBACK, "gate", "north", (11, 19))
    accounts.set_grants("inv", [])
    assert accounts.principal("inv").grants == ()


def test_bad_input_is_refused_with_the_reason(setup):
    accounts, _, _ = setup
    with pytest.raises(InvalidRequest, match="at least 10 characters"):
        accounts.add_user("frank", "operator", "short")
    with pytest.raises(InvalidRequest, match="user name"):
        accounts.add_user("Frank Smith!", "operator", "a long enough one")
    with pytest.raises(InvalidRequest, match="unknown role"):
        accounts.add_user("frank", "superuser", "a long enough one")
    accounts.add_user("frank", "operator", "a long enough one")
    with pytest.raises(Conflict):
        accounts.add_user("FRANK", "viewer", "a long enough one")
    with pytest.raises(Forbidden):
        accounts.change_password("frank", "wrong current one", "another long one")
    with pytest.raises(InvalidRequest, match="needs a name"):
        accounts.issue_token("frank", "  ")
