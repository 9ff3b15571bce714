"""What the API needs, injected by the runtime (the API never builds adapters itself)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigil.config.models import Config
from vigil.ports import AuditLog, Catalog, Clock, LiveFeed, SegmentStore
from vigil.usecases.accounts import Accounts
from vigil.usecases.event_bus import EventBus
from vigil.usecases.notifications import Outbox


@dataclass(frozen=True, slots=True)
class ClipFile:
    path: Path  # a finished MP4
    start_us: int  # the instant of its first frame (the keyframe at or before the start asked for)


# (camera_id, stream, start_us, end_us) -> the clip
ClipMaker = Callable[[str, str, int, int], ClipFile]


@dataclass(frozen=True)
class ApiDeps:
    config: Config
    catalog: Catalog
    store: SegmentStore
    clock: Clock
    make_clip: ClipMaker
    accounts: Accounts
    audit: AuditLog
    snapshots: Path | None = None  # the folder event snapshots are written under
    bus: EventBus | None = None  # new events, for the live event stream
    live: LiveFeed | None = None  # live video for viewers; None when live view is off
    outbox: Outbox | None = None  # notifications and their delivery attempts; None: the node sends none
