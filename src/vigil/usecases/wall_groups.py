"""The live wall's camera groups: each user's own, and shared ones an admin offers to everyone. A group holds only
cameras its maker may watch; a user is shown, of any group, only the cameras they may watch now."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vigil.domain.access import Action, Principal
from vigil.domain.errors import Forbidden, InvalidRequest, NotFound
from vigil.domain.records import WallGroup
from vigil.ports import Clock, WallGroupStore

LAYOUTS = (1, 4, 9, 16)
MAX_CAMERAS = 64
MAX_NAME = 100

# camera id -> may this person watch it live (False for a camera that does not exist)
MayWatch = Callable[[str], bool]


class WallGroups:
    def __init__(self, store: WallGroupStore, clock: Clock) -> None:
        self._store, self._clock = store, clock

    def visible(self, who: Principal, may_watch: MayWatch) -> list[WallGroup]:
        """The groups offered to ``who`` (their own and the shared ones), each with only the cameras they may
        watch; a shared group with none of those is left out."""
        out = []
        for group in self._store.groups(who.username):
            cameras = tuple(c for c in group.cameras if may_watch(c))
            if cameras or group.owner == who.username:
                out.append(WallGroup(group.owner, group.name, cameras, group.layout, group.shared, group.updated_us))
        return out

    def save(
        self, who: Principal, name: str, cameras: Sequence[str], layout: int, shared: bool, may_watch: MayWatch
    ) -> WallGroup:
        text = name.strip()
        if not text or len(text) > MAX_NAME or any(ord(ch) < 32 for ch in text):
            raise InvalidRequest(f"name: 1 to {MAX_NAME} printable characters")
        if layout not in LAYOUTS:
            raise InvalidRequest(f"layout: one of {', '.join(map(str, LAYOUTS))} tiles")
        if not cameras or len(cameras) > MAX_CAMERAS:
            raise InvalidRequest(f"cameras: 1 to {MAX_CAMERAS} camera ids")
        if len(set(cameras)) != len(cameras):
            raise InvalidRequest("cameras: a camera is listed twice")
        for camera_id in cameras:
            if not may_watch(camera_id):
                raise InvalidRequest(f"cameras: {camera_id!r} is not a camera you may watch")
        if shared and not who.may(Action.ADMIN):
            raise Forbidden("only an admin may share a group with everyone")
        group = WallGroup(who.username, text, tuple(cameras), layout, shared, self._clock.now_us())
        self._store.save(group)
        return group

    def remove(self, who: Principal, name: str, owner: str | None = None) -> None:
        """Remove one's own group; an admin may remove another user's shared group by naming its owner."""
        owner = owner or who.username
        if owner != who.username and not who.may(Action.ADMIN):
            raise Forbidden("you may remove only your own groups")
        if owner != who.username and not any(
            g.owner == owner and g.name == name and g.shared for g in self._store.groups(who.username)
        ):
            raise NotFound(f"no shared group {name!r} of {owner!r}")
        if not self._store.remove(owner, name):
            raise NotFound(f"no group named {name!r}")
