"""Requests from authorities, in the catalog's database (revision 0009), written through the catalog's one writer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from vigil.domain.authority import AuthorityRequest, RequestKind, RequestState
from vigil.domain.errors import NotFound
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_c = t.authority_requests.c


def _request(row: RowMapping) -> AuthorityRequest:
    values: dict[str, Any] = dict(row)
    values["camera_ids"] = tuple(values["camera_ids"])
    values["kind"] = RequestKind(values["kind"])
    values["state"] = RequestState(values["state"])
    return AuthorityRequest(**values)


def _values(request: AuthorityRequest) -> dict[str, Any]:
    values = asdict(request)
    values.pop("id")
    values["camera_ids"] = list(request.camera_ids)
    values["kind"], values["state"] = str(request.kind), str(request.state)
    return values


class SqlAuthorityRequests:
    """The ``AuthorityRequestStore`` port."""

    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, request: AuthorityRequest) -> AuthorityRequest:
        with self._catalog._write() as conn:
            new_id = conn.execute(insert(t.authority_requests).values(**_values(request))).inserted_primary_key
        assert new_id is not None
        return AuthorityRequest(**{**asdict(request), "id": int(new_id[0]), "camera_ids": request.camera_ids})

    def update(self, request: AuthorityRequest) -> None:
        with self._catalog._write() as conn:
            done = conn.execute(update(t.authority_requests).where(_c.id == request.id).values(**_values(request)))
            if not done.rowcount:
                raise NotFound(f"no authority request {request.id}")

    def get(self, request_id: int) -> AuthorityRequest:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.authority_requests).where(_c.id == request_id)).mappings().first()
        if row is None:
            raise NotFound(f"no authority request {request_id}")
        return _request(row)

    def requests(
        self,
        *,
        start_us: int | None = None,
        end_us: int | None = None,
        state: RequestState | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuthorityRequest]:
        """Received in ``[start_us, end_us)``, newest first."""
        query = select(t.authority_requests)
        if start_us is not None:
            query = query.where(_c.received_us >= start_us)
        if end_us is not None:
            query = query.where(_c.received_us < end_us)
        if state is not None:
            query = query.where(_c.state == str(state))
        query = query.order_by(_c.received_us.desc(), _c.id.desc()).limit(limit).offset(offset)
        with self._catalog._read() as conn:
            return [_request(r) for r in conn.execute(query).mappings()]
