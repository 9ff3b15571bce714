"""Users, grants, sessions and API tokens in the catalog's database (tables of revision 0003).

``SqlAccounts`` shares the :class:`~vigil.storage.catalog.SqlCatalog`'s engine and its one writer lock, so the
database keeps a single writer whichever part writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping

from vigil.domain.records import GrantRecord, SessionRecord, TokenRecord, UserRecord
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

USER_FIELDS = {
    "role",
    "password_hash",
    "must_change_password",
    "disabled",
    "display_name",
    "language",
    "vendor",
    "access_from_us",
    "access_until_us",
}


def _user(row: RowMapping) -> UserRecord:
    return UserRecord(
        username=row["username"],
        role=row["role"],
        password_hash=row["password_hash"],
        created_us=row["created_us"],
        must_change_password=bool(row["must_change_password"]),
        disabled=bool(row["disabled"]),
        display_name=row["display_name"],
        language=row["language"],
        vendor=row["vendor"] or "",
        access_from_us=row["access_from_us"],
        access_until_us=row["access_until_us"],
    )


class SqlAccounts:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    # --- users -------------------------------------------------------------------------------------
    def user(self, username: str) -> UserRecord | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).mappings().first()
            return _user(row) if row else None

    def users(self) -> list[UserRecord]:
        with self._catalog._read() as conn:
            return [_user(r) for r in conn.execute(select(t.users).order_by(t.users.c.username)).mappings()]

    def add_user(self, user: UserRecord) -> None:
        with self._catalog._write() as conn:
            conn.execute(
                insert(t.users).values(
                    username=user.username,
                    role=user.role,
                    password_hash=user.password_hash,
                    created_us=user.created_us,
                    must_change_password=user.must_change_password,
                    disabled=user.disabled,
                    display_name=user.display_name,
                    language=user.language,
                    vendor=user.vendor,
                    access_from_us=user.access_from_us,
                    access_until_us=user.access_until_us,
                )
            )

    def update_user(self, username: str, **values: Any) -> None:
        unknown = set(values) - USER_FIELDS
        if unknown:
            raise ValueError(f"not a user field: {', '.join(sorted(unknown))}")
        with self._catalog._write() as conn:
            conn.execute(update(t.users).where(t.users.c.username == username).values(**values))

    # --- grants ------------------------------------------------------------------------------------
    def grants(self, username: str) -> list[GrantRecord]:
        c = t.grants.c
        with self._catalog._read() as conn:
            rows = conn.execute(select(t.grants).where(c.username == username).order_by(c.id)).mappings()
            return [
                GrantRecord(
                    r["username"],
                    r["camera_id"],
                    r["site"],
                    tuple(a for a in r["actions"].split(",") if a),
                    r["history_from_us"],
                    r["history_until_us"],
                )
                for r in rows
            ]

    def set_grants(self, username: str, grants: Sequence[GrantRecord]) -> None:
        """Replace the user's grants, in one transaction."""
        with self._catalog._write() as conn:
            conn.execute(delete(t.grants).where(t.grants.c.username == username))
            for g in grants:
                conn.execute(
                    insert(t.grants).values(
                        username=username,
                        camera_id=g.camera_id,
                        site=g.site,
                        actions=",".join(g.actions),
                        history_from_us=g.history_from_us,
                        history_until_us=g.history_until_us,
                    )
                )

    # --- sessions ----------------------------------------------------------------------------------
    def add_session(self, session: SessionRecord) -> None:
        with self._catalog._write() as conn:
            conn.execute(delete(t.sessions).where(t.sessions.c.expires_us <= session.created_us))  # tidy up
            conn.execute(
                insert(t.sessions).values(
                    token_hash=session.token_hash,
                    username=session.username,
                    csrf=session.csrf,
                    created_us=session.created_us,
                    expires_us=session.expires_us,
                    client=session.client,
                )
            )

    def session(self, token_hash: str) -> SessionRecord | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.sessions).where(t.sessions.c.token_hash == token_hash)).mappings().first()
            return SessionRecord(**row) if row else None

    def remove_session(self, token_hash: str) -> None:
        with self._catalog._write() as conn:
            conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == token_hash))

    def remove_sessions(self, username: str) -> None:
        with self._catalog._write() as conn:
            conn.execute(delete(t.sessions).where(t.sessions.c.username == username))

    # --- API tokens --------------------------------------------------------------------------------
    def add_token(self, token: TokenRecord) -> None:
        with self._catalog._write() as conn:
            conn.execute(
                insert(t.api_tokens).values(
                    token_hash=token.token_hash, username=token.username, name=token.name, created_us=token.created_us
                )
            )

    def token(self, token_hash: str) -> TokenRecord | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)).mappings().first()
            return TokenRecord(**row) if row else None

    def remove_token(self, token_hash: str) -> None:
        with self._catalog._write() as conn:
            conn.execute(delete(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash))
