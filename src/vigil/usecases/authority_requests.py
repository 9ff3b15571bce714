"""The desk that handles requests from authorities: recorded, decided by an admin, fulfilled as an evidence
package (which places a legal hold and starts the chain of custody), or withdrawn; every step in the audit log.
A report lists the requests received in a period with what became of them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from vigil.config.models import Config
from vigil.domain.audit import AuditAction
from vigil.domain.authority import AuthorityRequest, RequestState, checked, moved
from vigil.domain.evidence import EvidenceRequest
from vigil.domain.timeutil import iso_from_us
from vigil.ports import AuditLog, AuthorityRequestStore, Clock
from vigil.usecases.evidence import EvidenceExporter, ExportResult, new_package_id
from vigil.usecases.playback import require_camera

REPORT_COLUMNS = (
    "id", "received", "authority", "officer", "officer_id", "reference", "legal_basis", "kind", "cameras", "start",
    "end", "deadline", "state", "decided_by", "decided", "decision_reason", "fulfilled", "package_id", "overdue",
)  # fmt: skip


class AuthorityDesk:
    def __init__(
        self,
        store: AuthorityRequestStore,
        audit: AuditLog,
        clock: Clock,
        config: Callable[[], Config],
        exporter: EvidenceExporter | None = None,
        packages: Path | None = None,
    ) -> None:
        self.store, self._audit, self._clock, self._config = store, audit, clock, config
        self._exporter, self._packages = exporter, packages

    def record(self, request: AuthorityRequest, *, client: str = "") -> AuthorityRequest:
        """Record a request as received (``recorded_by`` is who took it down)."""
        new = checked(replace(request, id=0, state=RequestState.RECEIVED))
        for camera_id in new.camera_ids:
            require_camera(self._config(), camera_id)
        stored = self.store.add(new)
        self._log(stored, new.recorded_by, client, "received", stored.notes)
        return stored

    def decide(
        self, request_id: int, approve: bool, by: str, reason: str = "", *, client: str = ""
    ) -> AuthorityRequest:
        to = RequestState.APPROVED if approve else RequestState.REFUSED
        done = moved(self.store.get(request_id), to, by, self._clock.now_us(), reason)
        self.store.update(done)
        self._log(done, by, client, str(to), done.decision_reason)
        return done

    def withdraw(self, request_id: int, by: str, reason: str, *, client: str = "") -> AuthorityRequest:
        done = moved(self.store.get(request_id), RequestState.WITHDRAWN, by, self._clock.now_us(), reason)
        self.store.update(done)
        self._log(done, by, client, "withdrawn", done.closed_reason)
        return done

    def fulfil(
        self, request_id: int, by: str, *, client: str = "", unmasked: bool = False
    ) -> tuple[AuthorityRequest, ExportResult]:
        """Fulfil an approved request with an evidence package of its cameras and range (a legal hold on the
        footage, a custody chain naming the authority as recipient, the request itself among the records). The
        cameras' privacy masks are burned in unless ``unmasked`` (the caller has checked that ``by`` may see the
        original pictures: an authority's order may require them)."""
        if self._exporter is None or self._packages is None:
            raise RuntimeError("this desk makes no evidence packages")
        request = self.store.get(request_id)
        moved(request, RequestState.FULFILLED, by, 0)  # refused now, before any work, if it cannot be fulfilled
        package_id = new_package_id(self._clock.now_us())
        self._packages.mkdir(parents=True, exist_ok=True)
        export = EvidenceRequest(
            camera_ids=request.camera_ids,
            start_us=request.start_us,
            end_us=request.end_us,
            reason=f"authority request {request.id}: {request.legal_basis}"
            + (f" (ref. {request.reference})" if request.reference else ""),
            recipient=", ".join(p for p in (request.authority, request.officer, request.officer_id) if p),
            requested_by=by,
            client=client,
            records={"authority_request": document(request)},
            unmasked=unmasked,
        )
        made = self._exporter.export(export, self._packages / f"{package_id}.zip", package_id=package_id)
        done = replace(moved(request, RequestState.FULFILLED, by, self._clock.now_us()), package_id=package_id)
        self.store.update(done)
        self._log(done, by, client, "fulfilled", f"evidence package {package_id}")
        return done, made

    def requests(self, **filters: Any) -> list[AuthorityRequest]:
        return self.store.requests(**filters)

    def in_period(self, start_us: int, end_us: int) -> list[AuthorityRequest]:
        """Every request received in ``[start_us, end_us)``, oldest first."""
        out: list[AuthorityRequest] = []
        while True:
            page = self.store.requests(start_us=start_us, end_us=end_us, limit=1000, offset=len(out))
            out += page
            if len(page) < 1000:
                return sorted(out, key=lambda r: (r.received_us, r.id))

    def _log(self, request: AuthorityRequest, actor: str, client: str, change: str, reason: str) -> None:
        for camera_id in request.camera_ids:
            self._audit.append(
                self._clock.now_us(),
                actor,
                AuditAction.AUTHORITY_REQUEST,
                camera_id=camera_id,
                range_start_us=request.start_us,
                range_end_us=request.end_us,
                client=client,
                reason=reason,
                detail={
                    "request": request.id,
                    "change": change,
                    "authority": request.authority,
                    "reference": request.reference,
                    **({"package": request.package_id} if request.package_id else {}),
                },
            )


def document(request: AuthorityRequest) -> dict[str, Any]:
    """The request as a JSON document (an evidence package's record, the API's answer)."""
    doc = asdict(request)
    doc["camera_ids"] = list(request.camera_ids)
    doc["kind"], doc["state"] = str(request.kind), str(request.state)
    for name in ("received", "start", "end", "deadline", "decided", "fulfilled"):
        value = doc.get(f"{name}_us")
        doc[name] = iso_from_us(value) if value is not None else None
    return doc


def report_rows(requests: Sequence[AuthorityRequest], now_us: int) -> Iterator[list[str]]:
    def when(us: int | None) -> str:
        return iso_from_us(us) if us is not None else ""

    for r in requests:
        yield [
            str(r.id), when(r.received_us), r.authority, r.officer, r.officer_id, r.reference, r.legal_basis,
            str(r.kind), " ".join(r.camera_ids), when(r.start_us), when(r.end_us), when(r.deadline_us), str(r.state),
            r.decided_by, when(r.decided_us), r.decision_reason, when(r.fulfilled_us), r.package_id,
            "yes" if r.overdue(now_us) else "",
        ]  # fmt: skip


def report_csv(requests: Sequence[AuthorityRequest], now_us: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(report_rows(requests, now_us))
    return out.getvalue()
