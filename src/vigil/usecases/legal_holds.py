"""Placing and lifting legal holds (each written to the audit log), and the purpose limit they open.

Retention reads the active holds at every sweep (``vigil.usecases.retention``) and the catalog checks them again
when it marks a segment for deletion, so a held segment is never deleted by any rule. Who may place or lift a
hold is decided by the caller (the API: admins; the command line: whoever runs Vigil's commands on the node).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.config.models import Config
from vigil.domain.audit import AuditAction
from vigil.domain.errors import Forbidden, NotFound
from vigil.domain.holds import LegalHold, beyond_purpose, check_hold
from vigil.domain.timeutil import iso_from_us
from vigil.ports import AuditLog, Clock, LegalHolds


class HoldClerk:
    """Places and lifts holds and records both acts in the audit log (action ``legal_hold``)."""

    def __init__(self, holds: LegalHolds, audit: AuditLog, clock: Clock) -> None:
        self.holds, self._audit, self._clock = holds, audit, clock

    def place(
        self,
        camera_id: str,
        start_us: int,
        end_us: int,
        *,
        by: str,
        reason: str,
        client: str,
        actor: str | None = None,
        package_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> LegalHold:
        """Hold a camera's footage over ``[start_us, end_us)``. ``by`` is the person named on the hold, ``actor``
        the audit log's actor (default: ``by``). InvalidRequest without a range, a person or a reason."""
        why = check_hold(camera_id, start_us, end_us, by, reason)
        hold = self.holds.place(camera_id, start_us, end_us, self._clock.now_us(), by.strip(), why, package_id)
        self._record(hold, "placed", actor or hold.placed_by, client, why, detail)
        return hold

    def lift(
        self,
        hold_id: int,
        *,
        by: str,
        reason: str,
        client: str,
        actor: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> LegalHold:
        """Lift a hold; retention treats its footage by the rules again from the next sweep. NotFound, Conflict
        (lifted already) or InvalidRequest (no reason)."""
        hold = self.holds.hold(hold_id)
        if hold is None:
            raise NotFound(f"no legal hold with id {hold_id}")
        why = check_hold(hold.camera_id, hold.start_us, hold.end_us, by, reason)
        lifted = self.holds.lift(hold_id, self._clock.now_us(), by.strip(), why)
        self._record(lifted, "lifted", actor or by.strip(), client, why, detail)
        return lifted

    def _record(
        self, hold: LegalHold, change: str, actor: str, client: str, reason: str, detail: Mapping[str, Any] | None
    ) -> None:
        self._audit.append(
            self._clock.now_us(),
            actor,
            AuditAction.LEGAL_HOLD,
            camera_id=hold.camera_id,
            range_start_us=hold.start_us,
            range_end_us=hold.end_us,
            client=client,
            reason=reason,
            detail={**(detail or {}), "change": change, "hold": hold.id, "by": hold.lifted_by or hold.placed_by}
            | ({"package": hold.package_id} if hold.package_id else {}),
        )


def purpose_problem(
    config: Config, holds: LegalHolds, camera_id: str, start_us: int, end_us: int, now_us: int
) -> str | None:
    """Why ``[start_us, end_us)`` of a camera may not be viewed or exported under its purpose limit
    (``cameras[].purpose.max_view_age_days``), or None when it may: older footage needs a legal hold over it."""
    cam = config.camera(camera_id)
    limit = cam.purpose.max_view_age_days if cam is not None else None
    if limit is None:
        return None
    covering = holds.covering(camera_id, start_us, end_us)
    stretch = beyond_purpose(camera_id, start_us, end_us, now_us, limit, covering)
    if stretch is None:
        return None
    return (
        f"footage of camera {camera_id!r} older than {limit:g} days ({iso_from_us(stretch[0])} to "
        f"{iso_from_us(stretch[1])}) may be viewed or exported only under a legal hold; ask an admin to place one"
    )


def check_purpose(config: Config, holds: LegalHolds, camera_id: str, start_us: int, end_us: int, now_us: int) -> None:
    """Forbidden (with the reason) when the purpose limit closes any of the range."""
    problem = purpose_problem(config, holds, camera_id, start_us, end_us, now_us)
    if problem is not None:
        raise Forbidden(problem)
