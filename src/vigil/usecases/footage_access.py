"""The one gate between a person and footage: every camera request is checked against the person's role and
grants, every refusal and every look at footage (live, playback, snapshot, export) is written to the audit log
with the client and the reason given. Playback and export are also held to each camera's purpose limit: footage
older than ``purpose.max_view_age_days`` is refused unless a legal hold covers it.

Privacy masks: :meth:`FootageGate.masks` says which of a camera's masks must be burned into what a person receives
(all of them, unless they may ``view_unmasked`` on it); every look written down says whether it was masked.

A browser asks for the same clip many times (HTTP range requests while it seeks) and for the same snapshot
whenever a page redraws: :class:`FootageGate` writes one entry per person, act, camera, range and reason within
``repeat_s`` (default 10 minutes) instead of flooding the log. Live views are written at start and at stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from vigil.config.models import CameraConfig, Config
from vigil.domain.access import HISTORY_ACTIONS, Action, Principal
from vigil.domain.audit import AuditAction, require_reason
from vigil.domain.errors import Forbidden, NotFound
from vigil.domain.privacy import Masks, masks_for
from vigil.ports import AuditLog, Clock, LegalHolds
from vigil.usecases.legal_holds import purpose_problem

REPEAT_S = 600.0

_ACTION_WORDS = {
    Action.LIVE: "watch live video of",
    Action.PLAYBACK: "play back recordings of",
    Action.EVENTS: "see the events of",
    Action.EXPORT: "export footage of",
    Action.HEALTH: "see the health of",
}


class FootageGate:
    def __init__(
        self,
        config: Callable[[], Config],
        audit: AuditLog,
        clock: Clock,
        repeat_s: float = REPEAT_S,
        holds: LegalHolds | None = None,
    ) -> None:
        self._config, self._audit, self._clock = config, audit, clock  # config: the one in force, when asked
        self._holds = holds
        self._repeat_us = int(repeat_s * 1e6)
        self._recent: dict[tuple[Any, ...], int] = {}
        self._lock = threading.Lock()

    # --- checks ------------------------------------------------------------------------------------------
    def camera(
        self,
        who: Principal,
        action: Action,
        camera_id: str,
        client: str,
        history: tuple[int, int] | None = None,
    ) -> CameraConfig:
        """The camera, if ``who`` may do ``action`` on it (over ``history`` for playback and export). Raises
        Forbidden, written to the audit log, otherwise. An unknown camera is NotFound for an admin and Forbidden
        for everyone else (a refusal does not tell whether a camera exists)."""
        cam = self._config().camera(camera_id)
        if cam is None and who.may(Action.ADMIN):
            raise NotFound(f"no camera with id {camera_id!r}")
        if cam is None or not who.may_on(action, cam.id, cam.site, history):
            self.refused(who, f"{action.value} on camera {camera_id}", client, camera_id, history)
            span = " over that time range" if history is not None and cam is not None else ""
            raise Forbidden(f"you may not {_ACTION_WORDS.get(action, action.value)} camera {camera_id!r}{span}")
        if history is not None and action in HISTORY_ACTIONS:
            self.purpose(who, cam.id, history, client)
        return cam

    def purpose(self, who: Principal, camera_id: str, span: tuple[int, int], client: str) -> None:
        """Forbidden, written down, when the camera's purpose limit closes any of ``span`` and no legal hold
        opens it (``cameras[].purpose.max_view_age_days``; an admin is bound by it too)."""
        if self._holds is None:
            return
        problem = purpose_problem(self._config(), self._holds, camera_id, span[0], span[1], self._clock.now_us())
        if problem is not None:
            self.refused(who, f"footage beyond its purpose limit on camera {camera_id}", client, camera_id, span)
            raise Forbidden(problem)

    def masks(self, who: Principal, cam: CameraConfig) -> Masks:
        """The privacy masks to burn into what ``who`` receives of ``cam`` (none: they see it as recorded)."""
        return masks_for(who, cam.id, cam.site, cam.masks())

    def cameras(self, who: Principal, action: Action) -> list[CameraConfig]:
        """The cameras ``who`` may do ``action`` on, in configuration order."""
        return [c for c in self._config().cameras if who.may_on(action, c.id, c.site)]

    def require(self, who: Principal, action: Action, client: str, what: str) -> None:
        """A camera-less act (the audit log, users, settings): Forbidden, written down, unless the role allows."""
        if not who.may(action):
            self.refused(who, what, client)
            raise Forbidden(f"you may not {what}")

    def refused(
        self,
        who: Principal | str,
        what: str,
        client: str,
        camera_id: str | None = None,
        history: tuple[int, int] | None = None,
    ) -> None:
        actor = who if isinstance(who, str) else who.username
        self._audit.append(
            self._clock.now_us(),
            actor,
            AuditAction.ACCESS_DENIED,
            camera_id=camera_id,
            range_start_us=history[0] if history else None,
            range_end_us=history[1] if history else None,
            client=client,
            detail={"asked": what},
        )

    # --- reasons and the record --------------------------------------------------------------------------
    def reason(self, action: AuditAction, reason: str | None) -> str:
        """The reason, trimmed; InvalidRequest when the site requires one for this act and none was given."""
        return require_reason(action, reason or "", self._config().security.require_reason_for)

    def witness(
        self,
        who: Principal,
        action: AuditAction,
        client: str,
        *,
        camera_id: str | None = None,
        span: tuple[int, int] | None = None,
        reason: str = "",
        detail: Mapping[str, Any] | None = None,
        once: bool = True,
    ) -> None:
        """Write the act to the audit log; with ``once``, an identical act within ``repeat_s`` is not written
        again."""
        now = self._clock.now_us()
        if once:
            key = (who.username, action, camera_id, span, reason, tuple(sorted((detail or {}).items())))
            with self._lock:
                last = self._recent.get(key)
                if last is not None and now - last < self._repeat_us:
                    return
                if len(self._recent) > 10_000:
                    self._recent = {k: v for k, v in self._recent.items() if now - v < self._repeat_us}
                self._recent[key] = now
        self._audit.append(
            now,
            who.username,
            action,
            camera_id=camera_id,
            range_start_us=span[0] if span else None,
            range_end_us=span[1] if span else None,
            client=client,
            reason=reason,
            detail=detail,
        )
