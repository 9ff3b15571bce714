"""Who may do what, where, and over which stretch of history. Pure: no I/O, no clock.

A user has one :class:`Role` (which kinds of things they do) and :class:`Grant` s (where, and for video history
when). An admin may do everything everywhere. Everyone else needs both: the action among their role's (or
added by a grant, e.g. playback for an auditor on one camera) and a grant covering the camera (by id, by site,
or every camera). A grant may bound the history it opens: playback and export of a range outside
``history_from_us`` .. ``history_until_us`` are refused (live view is not history and is not bounded).

- **admin**: everything, including users, permissions, settings.
- **operator**: live, playback, events, export, health on granted cameras.
- **viewer**: live and health on granted cameras.
- **auditor**: the audit log and reports (and the maintenance records, read only); no video unless a grant adds it.
- **technician**: camera health, the equipment register, tickets and inspections; live pictures only of the cameras
  of the open tickets given to them (or to their vendor), with privacy masks burned in, and never an export. A
  *vendor account* (a user with ``vendor`` set) sees only that vendor's equipment and tickets, and only within its
  access window.

``view_unmasked`` is the one camera action no role but admin has: without it, a camera's privacy masks are burned
into every picture the person receives (live, playback, clips, snapshots, exports). A grant's extra actions give it
on the grant's cameras only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    AUDITOR = "auditor"
    TECHNICIAN = "technician"


class Action(StrEnum):
    LIVE = "live"
    PLAYBACK = "playback"  # recorded video, timeline, clips, segments
    EVENTS = "events"  # events and their snapshots
    EXPORT = "export"
    HEALTH = "health"
    AUDIT = "audit"  # read and export the audit log
    REPORTS = "reports"
    ADMIN = "admin"  # users, permissions, settings
    VIEW_UNMASKED = "view_unmasked"  # see footage without the camera's privacy masks (admins; others by a grant)
    MAINTENANCE = "maintenance"  # the equipment register, tickets and inspections: open, work, resolve


CAMERA_ACTIONS = frozenset(
    {Action.LIVE, Action.PLAYBACK, Action.EVENTS, Action.EXPORT, Action.HEALTH, Action.VIEW_UNMASKED}
)
HISTORY_ACTIONS = frozenset({Action.PLAYBACK, Action.EXPORT})

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.OPERATOR: frozenset(
        {Action.LIVE, Action.PLAYBACK, Action.EVENTS, Action.EXPORT, Action.HEALTH, Action.MAINTENANCE}
    ),
    Role.VIEWER: frozenset({Action.LIVE, Action.HEALTH}),
    Role.AUDITOR: frozenset({Action.AUDIT, Action.REPORTS, Action.HEALTH}),
    Role.TECHNICIAN: frozenset({Action.HEALTH, Action.MAINTENANCE}),
}
NEVER: dict[Role, frozenset[Action]] = {  # what no grant can give a role
    Role.TECHNICIAN: frozenset({Action.EXPORT, Action.VIEW_UNMASKED, Action.PLAYBACK, Action.AUDIT, Action.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Opens cameras to a user: one camera (``camera_id``), a site (``site``), or all (both None)."""

    camera_id: str | None = None
    site: str | None = None
    actions: frozenset[Action] = frozenset()  # added to the role's, on these cameras only
    history_from_us: int | None = None  # playback/export only of footage from ...
    history_until_us: int | None = None  # ... until (UTC microseconds)

    def covers(self, camera_id: str, site: str) -> bool:
        if self.camera_id is not None:
            return self.camera_id == camera_id
        if self.site is not None:
            return self.site == site
        return True

    def opens_history(self, start_us: int, end_us: int) -> bool:
        if self.history_from_us is not None and start_us < self.history_from_us:
            return False
        return self.history_until_us is None or end_us <= self.history_until_us


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user as access checks see them."""

    username: str
    role: Role
    grants: tuple[Grant, ...] = ()
    must_change_password: bool = False
    via_token: bool = False  # an API token rather than a browser session (no CSRF check)
    vendor: str | None = None  # a vendor's account: only that vendor's equipment and tickets

    def may(self, action: Action) -> bool:
        """May they do this kind of thing at all (somewhere)?"""
        if self.role is Role.ADMIN or action in ROLE_ACTIONS[self.role]:
            return True
        if action in NEVER.get(self.role, frozenset()):
            return False
        return any(action in g.actions for g in self.grants)

    def may_on(self, action: Action, camera_id: str, site: str, history: tuple[int, int] | None = None) -> bool:
        """May they do ``action`` on this camera (and, for playback and export, over ``history``)?"""
        if self.role is Role.ADMIN:
            return True
        if action not in CAMERA_ACTIONS or action in NEVER.get(self.role, frozenset()):
            return False
        for grant in self.grants:
            if not grant.covers(camera_id, site):
                continue
            if action not in ROLE_ACTIONS[self.role] and action not in grant.actions:
                continue
            if history is not None and action in HISTORY_ACTIONS and not grant.opens_history(*history):
                continue
            return True
        return False

    def cameras(self, action: Action, cameras: Iterable[tuple[str, str]]) -> list[str]:
        """The ids among ``(camera_id, site)`` pairs on which they may do ``action``."""
        return [cid for cid, site in cameras if self.may_on(action, cid, site)]


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise ValueError(f"unknown role {text!r} (roles: {', '.join(r.value for r in Role)})") from None


def parse_actions(texts: Sequence[str]) -> frozenset[Action]:
    out = set()
    for text in texts:
        try:
            out.add(Action(text))
        except ValueError:
            raise ValueError(f"unknown action {text!r} (actions: {', '.join(a.value for a in Action)})") from None
    return frozenset(out)
