"""Early deletion requests, in the catalog's database (revision 0018), written through the catalog's one writer."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from vigil.domain.early_deletion import DeletionRequest, DeletionState
from vigil.domain.errors import NotFound
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_c = t.deletion_requests.c


def _request(row: RowMapping) -> DeletionRequest:
    values: dict[str, Any] = dict(row)
    values["state"] = DeletionState(values["state"])
    return DeletionRequest(**values)


def _values(request: DeletionRequest) -> dict[str, Any]:
    values = asdict(request)
    values.pop("id")
    values["state"] = str(request.state)
    return values


class SqlDeletionRequests:
    """The ``DeletionRequestStore`` port."""

    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, request: DeletionRequest) -> DeletionRequest:
        with self._catalog._write() as conn:
            new_id = conn.execute(insert(t.deletion_requests).values(**_values(request))).inserted_primary_key
        assert new_id is not None
        return replace(request, id=int(new_id[0]))

    def update(self, request: DeletionRequest) -> None:
        with self._catalog._write() as conn:
            done = conn.execute(update(t.deletion_requests).where(_c.id == request.id).values(**_values(request)))
            if not done.rowcount:
                raise NotFound(f"no deletion request {request.id}")

    def get(self, request_id: int) -> DeletionRequest:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.deletion_requests).where(_c.id == request_id)).mappings().first()
        if row is None:
            raise NotFound(f"no deletion request {request_id}")
        return _request(row)

    def requests(
        self, *, state: DeletionState | None = None, limit: int = 100, offset: int = 0
    ) -> list[DeletionRequest]:
        """Newest first."""
        query = select(t.deletion_requests)
        if state is not None:
            query = query.where(_c.state == str(state))
        query = query.order_by(_c.id.desc()).limit(limit).offset(offset)
        with self._catalog._read() as conn:
            return [_request(r) for r in conn.execute(query).mappings()]

    def approved_between(self, start_us: int, end_us: int) -> list[DeletionRequest]:
        """Approved (so carried out) in ``[start_us, end_us)``, oldest first."""
        query = select(t.deletion_requests).where(
            _c.state == str(DeletionState.APPROVED), _c.decided_us >= start_us, _c.decided_us < end_us
        )
        with self._catalog._read() as conn:
            return [_request(r) for r in conn.execute(query.order_by(_c.decided_us, _c.id)).mappings()]
